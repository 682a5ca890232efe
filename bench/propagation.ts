// Change propagation: N sequential writes through the API at random intervals (PATCH of a DNS
// record's origin port, each one config version); for each write, the time from sending it until
//   - applied: every edge's /healthz reports a snapshot at or past its version;
//   - reported: every edge's report of it is in the registry (what `active` waits for).
// Three set-ups (--mode):
//   postgres  one `originpull api` and three `originpull edge` (--workers 0) on a fresh schema of a
//             real PostgreSQL (issue 4: applied on every live edge within 1 s);
//   sqlite    one `originpull api` and one `originpull edge` on the same SQLite file: the edge
//             hears of writes by polling the file's version row (issue 8: ≤ 100 ms p99 on one node);
//   serve     one `originpull serve` (API and edge in one process, one store instance).
// Before the writes, the CPU the processes burn while nothing changes (the change feed's idle
// polling, heartbeats) is measured over --idle-s seconds.
//
//   npx node bench/propagation.ts [--mode postgres|sqlite|serve] [--writes 200] [--gap-ms 50] [--idle-s 10]
//                                 [--pg postgres://…/test] [--save NAME --note TEXT]
//
// Prints a table and one JSON line; --save also writes them to bench/results/<date>-NAME.{md,json}.
// Schemas and data directories are removed at the end.
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../src/store/index.ts';
import {
  ApiClient,
  edgePorts,
  newSecretKey,
  newToken,
  nodeEnv,
  NodeProcess,
  probePostgres,
  sleep,
  startApi,
  startEdge,
  TestSchema,
} from '../test/scale/harness.ts';
import { freePort } from '../test/helpers/peers.ts';
import { cpuSecondsOf } from './lib/proc.ts';

const MODES = ['postgres', 'sqlite', 'serve'] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'postgres' },
    writes: { type: 'string', default: '200' },
    'gap-ms': { type: 'string', default: '50' },
    'idle-s': { type: 'string', default: '10' },
    pg: { type: 'string' },
    save: { type: 'string' },
    note: { type: 'string' },
  },
});
if (values.pg) process.env.ORIGINPULL_TEST_PG = values.pg;
const MODE = values.mode as Mode;
if (!MODES.includes(MODE)) throw new Error(`--mode wants one of ${MODES.join(', ')}, got ${values.mode}`);
const WRITES = Number(values.writes);
const GAP_MS = Number(values['gap-ms']);
const IDLE_S = Number(values['idle-s']);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

/** The processes of one set-up: who answers the API, whose /healthz tells the applied version. */
interface Setup {
  api: ApiClient;
  /** Metrics ports of the edges (for serve: the one process). */
  healthPorts: number[];
  /** Every process (for the idle CPU figure). */
  procs: NodeProcess[];
  /** The same store, opened by the bench: config version and registry. */
  storeUrl: string;
  cleanup(): Promise<void>;
}

