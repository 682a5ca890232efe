// `node bench/floor.ts`: where the CPU floor of a Node proxy lies on this machine, to read the
// edge's figures against. Measures CPU µs/request (keep-alive and visitor `Connection: close`,
// 1 KiB, wrk -t1 -c50, the program pinned to CPU 0, origin and wrk to CPU 1) of: node:http and a
// raw net server answering by themselves; undici alone as a client over TLS with the client
// certificate; the barest node:http + undici proxy; the barest raw-socket proxy; and nginx
// proxying, for scale. Medians of interleaved rounds. See bench/README.md, "Where the floor is".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBenchPki, BENCH_HOST } from './lib/pki.ts';
import { freePort, waitListening } from './lib/net.ts';
import { cpuSecondsOf, pinningAvailable, pinSelf, spawnPinned, treePids, type Spawned } from './lib/proc.ts';
import { median } from './lib/report.ts';
import { runWrk } from './lib/wrk.ts';
import { startOrigin } from './peers/origin.ts';
import { startNginxProxy } from './peers/nginx.ts';
import { spawn } from 'node:child_process';

const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '5' } } });
const rounds = Number(opt.rounds);
const durationS = Number(opt.duration);
const dir = mkdtempSync(join(tmpdir(), 'originpull-floor-'));
const stops: (() => Promise<void>)[] = [];

async function wrkCpu(name: string, proc: Spawned, url: string, close = false): Promise<number> {
  const headers = [`Host: ${BENCH_HOST}`, ...(close ? ['Connection: close'] : [])];
  await runWrk({ url, connections: 50, threads: 1, durationS: 1, headers, cpus: '1' });
  const pids = treePids(proc.pid);
  const before = cpuSecondsOf(pids).total;
  const r = await runWrk({ url, connections: 50, threads: 1, durationS, headers, cpus: '1' });
  const us = ((cpuSecondsOf(pids).total - before) / r.requests) * 1e6;
  process.stderr.write(`${(name + (close ? ' (close)' : '')).padEnd(24)} ${Math.round(r.rps)} req/s  ${us.toFixed(1)} µs/req\n`);
  return us;
}

function undiciClient(origin: string, cert: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const argv = [process.execPath, join(import.meta.dirname, 'floor/undici-client.ts'), origin, cert, key, BENCH_HOST, String(durationS)];
    const c = pinningAvailable() ? spawn('taskset', ['-c', '0', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`undici-client exited with ${code}`));
      const r = JSON.parse(out) as { cpuUs: number; rps: number };
      process.stderr.write(`${'undici-client'.padEnd(16)} ${Math.round(r.rps)} req/s  ${r.cpuUs.toFixed(1)} µs/req\n`);
      resolve(r.cpuUs);
    });
  });
}

try {
  await pinSelf('1');
  const pki = await makeBenchPki(dir);
  const origin = await startOrigin(dir, pki, '1');
  stops.push(() => origin.stop());
  const originUrl = `https://127.0.0.1:${origin.verifyPort}`;
  const proxyArgs = [originUrl, pki.files.clientCert, pki.files.clientKey, BENCH_HOST];
  /** One floor program on CPU 0, listening on a port of its own (its first argument). */
  const startFloor = async (name: string, args: string[] = []): Promise<{ proc: Spawned; url: string }> => {
    const port = await freePort();
    const proc = spawnPinned(name, process.execPath, [join(import.meta.dirname, `floor/${name}.ts`), String(port), ...args], { cpus: '0', logFile: null });
    stops.push(() => proc.stop());
    await waitListening(port, name, () => !proc.exited());
    return { proc, url: `http://127.0.0.1:${port}/1k` };
  };
  const nodeHttp = await startFloor('node-http');
  const rawServer = await startFloor('raw-server');
  const bare = await startFloor('bare-proxy', proxyArgs);
  const raw = await startFloor('raw-proxy', proxyArgs);
  const nginx = await startNginxProxy({ name: 'nginx', dir, pki, originPort: origin.verifyPort, workers: 1, cpus: '0' });
  stops.push(() => nginx.stop());

  // Keep-alive, and with the visitor's `Connection: close` (a connection per request) where the
  // program is a server.
  const results: Record<string, { ka: number[]; close: number[] }> = {};
  const measure = async (name: string, proc: Spawned, url: string, withClose: boolean) => {
    const r = (results[name] ??= { ka: [], close: [] });
    r.ka.push(await wrkCpu(name, proc, url));
    if (withClose) r.close.push(await wrkCpu(name, proc, url, true));
  };
  for (let round = 0; round < rounds; round++) {
    await measure('node-http', nodeHttp.proc, nodeHttp.url, true);
    await measure('raw-server', rawServer.proc, rawServer.url, true);
    (results['undici-client'] ??= { ka: [], close: [] }).ka.push(await undiciClient(originUrl, pki.files.clientCert, pki.files.clientKey));
    await measure('bare-proxy', bare.proc, bare.url, false);
    await measure('raw-proxy', raw.proc, raw.url, true);
    await measure('nginx', nginx.proc!, `${nginx.baseUrl}/1k`, true);
  }
  const cell = (values: number[]) => (values.length === 0 ? '–' : median(values).toFixed(1));
  process.stdout.write('\n| program | CPU µs/request, keep-alive (median) | CPU µs/request, Connection: close (median) |\n|---|---:|---:|\n');
  for (const [name, r] of Object.entries(results)) process.stdout.write(`| ${name} | ${cell(r.ka)} | ${cell(r.close)} |\n`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
