// Starts bench/peers/undici-minimal.ts as its own Node 24 process.
import { join } from 'node:path';
import { freePort, waitListening } from '../lib/net.ts';
import { spawnPinned, type CpuSet } from '../lib/proc.ts';
import { BENCH_HOST, type BenchPki } from '../lib/pki.ts';
import type { Peer } from './peer.ts';

export async function startUndiciMinimal(o: { name: string; dir: string; pki: BenchPki; originPort: number; cpus: CpuSet }): Promise<Peer> {
  const port = await freePort();
  const script = join(import.meta.dirname, 'undici-minimal.ts');
  const args = [script, String(port), `https://127.0.0.1:${o.originPort}`, o.pki.files.clientCert, o.pki.files.clientKey, BENCH_HOST];
  const proc = spawnPinned(o.name, process.execPath, args, { cpus: o.cpus, logFile: join(o.dir, `${o.name}.log`) });
  try {
    await waitListening(port, o.name, () => !proc.exited());
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { name: o.name, baseUrl: `http://127.0.0.1:${port}`, host: BENCH_HOST, proc, stop: () => proc.stop() };
}