async function startSetup(mode: Mode): Promise<Setup> {
  const secretKey = newSecretKey();
  const token = newToken();
  const dirs: string[] = [];
  const tempDir = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `originpull-bench-${name}-`));
    dirs.push(dir);
    return dir;
  };
  const procs: Setup['procs'] = [];
  const removeDirs = () => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  const stopAll = () => Promise.all(procs.map((p) => p.stop()));
  let schema: TestSchema | null = null;
  const cleanup = async () => {
    await stopAll();
    await schema?.drop();
    removeDirs();
  };
  try {
    if (mode === 'serve') {
      const dataDir = tempDir('serve');
      const storeUrl = `sqlite:${join(dataDir, 'originpull.db')}`;
      const apiPort = await freePort();
      const ports = await edgePorts();
      const node = new NodeProcess(
        'serve',
        ['serve', '--store', storeUrl, '--data-dir', dataDir, '--workers', '0', '--api-listen', `127.0.0.1:${apiPort}`,
          '--http-listen', `127.0.0.1:${ports.http}`, '--https-listen', `127.0.0.1:${ports.https}`, '--metrics-listen', `127.0.0.1:${ports.metrics}`],
        nodeEnv({ ORIGINPULL_SECRET_KEY: secretKey, ORIGINPULL_API_TOKEN: token }),
      );
      procs.push(node);
      await node.waitReady(async () => (await fetch(`http://127.0.0.1:${ports.metrics}/healthz`)).ok);
      const api = new ApiClient(`http://127.0.0.1:${apiPort}/client/v4`, token);
      return { api, healthPorts: [ports.metrics], procs, storeUrl, cleanup };
    }
    if (mode === 'postgres') schema = new TestSchema();
    const storeUrl = schema?.url() ?? `sqlite:${join(tempDir('sqlite'), 'originpull.db')}`;
    const { node, api } = await startApi('api', { store: storeUrl, secretKey, token });
    procs.push(node);
    const names = mode === 'postgres' ? ['edge-1', 'edge-2', 'edge-3'] : ['edge'];
    // The heartbeat as shipped (the harness's 200 ms would inflate the idle CPU figure).
    const env = { ORIGINPULL_HEARTBEAT_INTERVAL_MS: '1000' };
    const edges = await Promise.all(names.map((name) => startEdge(name, { store: storeUrl, secretKey, dataDir: tempDir(name), env })));
    procs.push(...edges);
    return { api, healthPorts: edges.map((e) => e.ports.metrics), procs, storeUrl, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function appliedVersion(metricsPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
  return ((await res.json()) as { appliedVersion: number }).appliedVersion;
}

/** Lowest version any registered edge reports (what `active` waits for). */
async function registryVersion(store: Store): Promise<number> {
  const edges = await store.listEdges();
  return edges.length === 0 ? 0 : Math.min(...edges.map((e) => e.appliedVersion));
}

/** CPU of each process over `seconds` with nothing changing, as % of one core, by process name. */
async function idleCpu(procs: NodeProcess[], seconds: number): Promise<Record<string, number>> {
  const cpu = (p: NodeProcess) => cpuSecondsOf([p.child.pid!]).total;
  const before = procs.map(cpu);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  return Object.fromEntries(procs.map((p, i) => [p.name, Math.round(((cpu(p) - before[i]) / wall) * 10_000) / 100]));
}

async function main(): Promise<void> {
  if (MODE === 'postgres') {
    const unreachable = await probePostgres();
    if (unreachable) {
      console.error(`propagation bench: ${unreachable}`);
      process.exit(2);
    }
  }
  const setup = await startSetup(MODE);
  let store: Store | null = null;
  try {
    const { api } = setup;
    store = await openStore(setup.storeUrl);
    const zone = await api.ok<{ id: string }>('POST', '/zones', { name: 'propagation.bench' });
    const record = await api.ok<{ id: string }>('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: 'www.propagation.bench', content: '127.0.0.1' });
    // Warm-up: every process has its JIT and connections ready.
    for (let i = 0; i < 10; i++) await api.ok('PATCH', `/zones/${zone.id}/dns_records/${record.id}`, { origin_http_port: 9000 + i });
    await sleep(500);
    const idleCpuPct = await idleCpu(setup.procs, IDLE_S);

    const apiMs: number[] = [];
    const appliedMs: number[] = [];
    const reportedMs: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const t0 = performance.now();
      await api.ok('PATCH', `/zones/${zone.id}/dns_records/${record.id}`, { origin_http_port: 10_000 + (i % 50_000) });
      apiMs.push(performance.now() - t0);
      const version = await store.currentVersion();
      let applied: number | null = null;
      let reported: number | null = null;
      const deadline = t0 + 10_000;
      while ((applied === null || reported === null) && performance.now() < deadline) {
        if (applied === null && (await Promise.all(setup.healthPorts.map(appliedVersion))).every((v) => v >= version)) applied = performance.now() - t0;
        if (reported === null && (await registryVersion(store)) >= version) reported = performance.now() - t0;
        await sleep(1);
      }
      if (applied === null || reported === null) throw new Error(`write ${i} (version ${version}) not applied on every edge within 10 s`);
      appliedMs.push(applied);
      reportedMs.push(reported);
      // Random gaps (mean GAP_MS): fixed ones fall in step with the SQLite poll period and
      // measure one phase of it only.
      await sleep(GAP_MS * (0.5 + Math.random()));
    }

    const edges = setup.healthPorts.length;
    const result = {
      bench: 'propagation',
      mode: MODE,
      edges,
      writes: WRITES,
      cores: availableParallelism(),
      apiResponseMs: summary(apiMs),
      appliedOnAllEdgesMs: summary(appliedMs),
      reportedByAllEdgesMs: summary(reportedMs),
      within1s: appliedMs.filter((ms) => ms <= 1_000).length / appliedMs.length,
      within100ms: appliedMs.filter((ms) => ms <= 100).length / appliedMs.length,
      idleCpuPctOfOneCore: idleCpuPct,
    };
    const row = (name: string, s: ReturnType<typeof summary>) =>
      `${name.padEnd(34)} ${String(s.p50).padStart(8)} ${String(s.p90).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}`;
    const what = {
      postgres: `1 API + ${edges} edges on PostgreSQL`,
      sqlite: `originpull api + originpull edge on one SQLite file`,
      serve: 'originpull serve (API + edge in one process, SQLite)',
    }[MODE];
    const report = [
      `change propagation: ${what}, ${WRITES} writes, ${GAP_MS} ms apart on average (${result.cores} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${process.version})`,
      `${'ms from sending the write'.padEnd(34)} ${'p50'.padStart(8)} ${'p90'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`,
      row('API answered', result.apiResponseMs),
      row(`applied on ${edges > 1 ? 'every edge' : 'the edge'} (healthz)`, result.appliedOnAllEdgesMs),
      row(`reported by ${edges > 1 ? 'every edge' : 'the edge'} (registry)`, result.reportedByAllEdgesMs),
      `applied within 100 ms: ${(result.within100ms * 100).toFixed(1)}%; within 1 s: ${(result.within1s * 100).toFixed(1)}%`,
      `idle CPU over ${IDLE_S} s (% of one core): ${Object.entries(idleCpuPct).map(([name, pct]) => `${name} ${pct.toFixed(2)}`).join(', ')}`,
    ].join('\n');
    console.log(report);
    console.log(JSON.stringify(result));
    if (values.save !== undefined) save(values.save, report, result);
  } finally {
    await store?.close();
    await setup.cleanup();
  }
}

/** bench/results/<date>-NAME.md (the report) and .json (the figures), as `npm run bench -- --save` does. */
function save(name: string, report: string, result: object): void {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const base = `${new Date().toISOString().slice(0, 10)}-${name.replace(/[^a-z0-9-]+/gi, '-')}`;
  const quote = (a: string) => (/[\s"'|]/.test(a) ? `'${a.replaceAll("'", "'\\''")}'` : a);
  const command = `npx node bench/propagation.ts ${process.argv.slice(2).map(quote).join(' ')}`.trim();
  const commit = execFileSync('git', ['-C', import.meta.dirname, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const note = values.note ? `\n${values.note}\n` : '';
  writeFileSync(join(dir, `${base}.md`), `# ${name}\n${note}\nCommand: \`${command}\` (commit ${commit})\n\n\`\`\`\n${report}\n\`\`\`\n`);
  writeFileSync(join(dir, `${base}.json`), JSON.stringify({ name, note: values.note ?? null, command, commit, ...result }, null, 2) + '\n');
  console.log(`saved bench/results/${base}.md and .json`);
}

await main();
