// Change propagation on PostgreSQL (issue 4): one `originpull api` and three `originpull edge`
// processes (--workers 0) on a fresh schema of a real PostgreSQL; N sequential writes through the
// API (PATCH of a DNS record's origin port, each one config version); for each write, the time
// from sending it until
//   - applied: every edge's /healthz reports a snapshot at or past its version;
//   - reported: every edge's report of it is in the registry (what `active` waits for).
// Target (issue 4): a change is applied on every live edge within 1 s.
//
//   npx node bench/propagation.ts [--writes 200] [--gap-ms 50] [--pg postgres://…/test]
//
// Prints a table and one JSON line. The schema is dropped at the end.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import {
  newSecretKey,
  newToken,
  probePostgres,
  sleep,
  startApi,
  startEdge,
  TestSchema,
  type EdgeProcess,
  type NodeProcess,
} from '../test/scale/harness.ts';

const { values } = parseArgs({
  options: {
    writes: { type: 'string', default: '200' },
    'gap-ms': { type: 'string', default: '50' },
    pg: { type: 'string' },
  },
});
if (values.pg) process.env.ORIGINPULL_TEST_PG = values.pg;
const WRITES = Number(values.writes);
const GAP_MS = Number(values['gap-ms']);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

async function appliedVersion(edge: EdgeProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${edge.ports.metrics}/healthz`);
  return ((await res.json()) as { appliedVersion: number }).appliedVersion;
}

async function main(): Promise<void> {
  const unreachable = await probePostgres();
  if (unreachable) {
    console.error(`propagation bench: ${unreachable}`);
    process.exit(2);
  }
  const schema = new TestSchema();
  const secretKey = newSecretKey();
  const procs: NodeProcess[] = [];
  const dirs: string[] = [];
  try {
    const { node, api } = await startApi('api', { store: schema.url(), secretKey, token: newToken() });
    procs.push(node);
    const edges = await Promise.all(
      ['edge-1', 'edge-2', 'edge-3'].map((name) => {
        const dataDir = mkdtempSync(join(tmpdir(), `originpull-bench-${name}-`));
        dirs.push(dataDir);
        return startEdge(name, { store: schema.url(), secretKey, dataDir });
      }),
    );
    procs.push(...edges);
    const zone = await api.ok<{ id: string }>('POST', '/zones', { name: 'propagation.bench' });
    const record = await api.ok<{ id: string }>('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: 'www.propagation.bench', content: '127.0.0.1' });
    const registryVersion = async () =>
      Number((await schema.query<{ v: string | null }>('SELECT min(applied_version) AS v FROM edges'))[0].v ?? 0);
    // Warm-up: every process has its JIT and connections ready.
    for (let i = 0; i < 10; i++) await api.ok('PATCH', `/zones/${zone.id}/dns_records/${record.id}`, { origin_http_port: 9000 + i });
    await sleep(500);

    const apiMs: number[] = [];
    const appliedMs: number[] = [];
    const reportedMs: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const t0 = performance.now();
      await api.ok('PATCH', `/zones/${zone.id}/dns_records/${record.id}`, { origin_http_port: 10_000 + (i % 50_000) });
      apiMs.push(performance.now() - t0);
      const version = Number((await schema.query<{ v: string }>('SELECT v FROM config_version'))[0].v);
      let applied: number | null = null;
      let reported: number | null = null;
      const deadline = t0 + 10_000;
      while ((applied === null || reported === null) && performance.now() < deadline) {
        if (applied === null && (await Promise.all(edges.map(appliedVersion))).every((v) => v >= version)) applied = performance.now() - t0;
        if (reported === null && (await registryVersion()) >= version) reported = performance.now() - t0;
        await sleep(1);
      }
      if (applied === null || reported === null) throw new Error(`write ${i} (version ${version}) not applied on every edge within 10 s`);
      appliedMs.push(applied);
      reportedMs.push(reported);
      await sleep(GAP_MS);
    }

    const result = {
      bench: 'propagation',
      store: 'postgres',
      edges: edges.length,
      writes: WRITES,
      cores: availableParallelism(),
      apiResponseMs: summary(apiMs),
      appliedOnAllEdgesMs: summary(appliedMs),
      reportedByAllEdgesMs: summary(reportedMs),
      within1s: appliedMs.filter((ms) => ms <= 1_000).length / appliedMs.length,
    };
    const row = (name: string, s: ReturnType<typeof summary>) =>
      `${name.padEnd(34)} ${String(s.p50).padStart(8)} ${String(s.p90).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}`;
    console.log(`change propagation: 1 API + ${edges.length} edges on PostgreSQL, ${WRITES} writes, ${GAP_MS} ms apart (${result.cores} cores)`);
    console.log(`${'ms from sending the write'.padEnd(34)} ${'p50'.padStart(8)} ${'p90'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
    console.log(row('API answered', result.apiResponseMs));
    console.log(row('applied on every edge (healthz)', result.appliedOnAllEdgesMs));
    console.log(row('reported by every edge (registry)', result.reportedByAllEdgesMs));
    console.log(`within 1 s on every edge: ${(result.within1s * 100).toFixed(1)}%`);
    console.log(JSON.stringify(result));
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await schema.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
