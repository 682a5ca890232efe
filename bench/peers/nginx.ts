// nginx as an AOP proxy, configured the way its documentation does the job: proxy_pass https,
// proxy_ssl_certificate, a keepalive upstream with HTTP/1.1 and an empty Connection header, TLS
// session reuse. Buffers sized so a 64 KiB body stays in memory (no temp files), and a buffered
// access log, as a production nginx would run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from '../lib/binaries.ts';
import { freePort, waitListening } from '../lib/net.ts';
import { spawnPinned, type CpuSet } from '../lib/proc.ts';
import { BENCH_HOST, type BenchPki } from '../lib/pki.ts';
import type { Peer } from './peer.ts';

export interface NginxProxyOptions {
  name: string;
  dir: string;
  pki: BenchPki;
  originPort: number;
  workers: number;
  cpus: CpuSet;
  /** Offer HTTP/2 on the HTTPS listener (ALPN h2; nginx 1.22's `listen … ssl http2`). */
  http2?: boolean;
}

export async function startNginxProxy(o: NginxProxyOptions): Promise<Peer> {
  const nginx = requireBinary('nginx');
  const root = join(o.dir, o.name);
  mkdirSync(root, { recursive: true });
  const p = (name: string) => join(root, name);
  const port = await freePort();
  // HTTPS visitors: the same proxying behind a TLS listener with a P-256 certificate, as the edge's.
  const tlsPort = await freePort();
  const conf = `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes ${o.workers};
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
    keepalive_requests 100000000;
    upstream origin {
        server 127.0.0.1:${o.originPort};
        keepalive 128;
        keepalive_requests 100000000;
        keepalive_timeout 600s;
    }
    server {
        listen 127.0.0.1:${port};
        listen 127.0.0.1:${tlsPort} ssl${o.http2 === true ? ' http2' : ''};
        ssl_certificate ${o.pki.files.serverCert};
        ssl_certificate_key ${o.pki.files.serverKey};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass https://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_ssl_certificate ${o.pki.files.clientCert};
            proxy_ssl_certificate_key ${o.pki.files.clientKey};
            proxy_ssl_session_reuse on;
            proxy_ssl_server_name on;
            proxy_ssl_name ${BENCH_HOST};
            proxy_buffer_size 16k;
            proxy_buffers 8 16k;
        }
    }
}
`;
  writeFileSync(p('nginx.conf'), conf);
  const proc = spawnPinned(o.name, nginx, ['-p', root + '/', '-c', p('nginx.conf'), '-g', 'daemon off;'], { cpus: o.cpus, logFile: p('stderr.log') });
  try {
    await waitListening(port, o.name, () => !proc.exited());
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${readFileSync(p('stderr.log'), 'utf8')}`, { cause: err });
  }
  return { name: o.name, baseUrl: `http://127.0.0.1:${port}`, tlsBaseUrl: `https://127.0.0.1:${tlsPort}`, host: BENCH_HOST, proc, stop: () => proc.stop() };
}
