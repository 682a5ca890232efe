// A stand-in for originpull's API while it is being built: a node:http server that answers the v4
// paths the upload client calls with Cloudflare-style envelopes, and records every request. It is a
// peer of the code under test (the client), not the API itself; the end-to-end test uses the real API.
import { createServer, type IncomingMessage, type Server } from 'node:http';

export const ZONE_ID = '023e105f4ecef8ad9ca31a8372d0c353';

export interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

export interface StandIn {
  url: string;
  requests: Recorded[];
  /** Statuses answered by successive GETs of a certificate or association (last one repeats). */
  statusScript: string[];
  /** The zone's zone-level AOP setting, as GET/PUT …/origin_tls_client_auth/settings see it. */
  zoneEnabled: boolean;
  caPem: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (data += d));
    req.on('end', () => resolve(data));
  });
}

export async function startStandIn(opts: { token: string; caPem?: string }): Promise<StandIn> {
  const requests: Recorded[] = [];
  const polls = new Map<string, number>();
  const state: StandIn = { url: '', requests, statusScript: ['active'], zoneEnabled: false, caPem: opts.caPem ?? '', close: async () => {} };
  const next = (key: string) => {
    const n = polls.get(key) ?? 0;
    polls.set(key, n + 1);
    return state.statusScript[Math.min(n, state.statusScript.length - 1)];
  };

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
    const send = (status: number, result: unknown, errors: { code: number; message: string }[] = []) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ success: status < 400, errors, messages: [], result: status < 400 ? result : null }));
    };
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/ssl/static/authenticated_origin_pull_ca.pem') {
      res.setHeader('content-type', 'application/x-pem-file');
      return res.end(state.caPem);
    }
    if (req.headers.authorization !== `Bearer ${opts.token}`) return send(401, null, [{ code: 10000, message: 'Authentication error' }]);
    const p = url.pathname.replace(/^\/client\/v4/, '');
    const cert = (id: string, status: string) => ({ id, status, issuer: 'CN=example.com', expires_on: '2030-01-01T00:00:00Z', uploaded_on: '2026-01-01T00:00:00Z' });
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && p === '/zones') {
      const name = url.searchParams.get('name');
      return send(200, name === 'example.com' ? [{ id: ZONE_ID, name: 'example.com' }] : []);
    }
    if (req.method === 'POST' && p === `/zones/${ZONE_ID}/origin_tls_client_auth`) {
      if (!(body as { certificate?: string })?.certificate?.includes('BEGIN CERTIFICATE')) return send(400, null, [{ code: 1002, message: 'invalid certificate' }]);
      return send(200, cert('zone-cert-1', 'pending_deployment'));
    }
    if (req.method === 'PUT' && p === `/zones/${ZONE_ID}/origin_tls_client_auth/settings`) {
      state.zoneEnabled = (body as { enabled: boolean }).enabled;
      return send(200, { enabled: state.zoneEnabled });
    }
    if (req.method === 'GET' && p === `/zones/${ZONE_ID}/origin_tls_client_auth/settings`) return send(200, { enabled: state.zoneEnabled });
    if (req.method === 'GET' && (m = new RegExp(`^/zones/${ZONE_ID}/origin_tls_client_auth/(zone-cert-1)$`).exec(p))) return send(200, cert(m[1], next(m[1])));
    if (req.method === 'POST' && p === `/zones/${ZONE_ID}/origin_tls_client_auth/hostnames/certificates`) return send(200, cert('host-cert-1', 'pending_deployment'));
    if (req.method === 'GET' && (m = new RegExp(`^/zones/${ZONE_ID}/origin_tls_client_auth/hostnames/certificates/(host-cert-1)$`).exec(p))) {
      return send(200, cert(m[1], next(m[1])));
    }
    if (req.method === 'PUT' && p === `/zones/${ZONE_ID}/origin_tls_client_auth/hostnames`) {
      const config = (body as { config: { hostname: string; cert_id: string; enabled: boolean }[] }).config;
      return send(
        200,
        config.map((c) => ({ ...c, status: 'pending_deployment', cert_status: 'pending_deployment' })),
      );
    }
    if (req.method === 'GET' && (m = new RegExp(`^/zones/${ZONE_ID}/origin_tls_client_auth/hostnames/([^/]+)$`).exec(p))) {
      const hostname = decodeURIComponent(m[1]);
      return send(200, { hostname, cert_id: 'host-cert-1', enabled: true, status: next(hostname) });
    }
    send(404, null, [{ code: 7003, message: 'No route for the URI' }]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
