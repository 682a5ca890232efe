// originpull as a peer, run the way a user runs it: `originpull api` on a fresh data dir, the
// bench configures zones, DNS records and the zone certificate THROUGH THE API (HTTP + token),
// and `originpull edge` processes (1 process, or `--workers N`) follow the same SQLite store.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, probe, sleep, waitListening } from '../lib/net.ts';
import { spawnPinned, type CpuSet, type Spawned } from '../lib/proc.ts';
import { BENCH_HOST, BENCH_ZONE, PLAIN_HOST, PLAIN_ZONE, type BenchPki } from '../lib/pki.ts';
import type { Peer } from './peer.ts';
import { EDGE_ENV, withEdgeFlags } from '../../src/edge-runtime.ts';

// Started as users start it (npm start, the bin link): through bin/originpull.js, which turns on
// Node's compile cache before the first TypeScript file loads.
const MAIN = join(import.meta.dirname, '../../bin/originpull.js');
/** The entry of another checkout (one archived without bin/: its src/cli/main.ts). */
const entryOf = (tree: string): string => (existsSync(join(tree, 'bin/originpull.js')) ? join(tree, 'bin/originpull.js') : join(tree, 'src/cli/main.ts'));

export interface ControlPlane {
  dataDir: string;
  apiUrl: string;
  token: string;
  proc: Spawned;
  /** Calls the v4 API; throws on `success: false`. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** `originpull api` on `dataDir` (created on first start: store, PKI, admin token). */
export async function startControlPlane(dataDir: string, cpus: CpuSet, logFile: string): Promise<ControlPlane> {
  const port = await freePort();
  const proc = spawnPinned('originpull api', process.execPath, [MAIN, 'api', '--data-dir', dataDir, '--api-listen', `127.0.0.1:${port}`], {
    cpus,
    logFile,
    env: { ...process.env, ORIGINPULL_API_TOKEN: '' },
  });
  try {
    await waitListening(port, 'originpull api', () => !proc.exited(), 60_000);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${readFileSync(logFile, 'utf8')}`, { cause: err });
  }
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const apiUrl = `http://127.0.0.1:${port}/client/v4`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(apiUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = (await res.json()) as { success: boolean; result: T; errors: unknown[] };
    if (!envelope.success) throw new Error(`API ${method} ${path} → ${res.status}: ${JSON.stringify(envelope.errors)}`);
    return envelope.result;
  };
  return { dataDir, apiUrl, token, proc, call, stop: () => proc.stop() };
}

/**
 * The bench's configuration, all through the API: zone bench.test (ssl full, zone-level AOP with
 * the bench client certificate) → the origin port that requires it; zone plain.test (no AOP) →
 * the port that does not.
 */
export async function configureBenchZones(cp: ControlPlane, pki: BenchPki, verifyPort: number, openPort: number): Promise<void> {
  const zone = await cp.call<{ id: string }>('POST', '/zones', { name: BENCH_ZONE });
  await cp.call('PATCH', `/zones/${zone.id}/settings/ssl`, { value: 'full' });
  await cp.call('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: BENCH_HOST, content: '127.0.0.1', proxied: true, origin_https_port: verifyPort });
  await cp.call('POST', `/zones/${zone.id}/origin_tls_client_auth`, { certificate: pki.client.certPem, private_key: pki.client.keyPem });
  await cp.call('PUT', `/zones/${zone.id}/origin_tls_client_auth/settings`, { enabled: true });
  const plain = await cp.call<{ id: string }>('POST', '/zones', { name: PLAIN_ZONE });
  await cp.call('PATCH', `/zones/${plain.id}/settings/ssl`, { value: 'full' });
  await cp.call('POST', `/zones/${plain.id}/dns_records`, { type: 'A', name: PLAIN_HOST, content: '127.0.0.1', proxied: true, origin_https_port: openPort });
}

export interface EdgeProcessOptions {
  name: string;
  dataDir: string;
  /** 0 = the edge in one process; N = `--workers N`. */
  workers: number;
  cpus: CpuSet;
  logFile: string;
  /** Host header the bench sends (which route is loaded). */
  host?: string;
  logLevel?: string;
  /** Write a V8 CPU profile into this directory at exit (`--cpu-prof`). */
  cpuProfDir?: string;
  /** Extra Node flags. */
  nodeFlags?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Another checkout of originpull to run the edge from (A/B runs of two versions on one store). */
  sourceTree?: string;
}

export interface EdgePeer extends Peer {
  readonly metricsUrl: string;
  /** The visitor HTTPS listener's port. */
  readonly httpsPort: number;
}

/** `originpull edge` as its own process (tree); resolves once it proxies the host with a 200. */
export async function startOriginpullEdge(o: EdgeProcessOptions): Promise<EdgePeer> {
  const http = await freePort();
  const https = await freePort();
  const metrics = await freePort();
  const flags = [...(o.nodeFlags ?? [])];
  let env = o.env;
  if (o.cpuProfDir !== undefined) {
    // Started without its memory flags, the CLI re-executes itself with them (same pid), and the
    // profile of the process that serves is lost: give it them from the start.
    flags.splice(0, flags.length, ...withEdgeFlags(flags), '--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
    env = { ...EDGE_ENV, ...env };
  }
  const args = [
    ...flags,
    o.sourceTree === undefined ? MAIN : entryOf(o.sourceTree),
    'edge',
    '--data-dir', o.dataDir,
    '--workers', String(o.workers),
    '--http-listen', `127.0.0.1:${http}`,
    '--https-listen', `127.0.0.1:${https}`,
    '--metrics-listen', `127.0.0.1:${metrics}`,
    '--node-name', o.name,
    '--log-level', o.logLevel ?? 'info',
  ];
  const proc = spawnPinned(o.name, process.execPath, args, { cpus: o.cpus, logFile: o.logFile, env: env === undefined ? undefined : { ...process.env, ...env } });
  const host = o.host ?? BENCH_HOST;
  const timeout = o.readyTimeoutMs ?? 60_000;
  try {
    await waitListening(http, o.name, () => !proc.exited(), timeout);
    // Listening comes after the first snapshot; still wait for a real 200 through the origin.
    const deadline = Date.now() + timeout;
    for (;;) {
      const r = await probe(http, '/1k', host).catch((err: Error) => ({ status: 0, bytes: 0, error: err.message }));
      if (r.status === 200 && r.bytes === 1024) break;
      if (proc.exited() || Date.now() > deadline) throw new Error(`${o.name} does not proxy ${host}: last answer ${JSON.stringify(r)}`);
      await sleep(100);
    }
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- ${o.logFile} (tail) ---\n${tail(o.logFile)}`, { cause: err });
  }
  return { name: o.name, baseUrl: `http://127.0.0.1:${http}`, tlsBaseUrl: `https://127.0.0.1:${https}`, host, proc, metricsUrl: `http://127.0.0.1:${metrics}/metrics`, httpsPort: https, stop: () => proc.stop(15_000) };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}
