// Zone settings set through the official `cloudflare` SDK against the real API, carried by the
// store and the snapshot to a real edge node, and observed on the wire: the 301s of
// always_use_https and of SSL mode off (path and query kept), HSTS and nosniff headers, TLS
// handshakes refused with a protocol_version alert under min_tls_version 1.3 (node:tls and
// openssl s_client), TLS 1.2 only under tls_1_3 off, 421 for requests on connections made with
// no or another zone's SNI at a version the zone refuses, and the websockets/http2 route fields.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import Cloudflare from 'cloudflare';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { findRoute } from '../../src/edge/index.ts';
import { startEdgeNode, type EdgeNodeHandle } from '../../src/sync/index.ts';
import { startApi, type Harness } from '../api/harness.ts';
import { newCa, serverCert } from '../helpers/pki.ts';
import { echoHandler, startHttpOrigin, startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';

const HOST = 'app.example.com';
const OTHER = 'www.other.test';
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

let h: Harness;
let cf: Cloudflare;
let node: EdgeNodeHandle;
let tlsOrigin: TestOrigin;
let httpOrigin: TestOrigin;
let zoneId: string;
let otherZoneId: string;
let httpPort: number;
let httpsPort: number;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** One request on a fresh connection; HTTPS with the SNI of the host name, the certificate not checked (not what is under test). */
function visit(scheme: 'http' | 'https', host: string, path = '/', opts: { method?: string; body?: string; hostHeader?: string } = {}): Promise<Answer> {
  const port = scheme === 'http' ? httpPort : httpsPort;
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.hostHeader ?? host }, agent: false };
    const onResponse = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body }));
    };
    const req = scheme === 'http' ? http.request(options, onResponse) : https.request({ ...options, servername: host, rejectUnauthorized: false }, onResponse);
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A bare TLS handshake: the version agreed, or the error the client saw. */
function handshake(servername: string, versions: { minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion }): Promise<{ protocol: string | null; error: NodeJS.ErrnoException | null }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername, rejectUnauthorized: false, ...versions }, () => {
      const protocol = socket.getProtocol();
      socket.destroy();
      resolve({ protocol, error: null });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ protocol: null, error }));
  });
}

/** One request on a TLS connection made with `servername` (null: no SNI at all) and at most `maxVersion`: the status line, or the error. */
function requestOver(servername: string | null, maxVersion: tls.SecureVersion, host: string): Promise<string> {
  return new Promise((resolve) => {
    // Node sends no SNI towards an IP address unless told a name.
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, rejectUnauthorized: false, maxVersion, ...(servername === null ? {} : { servername }) }, () => {
      socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
    });
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      out += d;
      if (out.includes('\r\n')) {
        resolve(out.slice(0, out.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code}`));
  });
}

/** openssl s_client, run asynchronously: the edge answering it lives on this event loop. */
function sClient(servername: string, flag: '-tls1_2' | '-tls1_3'): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${httpsPort}`, '-servername', servername, flag, '-brief'], { timeout: 20_000 });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.stdin.end();
    child.on('close', (status) => resolve({ status, output }));
  });
}

const valueOf = (setting: unknown): unknown => (setting as { value?: unknown }).value;

/** Waits until the edge serves everything committed so far. */
async function applied(): Promise<void> {
  await node.waitForVersion(await h.store.currentVersion(), 10_000);
}

