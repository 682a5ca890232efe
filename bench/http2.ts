// `node bench/http2.ts`: HTTP/2 visitors. h2load loads 1 KiB answers over 10 connections × 10
// concurrent streams through the originpull edge and through nginx (`listen … ssl http2`), both
// proxying to the same AOP origin over HTTPS/1.1 with the client certificate; and the same edge
// over HTTPS/1.1 (h2load --h1, 100 connections: the same concurrency). Interleaved rounds of one
// run; reported: requests/s and the proxy's CPU per request, as ratios to nginx. A floor row: a
// bare node:http2 server answering the same 1 KiB itself (no proxying), on the proxy's CPU: what
// node:http2 alone costs any Node edge per request.
//
//   node bench/http2.ts                        # 3 rounds of 10 s
//   node bench/http2.ts --rounds 1 --duration 3 --save http2-quick
//   node bench/http2.ts --profile              # the edge under --cpu-prof: its top self-time frames
//   node bench/http2.ts --loads "originpull h2,nginx h2"   # a subset of the loads
//   node bench/http2.ts --edge-node-flags "--max-semi-space-size=16"
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requireBinary } from './lib/binaries.ts';
import { BENCH_HOST, makeBenchPki } from './lib/pki.ts';
import { freePort, waitListening } from './lib/net.ts';
import { cpuSecondsOf, pinningAvailable, spawnPinned, treePids, type CpuSet } from './lib/proc.ts';
import { median } from './lib/report.ts';
import { summarizeProfiles } from './profile.ts';
import { startNginxProxy } from './peers/nginx.ts';
import { startOrigin } from './peers/origin.ts';
import { configureBenchZones, startControlPlane, startOriginpullEdge } from './peers/originpull.ts';
import type { Peer } from './peers/peer.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    /** Extra Node/V8 flags for the edge process (e.g. "--max-semi-space-size=16"). */
    'edge-node-flags': { type: 'string' },
    /** Only these loads (comma-separated names as in the table, e.g. "originpull h2,nginx h2"). */
    loads: { type: 'string' },
    save: { type: 'string' },
    note: { type: 'string', default: '' },
  },
});
const rounds = Number(opt.rounds);
const durationS = Number(opt.duration);
const warmupS = Number(opt.warmup);
const pin = pinningAvailable() && availableParallelism() >= 2;
const PROXY_CPUS: CpuSet = pin ? '0' : null;
const LOAD_CPUS: CpuSet = pin ? '1' : null;
const h2load = requireBinary('h2load', 'nghttp2-client');

const started = Date.now();
const log = (msg: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'originpull-bench-h2-'));

interface Load {
  name: string;
  peer: Peer;
  /** h2load arguments besides the URL. */
  args: string[];
}

interface Sample {
  rps: number;
  cpuPerRequestUs: number;
  failed: number;
}

