// The first phases without a socket (phases.ts): resolveRoute (Host → Route, the zone's redirects,
// TLS range and upgrade rules) and pickPeer (Route → the pool of its peer identity), over a
// snapshot built by the real builder, with a fake visitor side and fake pools (phase-fakes.ts).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadRequestError,
  ClientCertificateUnusableError,
  NotProxiedHostError,
  RequestRejectedError,
  TlsVersionMisdirectedError,
  UnknownHostError,
  UpgradeRefusedError,
  VisitorRedirect,
} from '../../src/edge/errors.ts';
import { exchangeHandler, pickPeer, resolveRoute, runRequest } from '../../src/edge/phases.ts';
import type { Snapshot } from '../../src/edge/snapshot.ts';
import { buildSnapshot } from '../../src/sync/index.ts';
import { ConfigBuilder, clientCert, newInstallation } from '../helpers/pki.ts';
import { FakeEdge, FakeVisitor, requestOf } from './phase-fakes.ts';

let snapshot: Snapshot;

before(async () => {
  const inst = await newInstallation();
  const b = new ConfigBuilder(inst);
  const a = b.zone('a.test', { tlsClientAuth: 'on' });
  b.record(a, 'www.a.test', { httpsPort: 8443 });
  b.record(a, '*.a.test', { httpsPort: 8443 });
  b.record(a, 'dns.a.test', {}, { proxied: false });
  b.record(a, 'host.a.test', { httpsPort: 8443 }, { originHostHeader: 'internal.a.test' });
  const w = b.zone('w.test');
  b.record(w, '*.w.test', { httpsPort: 443 });
  b.record(w, 'dns.w.test', {}, { proxied: false });
  b.record(b.zone('tls13.test', { edge: { minTlsVersion: '1.3' } }), 'tls13.test', {});
  b.record(b.zone('tls12.test', { edge: { tls13: 'off' } }), 'tls12.test', {});
  b.record(b.zone('https.test', { edge: { alwaysUseHttps: 'on' } }), 'https.test', {});
  b.record(b.zone('off.test', { sslMode: 'off' }), 'off.test', {});
  b.record(b.zone('nows.test', { edge: { websockets: 'off' } }), 'nows.test', {});
  // A zone certificate whose key does not open: the route keeps its level and presents nothing.
  const bad = b.zone('bad.test', { aopEnabled: true });
  b.cert(bad, 'zone', await clientCert(inst.originPullCa, 'bad zone')).privateKeySealed = 'v1:' + Buffer.alloc(40).toString('base64');
  b.record(bad, 'www.bad.test', {});
  snapshot = buildSnapshot(b.build(), inst.secretBox);
});

