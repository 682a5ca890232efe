// Minimal Node proxies as bench peers, each its own Node 24 process taking PORT ORIGIN_URL CERT KEY
// SERVERNAME: bench/peers/undici-minimal.ts (the reference), and bench/floor/raw-proxy.ts
// (`raw-floor`: the barest proxy Node can run on raw sockets, no routing, logging or checks: where
// the floor is for any Node edge, measured in the same rounds).
import { join } from 'node:path';
import { freePort, waitListening } from '../lib/net.ts';
import { spawnPinned, type CpuSet } from '../lib/proc.ts';
import { BENCH_HOST, type BenchPki } from '../lib/pki.ts';
import type { Peer } from './peer.ts';

interface NodeProxyOptions {
  name: string;
  dir: string;
  pki: BenchPki;
  originPort: number;
  cpus: CpuSet;
}

export function startUndiciMinimal(o: NodeProxyOptions): Promise<Peer> {
  return startNodeProxy(o, join(import.meta.dirname, 'undici-minimal.ts'));
}

/** Serves HTTPS visitors too (its tlsBaseUrl): the floor of Node's TLS for the HTTPS scenarios. */
export function startRawFloor(o: NodeProxyOptions): Promise<Peer> {
  return startNodeProxy(o, join(import.meta.dirname, '../floor/raw-proxy.ts'), true);
}

async function startNodeProxy(o: NodeProxyOptions, script: string, withTls = false): Promise<Peer> {
  const port = await freePort();
  const tlsPort = withTls ? await freePort() : null;
  const args = [script, String(port), `https://127.0.0.1:${o.originPort}`, o.pki.files.clientCert, o.pki.files.clientKey, BENCH_HOST];
  if (tlsPort !== null) args.push(String(tlsPort), o.pki.files.serverCert, o.pki.files.serverKey);
  const proc = spawnPinned(o.name, process.execPath, args, { cpus: o.cpus, logFile: join(o.dir, `${o.name}.log`) });
  try {
    await waitListening(port, o.name, () => !proc.exited());
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const tlsBaseUrl = tlsPort === null ? {} : { tlsBaseUrl: `https://127.0.0.1:${tlsPort}` };
  return { name: o.name, baseUrl: `http://127.0.0.1:${port}`, ...tlsBaseUrl, host: BENCH_HOST, proc, stop: () => proc.stop() };
}
