// The origin: Debian nginx serving static 1 KiB and 64 KiB files over TLS. One port asks for a
// client certificate (`ssl_verify_client on`, as the AOP seeds configure it), one does not (for the
// no-AOP comparison and `direct`). Only the first request of each connection is logged, with
// $connection and $ssl_session_reused: that file counts new upstream connections and resumed
// TLS sessions per run at the cost of one line per connection, not per request.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from '../lib/binaries.ts';
import { freePort, waitListening } from '../lib/net.ts';
import { spawnPinned, type CpuSet, type Spawned } from '../lib/proc.ts';
import type { BenchPki } from '../lib/pki.ts';

export interface Origin {
  /** Port that requires the AOP client certificate. */
  verifyPort: number;
  /** Port that asks for none. */
  openPort: number;
  proc: Spawned;
  /** Byte offset of the connection log now (a mark to read from later). */
  mark(): number;
  /** New connections logged since `mark`: how many, and how many resumed a TLS session. */
  connectionsSince(mark: number): { connections: number; resumed: number };
  stop(): Promise<void>;
}

export const BODY_SIZES = { '1k': 1024, '64k': 65536 } as const;

export async function startOrigin(dir: string, pki: BenchPki, cpus: CpuSet): Promise<Origin> {
  const nginx = requireBinary('nginx');
  const root = join(dir, 'origin');
  const www = join(root, 'www');
  mkdirSync(www, { recursive: true });
  for (const [name, size] of Object.entries(BODY_SIZES)) writeFileSync(join(www, name), Buffer.alloc(size, 'x'));
  const verifyPort = await freePort();
  const openPort = await freePort();
  const log = join(root, 'connections.log');
  writeFileSync(log, '');
  const p = (name: string) => join(root, name);
  const server = (port: number, verify: boolean) => `
    server {
        listen 127.0.0.1:${port} ssl;
        root ${www};
        ssl_certificate ${pki.files.serverCert};
        ssl_certificate_key ${pki.files.serverKey};
${verify ? `        ssl_client_certificate ${pki.files.clientCa};\n        ssl_verify_client on;\n        ssl_verify_depth 1;` : ''}
        access_log ${log} conn if=$first_request;
        location / { }
    }`;
  const conf = `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 8192; }
http {
    client_body_temp_path ${p('client_body')};
    proxy_temp_path ${p('proxy')};
    fastcgi_temp_path ${p('fastcgi')};
    uwsgi_temp_path ${p('uwsgi')};
    scgi_temp_path ${p('scgi')};
    default_type application/octet-stream;
    map $connection_requests $first_request { 1 1; default 0; }
    log_format conn '$server_port $connection $ssl_session_reused';
    # Proxies keep their upstream connections: the origin must not be the one closing them.
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:ORIGIN:20m;
    ssl_session_timeout 1h;
${server(verifyPort, true)}
${server(openPort, false)}
}
`;
  writeFileSync(p('nginx.conf'), conf);
  const proc = spawnPinned('origin nginx', nginx, ['-p', root + '/', '-c', p('nginx.conf'), '-g', 'daemon off;'], { cpus, logFile: p('stderr.log') });
  try {
    await waitListening(verifyPort, 'origin nginx', () => !proc.exited());
    await waitListening(openPort, 'origin nginx', () => !proc.exited());
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${readFileSync(p('stderr.log'), 'utf8')}${safeRead(p('error.log'))}`, { cause: err });
  }
  return {
    verifyPort,
    openPort,
    proc,
    mark: () => statSync(log).size,
    connectionsSince(mark) {
      const text = readFileSync(log).subarray(mark).toString('latin1');
      let connections = 0;
      let resumed = 0;
      for (const line of text.split('\n')) {
        const f = line.split(' ');
        if (f.length < 3) continue;
        connections++;
        if (f[2] === 'r') resumed++;
      }
      return { connections, resumed };
    },
    stop: () => proc.stop(),
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
