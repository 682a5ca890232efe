// HAProxy as an AOP proxy: `server … ssl crt <cert+key> verify none` with `http-reuse always`, one
// thread. TLS session reuse towards servers is HAProxy's default. No request logging (HAProxy
// only logs where a `log` target is configured).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from '../lib/binaries.ts';
import { freePort, waitListening } from '../lib/net.ts';
import { spawnPinned, type CpuSet } from '../lib/proc.ts';
import { BENCH_HOST, type BenchPki } from '../lib/pki.ts';
import type { Peer } from './peer.ts';

export interface HaproxyOptions {
  name: string;
  dir: string;
  pki: BenchPki;
  originPort: number;
  cpus: CpuSet;
}

export async function startHaproxy(o: HaproxyOptions): Promise<Peer> {
  const haproxy = requireBinary('haproxy');
  const root = join(o.dir, o.name);
  mkdirSync(root, { recursive: true });
  const p = (name: string) => join(root, name);
  const port = await freePort();
  const conf = `global
    nbthread 1
    maxconn 8000
    pidfile ${p('haproxy.pid')}

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 600s

frontend visitors
    bind 127.0.0.1:${port}
    default_backend origin

backend origin
    http-reuse always
    server o1 127.0.0.1:${o.originPort} ssl crt ${o.pki.files.clientBundle} verify none sni str(${BENCH_HOST}) pool-max-conn 256 pool-purge-delay 600s
`;
  writeFileSync(p('haproxy.cfg'), conf);
  const proc = spawnPinned(o.name, haproxy, ['-db', '-f', p('haproxy.cfg')], { cpus: o.cpus, logFile: p('stderr.log') });
  try {
    await waitListening(port, o.name, () => !proc.exited());
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${readFileSync(p('stderr.log'), 'utf8')}`, { cause: err });
  }
  return { name: o.name, baseUrl: `http://127.0.0.1:${port}`, host: BENCH_HOST, proc, stop: () => proc.stop() };
}