before(async () => {
  h = await startApi({ listen: true });
  cf = new Cloudflare({ apiToken: h.token, baseURL: h.baseURL, maxRetries: 0 });
  const ca = await newCa('zone settings origin CA');
  tlsOrigin = await startTlsOrigin({
    cert: await serverCert(ca, [HOST, OTHER]),
    // /own-hsts: an origin that sends its own HSTS header.
    handler: (req, res, connection) => {
      if (req.url === '/own-hsts') res.setHeader('strict-transport-security', 'max-age=1');
      echoHandler(req, res, connection);
    },
  });
  httpOrigin = await startHttpOrigin();
  const [account] = (await cf.accounts.list()).result;
  zoneId = (await cf.zones.create({ account: { id: account.id }, name: 'example.com' })).id;
  otherZoneId = (await cf.zones.create({ account: { id: account.id }, name: 'other.test' })).id;
  for (const [zone, name] of [[zoneId, HOST], [otherZoneId, OTHER]]) {
    const res = await h.call('POST', `/zones/${zone}/dns_records`, {
      body: { type: 'A', name, content: '127.0.0.1', proxied: true, origin_https_port: tlsOrigin.port, origin_http_port: httpOrigin.port },
    });
    assert.equal(res.statusCode, 200, res.body);
  }
  const config = loadConfig({ env: {}, flags: { httpListen: '127.0.0.1:0', httpsListen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', heartbeatIntervalMs: 200 } });
  node = await startEdgeNode({ store: h.store, secretBox: h.secretBox, config, logger: pino({ level: 'silent' }), nodeName: 'zone-settings', edge: { originCaPem: ca.certPem } });
  httpPort = node.addresses.http!.port;
  httpsPort = node.addresses.https!.port;
  await applied();
});

after(async () => {
  await node?.destroy();
  await tlsOrigin?.close();
  await httpOrigin?.close();
  await h?.close();
});

test('always_use_https: plain-HTTP visitors get a 301 to the same URL over HTTPS, path and query kept; HTTPS is served', async () => {
  assert.equal(valueOf(await cf.zones.settings.get('always_use_https', { zone_id: zoneId })), 'off');
  assert.equal((await visit('http', HOST, '/before')).status, 200, 'off: plain HTTP is proxied');

  const edited = await cf.zones.settings.edit('always_use_https', { zone_id: zoneId, value: 'on' });
  assert.equal(valueOf(edited), 'on');
  assert.ok(Date.parse((edited as { modified_on?: string }).modified_on ?? ''));
  await applied();

  const moved = await visit('http', HOST, '/a/b?x=1&y=%20z');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, `https://${HOST}/a/b?x=1&y=%20z`);
  assert.equal(moved.headers['content-length'], '0');
  assert.ok(moved.headers['cf-ray'], 'the ray id names the answer');
  // A visitor that reached the edge on a port of its own is sent to the edge's HTTPS port.
  const withPort = await visit('http', HOST, '/p?q', { hostHeader: `${HOST}:${httpPort}` });
  assert.equal(withPort.headers.location, `https://${HOST}:${httpsPort}/p?q`);
  const post = await visit('http', HOST, '/form', { method: 'POST', body: 'a=1' });
  assert.equal(post.status, 301);
  assert.equal(post.headers.connection, 'close', 'the unread body ends the connection');
  assert.equal(httpOrigin.requests.filter((r) => r.url !== '/before').length, 0, 'nothing redirected reached the origin');

  // Following the Location lands on the origin over HTTPS.
  const served = await visit('https', HOST, '/a/b?x=1&y=%20z');
  assert.equal(served.status, 200, served.body);
  assert.equal(JSON.parse(served.body).url, '/a/b?x=1&y=%20z');
  assert.equal((await visit('http', OTHER, '/')).status, 200, 'another zone keeps its own setting');

  await cf.zones.settings.edit('always_use_https', { zone_id: zoneId, value: 'off' });
  await applied();
  assert.equal((await visit('http', HOST, '/')).status, 200);
});

test('SSL mode off: HTTPS visitors get a 301 to plain HTTP, which reaches the origin over HTTP; always_use_https does not loop', async () => {
  await cf.zones.settings.edit('ssl', { zone_id: zoneId, value: 'off' });
  await cf.zones.settings.edit('always_use_https', { zone_id: zoneId, value: 'on' });
  await applied();
  const moved = await visit('https', HOST, '/shop?item=7');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, `http://${HOST}/shop?item=7`);
  const before = httpOrigin.requests.length;
  const served = await visit('http', HOST, '/shop?item=7');
  assert.equal(served.status, 200, 'in mode off always_use_https stands down: no redirect loop');
  assert.equal(httpOrigin.requests.length, before + 1, 'the origin is reached over plain HTTP');
  assert.equal(httpOrigin.requests.at(-1)!.url, '/shop?item=7');

  await cf.zones.settings.edit('ssl', { zone_id: zoneId, value: 'full' });
  await cf.zones.settings.edit('always_use_https', { zone_id: zoneId, value: 'off' });
  await applied();
  assert.equal((await visit('https', HOST, '/')).status, 200);
});

test('security_header: HSTS on HTTPS answers only, nosniff on every answer, fields changed one at a time', async () => {
  const initial = valueOf(await cf.zones.settings.get('security_header', { zone_id: zoneId }));
  assert.deepEqual(initial, { strict_transport_security: { enabled: false, max_age: 0, include_subdomains: false, preload: false, nosniff: false } });
  assert.equal((await visit('https', HOST)).headers['strict-transport-security'], undefined);

  const value = { strict_transport_security: { enabled: true, max_age: 31_536_000, include_subdomains: true, preload: true, nosniff: true } };
  assert.deepEqual(valueOf(await cf.zones.settings.edit('security_header', { zone_id: zoneId, value })), value);
  await applied();
  const secure = await visit('https', HOST);
  assert.equal(secure.status, 200);
  assert.equal(secure.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains; preload');
  assert.equal(secure.headers['x-content-type-options'], 'nosniff');
  const own = await visit('https', HOST, '/own-hsts');
  const sts = own.rawHeaders.filter((_, i) => i % 2 === 1 && own.rawHeaders[i - 1].toLowerCase() === 'strict-transport-security');
  assert.deepEqual(sts, ['max-age=31536000; includeSubDomains; preload', 'max-age=1'], "the zone's comes first, so browsers heed it");
  const plain = await visit('http', HOST);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP (RFC 6797 §7.2)');
  assert.equal(plain.headers['x-content-type-options'], 'nosniff');
  // The edge's own pages carry them too: here a 52x for an origin that refuses connections.
  const gone = await startHttpOrigin();
  await gone.close();
  const down = await h.call('POST', `/zones/${zoneId}/dns_records`, { body: { type: 'A', name: 'down.example.com', content: '127.0.0.1', origin_https_port: gone.port } });
  assert.equal(down.statusCode, 200, down.body);
  await applied();
  const page = await visit('https', 'down.example.com');
  assert.ok(page.status >= 520, `${page.status} ${page.body}`);
  assert.equal(page.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains; preload');

  const partial = await cf.zones.settings.edit('security_header', { zone_id: zoneId, value: { strict_transport_security: { preload: false, max_age: 600 } } });
  assert.deepEqual(valueOf(partial), { strict_transport_security: { enabled: true, max_age: 600, include_subdomains: true, preload: false, nosniff: true } });
  await applied();
  assert.equal((await visit('http', HOST)).headers['x-content-type-options'], 'nosniff');

  await cf.zones.settings.edit('security_header', { zone_id: zoneId, value: { strict_transport_security: { enabled: false, nosniff: false } } });
  await applied();
  assert.equal((await visit('http', HOST)).headers['x-content-type-options'], undefined);
});

test('min_tls_version 1.3: a TLS 1.2 handshake is refused with protocol_version (node:tls and openssl), TLS 1.3 and other zones are served', async () => {
  await assert.rejects(cf.zones.settings.edit('min_tls_version', { zone_id: zoneId, value: '1.0' }), (err: unknown) => {
    assert.ok(err instanceof Cloudflare.BadRequestError);
    assert.match(JSON.stringify(err.errors), /TLS 1\.2 and 1\.3 only/);
    return true;
  });
  assert.equal(valueOf(await cf.zones.settings.get('min_tls_version', { zone_id: zoneId })), '1.2');
  assert.equal((await handshake(HOST, { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');

  assert.equal(valueOf(await cf.zones.settings.edit('min_tls_version', { zone_id: zoneId, value: '1.3' })), '1.3');
  await applied();
  const refused = await handshake(HOST, { maxVersion: 'TLSv1.2' });
  assert.equal(refused.protocol, null);
  assert.equal(refused.error?.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', String(refused.error));
  assert.equal((await handshake(HOST, {})).protocol, 'TLSv1.3');
  assert.equal((await handshake(OTHER, { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2', 'the other zone keeps the edge default');
  if (hasOpenssl) {
    const s12 = await sClient(HOST, '-tls1_2');
    assert.notEqual(s12.status, 0);
    assert.match(s12.output, /alert protocol version/i);
    const s13 = await sClient(HOST, '-tls1_3');
    assert.equal(s13.status, 0, s13.output);
    assert.match(s13.output, /Protocol version: TLSv1\.3/);
  }

  // A connection the gate could not tie to the zone (no SNI, or another zone's name) is refused per request.
  assert.equal(await requestOver(null, 'TLSv1.2', HOST), 'HTTP/1.1 421 Misdirected Request');
  assert.equal(await requestOver(OTHER, 'TLSv1.2', HOST), 'HTTP/1.1 421 Misdirected Request');
  assert.equal(await requestOver(OTHER, 'TLSv1.2', OTHER), 'HTTP/1.1 200 OK');
  assert.equal(await requestOver(null, 'TLSv1.3', HOST), 'HTTP/1.1 200 OK');

  // tls_1_3 off would leave no version: refused, nothing stored.
  await assert.rejects(cf.zones.settings.edit('tls_1_3', { zone_id: zoneId, value: 'off' }), (err: unknown) => {
    assert.ok(err instanceof Cloudflare.BadRequestError);
    assert.match(JSON.stringify(err.errors), /min_tls_version 1\.3 needs tls_1_3 on/);
    return true;
  });
  assert.equal(valueOf(await cf.zones.settings.get('tls_1_3', { zone_id: zoneId })), 'on');
  await cf.zones.settings.edit('min_tls_version', { zone_id: zoneId, value: '1.2' });
});

test('tls_1_3 off caps the zone at TLS 1.2 (a 1.3-only visitor is refused); zrt behaves as on', async () => {
  assert.equal(valueOf(await cf.zones.settings.edit('tls_1_3', { zone_id: zoneId, value: 'off' })), 'off');
  await applied();
  assert.equal((await handshake(HOST, {})).protocol, 'TLSv1.2');
  const only13 = await handshake(HOST, { minVersion: 'TLSv1.3' });
  assert.equal(only13.error?.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', String(only13.error));
  assert.equal((await handshake(OTHER, {})).protocol, 'TLSv1.3', 'other zones keep TLS 1.3');
  if (hasOpenssl) {
    assert.match((await sClient(HOST, '-tls1_3')).output, /alert protocol version/i);
    assert.match((await sClient(HOST, '-tls1_2')).output, /Protocol version: TLSv1\.2/);
  }
  await assert.rejects(cf.zones.settings.edit('min_tls_version', { zone_id: zoneId, value: '1.3' }), Cloudflare.BadRequestError);
  assert.equal(await requestOver(OTHER, 'TLSv1.3', HOST), 'HTTP/1.1 421 Misdirected Request', 'a TLS 1.3 connection made for another zone');
  assert.equal(await requestOver(HOST, 'TLSv1.3', HOST), 'HTTP/1.1 200 OK', 'capped at 1.2 by the gate');

  assert.equal(valueOf(await cf.zones.settings.edit('tls_1_3', { zone_id: zoneId, value: 'zrt' })), 'zrt');
  await applied();
  assert.equal((await handshake(HOST, {})).protocol, 'TLSv1.3');
  await cf.zones.settings.edit('tls_1_3', { zone_id: zoneId, value: 'on' });
});

test('http2 and websockets: read and changed through the SDK, carried to the edge as route fields', async () => {
  for (const id of ['http2', 'websockets'] as const) {
    assert.equal(valueOf(await cf.zones.settings.get(id, { zone_id: zoneId })), 'on');
    assert.equal(valueOf(await cf.zones.settings.edit(id, { zone_id: zoneId, value: 'off' })), 'off');
    await assert.rejects(cf.zones.settings.edit(id, { zone_id: zoneId, value: 'sometimes' }), Cloudflare.BadRequestError);
  }
  await applied();
  const route = findRoute(node.edge.snapshot, HOST)!;
  assert.equal(route.http2, false);
  assert.equal(route.websockets, false);
  const other = findRoute(node.edge.snapshot, OTHER)!;
  assert.equal(other.http2, true);
  assert.equal(other.websockets, true);
  const listed = (await h.call('GET', `/zones/${zoneId}/settings`)).json().result as { id: string; value: unknown }[];
  assert.deepEqual(
    listed.filter((s) => s.id === 'http2' || s.id === 'websockets').map((s) => [s.id, s.value]),
    [['http2', 'off'], ['websockets', 'off']],
  );
});
