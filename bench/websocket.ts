// WebSocket scenario: echo of 1 KiB messages over 50 connections (each waits for its echo before
// sending the next), through originpull and through nginx, to the same origin: a `ws` echo server
// on HTTPS that requires the bench client certificate (originpull presents it as the zone's AOP
// certificate, configured through its API; nginx with proxy_ssl_certificate and the two headers
// its documentation gives for WebSockets). Proxies on CPU 0, origin and load on CPU 1; rounds are
// interleaved and the ratio to nginx is taken within this run. Also the originpull edge's RSS after
// each round (it should not grow with time: run with --duration 60 for the 60 s check).
//
//   npx node bench/websocket.ts [--rounds 3] [--duration 10] [--warmup 3] [--connections 50] [--bytes 1024]
//                               [--save NAME --note TEXT] [--keep]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { requireBinary } from './lib/binaries.ts';
import { freePort, sleep, waitListening } from './lib/net.ts';
import { BENCH_HOST, BENCH_ZONE, makeBenchPki, type BenchPki } from './lib/pki.ts';
import { cpuSecondsOf, rssBytesOf, spawnPinned, treePids, type CpuSet, type Spawned } from './lib/proc.ts';
import { median } from './lib/report.ts';
import { startControlPlane, startOriginpullEdge, type ControlPlane } from './peers/originpull.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    bytes: { type: 'string', default: '1024' },
    save: { type: 'string' },
    note: { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const durationS = Number(args.duration);
const warmupS = Number(args.warmup);
const connections = Number(args.connections);
const bytes = Number(args.bytes);
const twoCpus = availableParallelism() >= 2;
const PROXY_CPUS: CpuSet = twoCpus ? '0' : null;
const LOAD_CPUS: CpuSet = twoCpus ? '1' : null;

const work = mkdtempSync(join(tmpdir(), 'originpull-bench-ws-'));
const stoppers: (() => Promise<void>)[] = [];
const log = (msg: string) => process.stderr.write(`[ws-bench] ${msg}\n`);

interface WsPeer {
  name: string;
  port: number;
  proc: Spawned;
}

interface Sample {
  peer: string;
  round: number;
  messages: number;
  seconds: number;
  failures: number;
  cpuSeconds: number;
  rssBytes: number;
}

async function startOrigin(pki: BenchPki): Promise<number> {
  const port = await freePort();
  const proc = spawnPinned('ws-origin', process.execPath, [join(import.meta.dirname, 'peers/ws-origin.ts'), String(port), pki.files.serverCert, pki.files.serverKey, pki.files.clientCa], {
    cpus: LOAD_CPUS,
    logFile: join(work, 'ws-origin.log'),
  });
  stoppers.push(() => proc.stop());
  await waitListening(port, 'ws origin', () => !proc.exited());
  return port;
}

async function configure(cp: ControlPlane, pki: BenchPki, originPort: number): Promise<void> {
  const zone = await cp.call<{ id: string }>('POST', '/zones', { name: BENCH_ZONE });
  await cp.call('PATCH', `/zones/${zone.id}/settings/ssl`, { value: 'full' });
  await cp.call('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: BENCH_HOST, content: '127.0.0.1', proxied: true, origin_https_port: originPort });
  await cp.call('POST', `/zones/${zone.id}/origin_tls_client_auth`, { certificate: pki.client.certPem, private_key: pki.client.keyPem });
  await cp.call('PUT', `/zones/${zone.id}/origin_tls_client_auth/settings`, { enabled: true });
}

async function startNginx(pki: BenchPki, originPort: number): Promise<WsPeer> {
  const nginx = requireBinary('nginx');
  const root = join(work, 'nginx');
  mkdirSync(root, { recursive: true });
  const p = (name: string) => join(root, name);
  const port = await freePort();
  writeFileSync(
    p('nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 8192; }
http {
    client_body_temp_path ${p('client_body')};
    proxy_temp_path ${p('proxy')};
    fastcgi_temp_path ${p('fastcgi')};
    uwsgi_temp_path ${p('uwsgi')};
    scgi_temp_path ${p('scgi')};
    access_log ${p('access.log')} combined buffer=64k flush=1s;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    upstream origin { server 127.0.0.1:${originPort}; keepalive 128; }
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass https://origin;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_ssl_certificate ${pki.files.clientCert};
            proxy_ssl_certificate_key ${pki.files.clientKey};
            proxy_ssl_session_reuse on;
            proxy_ssl_server_name on;
            proxy_ssl_name ${BENCH_HOST};
            proxy_read_timeout 600s;
        }
    }
}
`,
  );
  const proc = spawnPinned('nginx', nginx, ['-p', root + '/', '-c', p('nginx.conf'), '-g', 'daemon off;'], { cpus: PROXY_CPUS, logFile: p('stderr.log') });
  stoppers.push(() => proc.stop());
  await waitListening(port, 'nginx', () => !proc.exited());
  return { name: 'nginx', port, proc };
}

interface LoadResult {
  messages: number;
  seconds: number;
  failures: number;
}

/** One load run through `peer`; CPU of the peer's tree is read between `ready` and the result. */
async function load(peer: WsPeer, seconds: number, round: number): Promise<Sample> {
  const pids = treePids(peer.proc.pid);
  const argv = [process.execPath, join(import.meta.dirname, 'lib/ws-load.ts'), `ws://127.0.0.1:${peer.port}/echo`, BENCH_HOST, String(connections), String(seconds), String(bytes)];
  const pinned = LOAD_CPUS === null ? argv : ['taskset', '-c', LOAD_CPUS, ...argv];
  const child = spawn(pinned[0], pinned.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let cpuAtStart = 0;
  let result: LoadResult | null = null;
  for await (const line of lines) {
    if (line === 'ready') cpuAtStart = cpuSecondsOf(pids).total;
    else if (line.startsWith('{')) result = JSON.parse(line) as LoadResult;
  }
  const cpu = cpuSecondsOf(pids).total - cpuAtStart;
  if (result === null) throw new Error(`the load through ${peer.name} printed no result`);
  return { peer: peer.name, round, ...result, cpuSeconds: cpu, rssBytes: rssBytesOf(pids) };
}

async function main(): Promise<void> {
  if (LOAD_CPUS !== null) requireBinary('taskset');
  const pki = await makeBenchPki(work);
  const originPort = await startOrigin(pki);
  const cp = await startControlPlane(join(work, 'data'), LOAD_CPUS, join(work, 'api.log'));
  stoppers.push(() => cp.stop());
  await configure(cp, pki, originPort);
  const edge = await startOriginpullEdge({ name: 'originpull', dataDir: cp.dataDir, workers: 0, cpus: PROXY_CPUS, logFile: join(work, 'edge.log') });
  stoppers.push(() => edge.stop());
  const peers: WsPeer[] = [{ name: 'originpull', port: Number(new URL(edge.baseUrl).port), proc: edge.proc! }, await startNginx(pki, originPort)];

  log(`warm-up ${warmupS} s per peer`);
  for (const peer of peers) await load(peer, warmupS, 0);
  const samples: Sample[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Interleaved, and in a different order each round.
    const order = round % 2 === 1 ? peers : [...peers].reverse();
    for (const peer of order) {
      const s = await load(peer, durationS, round);
      samples.push(s);
      log(`round ${round} ${peer.name}: ${Math.round(s.messages / s.seconds)} msg/s, ${((s.cpuSeconds * 1e6) / s.messages).toFixed(1)} µs CPU/msg, RSS ${(s.rssBytes / 2 ** 20).toFixed(1)} MiB${s.failures ? `, ${s.failures} connections lost` : ''}`);
      await sleep(200);
    }
  }

  const rows = peers.map((peer) => {
    const mine = samples.filter((s) => s.peer === peer.name);
    const rate = median(mine.map((s) => s.messages / s.seconds));
    const cpuUs = median(mine.map((s) => (s.cpuSeconds * 1e6) / s.messages));
    return { peer: peer.name, rate, cpuUs, rssFirst: mine[0].rssBytes, rssLast: mine.at(-1)!.rssBytes, failures: mine.reduce((n, s) => n + s.failures, 0) };
  });
  const nginx = rows.find((r) => r.peer === 'nginx')!;
  const lines = [
    `# WebSocket echo: ${connections} connections × ${bytes} B messages, ${rounds} rounds of ${durationS} s (+${warmupS} s warm-up)`,
    '',
    `load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; proxies on CPU ${PROXY_CPUS ?? 'any'}, origin and load on CPU ${LOAD_CPUS ?? 'any'}`,
    args.note ? `\n${args.note}\n` : '',
    '| peer | messages/s (median) | × nginx | CPU µs per message | × nginx | RSS first → last round | connections lost |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.peer} | ${Math.round(r.rate)} | ${(r.rate / nginx.rate).toFixed(2)} | ${r.cpuUs.toFixed(1)} | ${(r.cpuUs / nginx.cpuUs).toFixed(2)} | ${(r.rssFirst / 2 ** 20).toFixed(1)} → ${(r.rssLast / 2 ** 20).toFixed(1)} MiB | ${r.failures} |`,
    ),
  ];
  const text = lines.join('\n');
  const json = { scenario: 'websocket-echo', connections, bytes, rounds, durationS, warmupS, rows, samples };
  process.stdout.write(text + '\n' + JSON.stringify(json) + '\n');
  if (args.save) {
    const base = join(import.meta.dirname, 'results', `${new Date().toISOString().slice(0, 10)}-${args.save}`);
    writeFileSync(base + '.md', text + '\n');
    writeFileSync(base + '.json', JSON.stringify(json, null, 2) + '\n');
    log(`saved ${base}.md and .json`);
  }
}

try {
  await main();
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  for (const f of ['edge.log', 'ws-origin.log', 'api.log']) {
    try {
      log(`--- ${f} ---\n${readFileSync(join(work, f), 'utf8').split('\n').slice(-20).join('\n')}`);
    } catch {
      // not written
    }
  }
  process.exitCode = 1;
} finally {
  for (const stop of stoppers.reverse()) await stop().catch(() => {});
  if (!args.keep) rmSync(work, { recursive: true, force: true });
  else log(`work directory kept: ${work}`);
}