async function runH2load(load: Load, seconds: number): Promise<Sample> {
  const url = load.peer.tlsBaseUrl!.replace('127.0.0.1', BENCH_HOST) + '/1k';
  const port = new URL(load.peer.tlsBaseUrl!).port;
  const args = [...load.args, '-D', String(seconds), `--connect-to=127.0.0.1:${port}`, url];
  const pids = treePids(load.peer.proc!.child.pid!);
  const before = cpuSecondsOf(pids).total;
  const child = LOAD_CPUS === null ? spawn(h2load, args) : spawn('taskset', ['-c', LOAD_CPUS, h2load, ...args]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  await new Promise((resolve) => child.once('exit', resolve));
  const cpu = cpuSecondsOf(pids).total - before;
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
  const rps = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(out);
  if (done === null || rps === null) throw new Error(`${load.name}: h2load said\n${out}`);
  const succeeded = Number(done[2]);
  return { rps: Number(rps[1]), cpuPerRequestUs: succeeded === 0 ? NaN : (cpu * 1e6) / succeeded, failed: Number(done[3]) };
}

/** The floor: node:http2 answering 1 KiB from memory, with the bench's P-256 server certificate. */
const FLOOR = `
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
const [port, key, cert] = process.argv.slice(1);
const body = Buffer.alloc(1024, 120);
const server = http2.createSecureServer({ key: readFileSync(key), cert: readFileSync(cert) });
server.on('stream', (stream) => { stream.respond({ ':status': 200, 'content-length': 1024 }); stream.end(body); });
server.listen(Number(port), '127.0.0.1');
`;

async function startFloor(keyFile: string, certFile: string): Promise<Peer> {
  const port = await freePort();
  const proc = spawnPinned('node:http2 floor', process.execPath, ['--input-type=module', '-e', FLOOR, String(port), keyFile, certFile], { cpus: PROXY_CPUS, logFile: join(workDir, 'floor.log') });
  await waitListening(port, 'node:http2 floor', () => !proc.exited());
  return { name: 'node:http2 floor', baseUrl: `http://127.0.0.1:${port}`, tlsBaseUrl: `https://127.0.0.1:${port}`, host: BENCH_HOST, proc, stop: () => proc.stop() };
}

const stoppers: (() => Promise<void>)[] = [];
try {
  const pki = await makeBenchPki(workDir);
  const origin = await startOrigin(workDir, pki, LOAD_CPUS);
  stoppers.push(() => origin.stop());
  const cp = await startControlPlane(join(workDir, 'data'), LOAD_CPUS, join(workDir, 'api.log'));
  stoppers.push(() => cp.stop());
  await configureBenchZones(cp, pki, origin.verifyPort, origin.openPort);
  const profileDir = join(workDir, 'profiles');
  const edge = await startOriginpullEdge({ name: 'originpull', dataDir: cp.dataDir, workers: 0, cpus: PROXY_CPUS, logFile: join(workDir, 'edge.log'), cpuProfDir: opt.profile ? profileDir : undefined, nodeFlags: opt['edge-node-flags']?.split(/\s+/).filter(Boolean) });
  stoppers.push(() => edge.stop());
  const nginx = await startNginxProxy({ name: 'nginx', dir: workDir, pki, originPort: origin.verifyPort, workers: 1, cpus: PROXY_CPUS, http2: true });
  stoppers.push(() => nginx.stop());
  const floor = await startFloor(pki.files.serverKey, pki.files.serverCert);
  stoppers.push(() => floor.stop());
  const h2 = ['-c', '10', '-m', '10'];
  const allLoads: Load[] = [
    { name: 'originpull h2', peer: edge, args: h2 },
    { name: 'nginx h2', peer: nginx, args: h2 },
    { name: 'originpull https/1.1', peer: edge, args: ['--h1', '-c', '100', '-m', '1'] },
    { name: 'node:http2 floor (no proxying)', peer: floor, args: h2 },
  ];
  const only = opt.loads?.split(',').map((n) => n.trim());
  const loads = only === undefined ? allLoads : allLoads.filter((l) => only.includes(l.name));
  if (!loads.some((l) => l.name === 'nginx h2')) throw new Error('--loads must include "nginx h2": the ratios are to it');
  for (const load of loads) await runH2load(load, warmupS);
  const samples = new Map<string, Sample[]>(loads.map((l) => [l.name, []]));
  for (let r = 0; r < rounds; r++) {
    // Rotated, so no load always runs first (or last) in a round.
    for (let k = 0; k < loads.length; k++) {
      const load = loads[(k + r) % loads.length];
      const s = await runH2load(load, durationS);
      if (s.failed > 0) throw new Error(`${load.name}: ${s.failed} requests failed`);
      samples.get(load.name)!.push(s);
      log(`round ${r + 1} ${load.name}: ${s.rps.toFixed(0)} req/s, ${s.cpuPerRequestUs.toFixed(1)} µs CPU per request`);
    }
  }
  const med = (name: string, f: (s: Sample) => number) => median((samples.get(name) ?? []).map(f));
  const nginxCpu = med('nginx h2', (s) => s.cpuPerRequestUs);
  const nginxRps = med('nginx h2', (s) => s.rps);
  const lines = [
    `h2load, 1 KiB answers, median of ${rounds} rounds of ${durationS} s (proxy on CPU ${PROXY_CPUS ?? 'any'}, h2load and origin on ${LOAD_CPUS ?? 'any'})`,
    '',
    '| load | req/s | ×nginx | CPU µs/request | ×nginx |',
    '|---|---:|---:|---:|---:|',
    ...loads.map((l) => {
      const rps = med(l.name, (s) => s.rps);
      const cpu = med(l.name, (s) => s.cpuPerRequestUs);
      return `| ${l.name} (${l.args.join(' ')}) | ${rps.toFixed(0)} | ${(rps / nginxRps).toFixed(2)} | ${cpu.toFixed(1)} | ${(cpu / nginxCpu).toFixed(2)} |`;
    }),
    '',
    `targets: originpull h2 CPU per request ≤ 2× nginx h2 (${(med('originpull h2', (s) => s.cpuPerRequestUs) / nginxCpu).toFixed(2)}×); ` +
      `originpull h2 req/s > originpull https/1.1 (${(med('originpull h2', (s) => s.rps) / med('originpull https/1.1', (s) => s.rps)).toFixed(2)}×)`,
  ];
  if (opt.profile) {
    // The profile is written when the edge exits (all its loads: h2 and https/1.1).
    await edge.stop();
    lines.push('', '## CPU profile of the originpull edge (top self time, h2 and https/1.1 loads)', '', '```', summarizeProfiles(profileDir, 30), '```');
  }
  const report = lines.join('\n') + '\n';
  process.stdout.write('\n' + report);
  if (opt.save !== undefined) {
    const file = join(import.meta.dirname, 'results', `${new Date().toISOString().slice(0, 10)}-${opt.save}.md`);
    writeFileSync(file, `# HTTP/2 visitors: originpull vs nginx\n\n${opt.note ? opt.note + '\n\n' : ''}Command: \`node bench/http2.ts --rounds ${rounds} --duration ${durationS}\`\n\n${report}`);
    log(`saved ${file}`);
  }
} finally {
  for (const stop of stoppers.reverse()) await stop().catch(() => {});
  if (!opt.keep) rmSync(workDir, { recursive: true, force: true });
  else log(`kept ${workDir}`);
}