const get = (host: string, path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}`;

// ── resolveRoute ──

test('an exact name: its route, the template key its own, the upstream head built', () => {
  const edge = new FakeEdge(snapshot);
  const ctx = requestOf(edge, get('WWW.A.test:8080', '/p?q=1'));
  assert.equal(resolveRoute(ctx), true);
  assert.equal(ctx.error, null);
  assert.equal(ctx.hostname, 'www.a.test');
  assert.equal(ctx.route, snapshot.exact.get('www.a.test'));
  assert.equal(ctx.templateKey, ctx.route!.peerKey);
  assert.match(ctx.upstreamHead, /^GET \/p\?q=1 HTTP\/1\.1\r\n/);
  assert.match(ctx.upstreamHead, new RegExp(`\r\ncf-ray: ${ctx.rayId}\r\n`, 'i'));
  assert.ok(ctx.upstreamHead.endsWith('\r\n\r\n'));
});

test('a name under a wildcard: the route made concrete for it, pooled by the template key', () => {
  const edge = new FakeEdge(snapshot);
  const ctx = requestOf(edge, get('x.a.test'));
  assert.equal(resolveRoute(ctx), true);
  const template = snapshot.wildcards.get('*.a.test')!;
  assert.equal(ctx.route!.name, '*.a.test');
  assert.equal(ctx.route!.servername, 'x.a.test');
  assert.equal(ctx.templateKey, template.peerKey);
  assert.notEqual(ctx.route!.peerKey, template.peerKey);
});

test('DNS-only names are not proxied, also below a proxied wildcard; unknown names are not configured', () => {
  const edge = new FakeEdge(snapshot);
  for (const host of ['dns.a.test', 'dns.w.test']) {
    const ctx = requestOf(edge, get(host));
    assert.equal(resolveRoute(ctx), false, host);
    assert.ok(ctx.error instanceof NotProxiedHostError, host);
    assert.equal(ctx.error.status, 404);
    assert.equal(ctx.route, null);
  }
  const sibling = requestOf(edge, get('other.w.test'));
  assert.equal(resolveRoute(sibling), true);
  assert.equal(sibling.route!.name, '*.w.test');

  const unknown = requestOf(edge, get('nowhere.test'));
  assert.equal(resolveRoute(unknown), false);
  assert.ok(unknown.error instanceof UnknownHostError);
  assert.equal(unknown.error.status, 404);
  assert.equal(unknown.closeAfter, false);
});

test('no Host is a 400; a head whose framing an origin could read otherwise is refused and closes', () => {
  const edge = new FakeEdge(snapshot);
  const noHost = requestOf(edge, 'GET / HTTP/1.0\r\nAccept: */*');
  assert.equal(resolveRoute(noHost), false);
  assert.ok(noHost.error instanceof BadRequestError);
  assert.equal(noHost.error.status, 400);

  const framing = requestOf(edge, 'POST / HTTP/1.1\r\nHost: www.a.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked');
  assert.equal(resolveRoute(framing), false);
  assert.ok(framing.error instanceof RequestRejectedError);
  assert.equal(framing.error.status, 400);
  assert.equal(framing.closeAfter, true);
  assert.equal((framing.visitor as FakeVisitor).expectedBodies, 0);
});

test('a request with a body is announced to the visitor side before routing', () => {
  const visitor = new FakeVisitor();
  const ctx = requestOf(new FakeEdge(snapshot), 'POST / HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: 3', { visitor });
  assert.equal(resolveRoute(ctx), false);
  assert.equal(visitor.expectedBodies, 1);
  assert.equal(ctx.contentLength, 3);
});

test("a connection's TLS version outside the zone's range is misdirected (421, the connection closes)", () => {
  const edge = new FakeEdge(snapshot);
  const cases: [host: string, version: 'TLSv1.2' | 'TLSv1.3' | null, scheme: 'http' | 'https', ok: boolean][] = [
    ['tls13.test', 'TLSv1.2', 'https', false],
    ['tls13.test', 'TLSv1.3', 'https', true],
    // Not known (another transport): the gate decided by SNI alone.
    ['tls13.test', null, 'https', true],
    ['tls13.test', 'TLSv1.2', 'http', true],
    ['tls12.test', 'TLSv1.3', 'https', false],
    ['tls12.test', 'TLSv1.2', 'https', true],
    ['www.a.test', 'TLSv1.2', 'https', true],
  ];
  for (const [host, version, scheme, ok] of cases) {
    edge.tlsVersion = version;
    const ctx = requestOf(edge, get(host), { scheme });
    const name = `${host} ${version} ${scheme}`;
    assert.equal(resolveRoute(ctx), ok, name);
    if (ok) continue;
    assert.ok(ctx.error instanceof TlsVersionMisdirectedError, name);
    assert.equal(ctx.error.status, 421);
    assert.equal(ctx.closeAfter, true);
  }
});

test('always_use_https sends plain HTTP to HTTPS, path and query kept; a Host with a port gets the listener port', () => {
  const edge = new FakeEdge(snapshot);
  edge.ports = { http: 8080, https: 8443 };
  const plain = requestOf(edge, get('https.test', '/p/a?q=1'));
  assert.equal(resolveRoute(plain), false);
  assert.ok(plain.error instanceof VisitorRedirect);
  assert.equal(plain.error.location, 'https://https.test/p/a?q=1');
  const direct = requestOf(edge, get('https.test:8080', '/p'));
  resolveRoute(direct);
  assert.equal((direct.error as VisitorRedirect).location, 'https://https.test:8443/p');
  assert.equal(resolveRoute(requestOf(edge, get('https.test'), { scheme: 'https' })), true);
  assert.equal(resolveRoute(requestOf(edge, get('www.a.test'))), true);
});

test('SSL mode off sends HTTPS to plain HTTP and serves plain HTTP', () => {
  const edge = new FakeEdge(snapshot);
  const tls = requestOf(edge, get('off.test', '/x?y'), { scheme: 'https' });
  assert.equal(resolveRoute(tls), false);
  assert.ok(tls.error instanceof VisitorRedirect);
  assert.equal(tls.error.location, 'http://off.test/x?y');
  const plain = requestOf(edge, get('off.test'));
  assert.equal(resolveRoute(plain), true);
  assert.equal(plain.route!.origin.scheme, 'http');
});

test('an upgrade to a zone with websockets off is refused (403); elsewhere it goes on', () => {
  const edge = new FakeEdge(snapshot);
  const upgrade = 'Connection: Upgrade\r\nUpgrade: websocket\r\n';
  const refused = requestOf(edge, get('nows.test', '/', upgrade));
  assert.equal(resolveRoute(refused), false);
  assert.ok(refused.error instanceof UpgradeRefusedError);
  assert.equal(refused.error.status, 403);
  const allowed = requestOf(edge, get('www.a.test', '/', upgrade));
  assert.equal(resolveRoute(allowed), true);
  assert.equal(allowed.upgrade, 'websocket');
  assert.equal(resolveRoute(requestOf(edge, get('nows.test'))), true);
});

test("a record's origin_host_header replaces the Host line sent to the origin", () => {
  const ctx = requestOf(new FakeEdge(snapshot), get('host.a.test'));
  assert.equal(resolveRoute(ctx), true);
  assert.match(ctx.upstreamHead, /\r\nhost: internal\.a\.test\r\n/);
  assert.equal(ctx.upstreamHead.match(/\r\nhost:/gi)!.length, 1);
  // The name the visitor asked for is still told.
  assert.match(ctx.upstreamHead, /\r\nx-forwarded-host: host\.a\.test\r\n/);
});

test('an ACME HTTP-01 token under validation is answered from the snapshot for its own name only', () => {
  const answer = { hostname: 'www.a.test', body: Buffer.from('token.thumbprint') };
  const edge = new FakeEdge({ ...snapshot, acmeHttp01: new Map([['token', answer]]) });
  const visitor = new FakeVisitor();
  const ctx = requestOf(edge, get('www.a.test', '/.well-known/acme-challenge/token'), { visitor });
  assert.equal(resolveRoute(ctx), false);
  assert.equal(ctx.done, true);
  assert.equal(ctx.error, null);
  assert.match(visitor.head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(visitor.body, 'token.thumbprint');
  assert.equal(visitor.finished, 1);
  // Another name, or over HTTPS: the origin's business.
  assert.equal(resolveRoute(requestOf(edge, get('x.a.test', '/.well-known/acme-challenge/token'))), true);
  assert.equal(resolveRoute(requestOf(edge, get('www.a.test', '/.well-known/acme-challenge/token'), { scheme: 'https' })), true);
});

// ── pickPeer ──

test('pickPeer: one pool per peer identity; names under a wildcard each get their own, kept by the template key', () => {
  const edge = new FakeEdge(snapshot);
  const pick = (host: string) => {
    const ctx = requestOf(edge, get(host));
    assert.equal(resolveRoute(ctx), true);
    assert.equal(pickPeer(ctx), true);
    return ctx;
  };
  const first = pick('www.a.test');
  assert.equal(pick('www.a.test').peer, first.peer);
  assert.equal(edge.pools.byKey.get(first.route!.peerKey), first.peer);
  assert.equal(first.route!.aop.level, 'global');
  assert.notEqual(first.route!.identity, null);

  const x = pick('x.a.test');
  const y = pick('y.a.test');
  assert.notEqual(x.peer, y.peer);
  const template = snapshot.wildcards.get('*.a.test')!.peerKey;
  for (const ctx of [x, y]) {
    const pool = edge.pools.byKey.get(ctx.route!.peerKey)!;
    assert.equal(pool, ctx.peer);
    assert.equal(pool.templateKey, template);
    assert.equal(pool.route.servername, ctx.hostname);
  }
  assert.equal(edge.pools.byKey.size, 3);
});

test('pickPeer: a client certificate that could not be loaded is a 502, never a connection without it', () => {
  const edge = new FakeEdge(snapshot);
  const ctx = requestOf(edge, get('www.bad.test'));
  assert.equal(resolveRoute(ctx), true);
  assert.equal(ctx.route!.identity, null);
  assert.equal(pickPeer(ctx), false);
  assert.ok(ctx.error instanceof ClientCertificateUnusableError);
  assert.equal(ctx.error.status, 502);
  assert.equal(ctx.peer, null);
  assert.equal(edge.pools.byKey.size, 0);
});

test("runRequest: the exchange goes to the peer's pool with the phases' exchange handler; upgrades on their own connection", () => {
  const edge = new FakeEdge(snapshot);
  const plain = requestOf(edge, get('www.a.test'));
  runRequest(plain);
  const upgrade = requestOf(edge, get('www.a.test', '/ws', 'Connection: Upgrade\r\nUpgrade: websocket\r\n'));
  runRequest(upgrade);
  const pool = edge.pools.byKey.get(plain.route!.peerKey)!;
  assert.deepEqual(
    pool.dispatched.map((d) => [d.ctx, d.handler, d.upgrade]),
    [
      [plain, exchangeHandler, false],
      [upgrade, exchangeHandler, true],
    ],
  );
  assert.ok(plain.tUpstream > 0);

  // Refused before any pool: answered at once, nothing dispatched.
  const visitor = new FakeVisitor();
  runRequest(requestOf(edge, get('www.bad.test'), { visitor }));
  assert.match(visitor.head, /^HTTP\/1\.1 502 /);
  assert.equal(edge.pools.byKey.size, 1);
});
