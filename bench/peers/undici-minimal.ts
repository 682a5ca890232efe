// The reference "minimal undici proxy" of the performance issue: node:http in front of one undici
// Pool that presents the client certificate. No routing, no logging, no error pages.
// Usage: node bench/peers/undici-minimal.ts PORT ORIGIN_URL CERT_FILE KEY_FILE SERVERNAME
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Pool, type Dispatcher } from 'undici';

const [port, origin, certFile, keyFile, servername] = process.argv.slice(2);
const pool = new Pool(origin, {
  connect: { cert: readFileSync(certFile), key: readFileSync(keyFile), rejectUnauthorized: false, servername },
  keepAliveTimeout: 600_000,
});
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

http
  .createServer((req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    // undici would take the TLS server name from the Host header unless it is set per request.
    const opts = { path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: hasBody ? req : null, servername };
    pool
      .stream(opts, ({ statusCode, headers: h }) => {
        for (const k of HOP) delete h[k];
        res.writeHead(statusCode, h as http.OutgoingHttpHeaders);
        return res;
      })
      .catch(() => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  })
  .listen(Number(port), '127.0.0.1');
