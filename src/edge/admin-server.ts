// The edge's admin listener: GET /metrics (Prometheus text) and GET /healthz (JSON). Kept apart
// from the visitor listeners so it can stay on a private address.
// Tested in test/edge/traffic-metrics.test.ts and test/sync/edge-node.test.ts (/healthz).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAt } from './edge.ts';

export interface HealthReport {
  /** ok: serving the latest config; degraded: serving the last snapshot without the store; starting: nothing applied yet. */
  status: 'ok' | 'degraded' | 'starting';
  [key: string]: unknown;
}

export interface AdminServerOptions {
  listen: ListenAt;
  metrics: () => Promise<string>;
  metricsContentType: string;
  health: () => HealthReport | Promise<HealthReport>;
}

export interface AdminServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
  destroy(): void;
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') {
      opts.metrics().then(
        (text) => reply(200, opts.metricsContentType, text),
        (err: Error) => reply(500, 'text/plain', `metrics unavailable: ${err.message}\n`),
      );
      return;
    }
    if (path === '/healthz' || path === '/health') {
      Promise.resolve(opts.health()).then(
        (health) => reply(health.status === 'starting' ? 503 : 200, 'application/json', JSON.stringify(health) + '\n'),
        (err: Error) => reply(500, 'application/json', JSON.stringify({ status: 'error', error: err.message }) + '\n'),
      );
      return;
    }
    reply(404, 'text/plain', 'not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // SO_REUSEPORT: a process that takes over at a restart listens beside this one.
    server.listen({ host: opts.listen.host, port: opts.listen.port, reusePort: opts.listen.port !== 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    destroy: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
