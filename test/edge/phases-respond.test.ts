// The respond phases without a socket (phases.ts): error pages (respondEdgeError,
// respondUpstreamError: status, page, `connection: close` where the connection cannot go on, the
// one retry on a fresh connection) and the exchange handler the origin side reports through, over
// a snapshot built by the real builder, with a fake visitor side and fake pools (phase-fakes.ts).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { OriginResponseTimeoutError, UnknownHostError, VisitorRedirect } from '../../src/edge/errors.ts';
import { exchangeHandler, forward, pickPeer, resolveRoute, respondEdgeError, respondUpstreamError, runRequest } from '../../src/edge/phases.ts';
import { takeBlock } from '../../src/edge/read-blocks.ts';
import type { RequestCtx } from '../../src/edge/request-ctx.ts';
import type { Snapshot } from '../../src/edge/snapshot.ts';
import { buildSnapshot } from '../../src/sync/index.ts';
import { ConfigBuilder, newInstallation } from '../helpers/pki.ts';
import { FakeEdge, FakeLink, FakeVisitor, field, requestOf, type FakePool } from './phase-fakes.ts';

let snapshot: Snapshot;

before(async () => {
  const inst = await newInstallation();
  const b = new ConfigBuilder(inst);
  b.record(b.zone('a.test', { tlsClientAuth: 'on' }), 'www.a.test', { httpsPort: 8443 });
  const hsts = b.zone('hsts.test', { edge: { securityHeader: { enabled: true, maxAge: 600, includeSubdomains: false, preload: false, nosniff: true } } });
  b.record(hsts, 'hsts.test', {});
  snapshot = buildSnapshot(b.build(), inst.secretBox);
});

const get = (host: string, path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}`;

/** A request routed, its pool picked and the exchange handed to it, as runRequest leaves it. */
function forwarded(edge: FakeEdge, head: string, opts: { scheme?: 'http' | 'https'; visitor?: FakeVisitor } = {}): RequestCtx {
  const ctx = requestOf(edge, head, opts);
  assert.equal(resolveRoute(ctx) && pickPeer(ctx), true, String(ctx.error));
  forward(ctx);
  return ctx;
}

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

// ── error pages ──

test('an edge error: its status and title, a page with the ray id, its length, no-store; the connection goes on', () => {
  const edge = new FakeEdge(snapshot);
  const visitor = new FakeVisitor();
  const ctx = requestOf(edge, get('nowhere.test'), { visitor });
  runRequest(ctx);
  const head = visitor.head;
  assert.match(head, /^HTTP\/1\.1 404 Host not configured on this edge\r\n/);
  assert.ok(head.endsWith('\r\n\r\n'));
  assert.equal(field(head, 'content-type'), 'text/html; charset=utf-8');
  assert.equal(Number(field(head, 'content-length')), Buffer.byteLength(visitor.body));
  assert.equal(field(head, 'cache-control'), 'no-store');
  assert.equal(field(head, 'cf-ray'), ctx.rayId);
  assert.equal(field(head, 'connection'), '');
  assert.match(visitor.body, /404: Host not configured on this edge/);
  assert.ok(visitor.body.includes(ctx.rayId));
  assert.ok(visitor.body.includes('nowhere.test'));
  assert.ok(ctx.error instanceof UnknownHostError);
  assert.equal(ctx.status, 404);
  assert.equal(ctx.done, true);
  assert.equal(ctx.closeAfter, false);
  assert.equal(ctx.bytesOut, head.length + Buffer.byteLength(visitor.body));
  assert.equal(visitor.finished, 1);
});

test('the page is JSON for a visitor that asks for JSON, and has no body for HEAD', () => {
  const edge = new FakeEdge(snapshot);
  const json = new FakeVisitor();
  const ctx = requestOf(edge, get('nowhere.test', '/', 'Accept: application/json\r\n'), { visitor: json });
  runRequest(ctx);
  assert.equal(field(json.head, 'content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(
    (({ status, code, host, ray_id }) => ({ status, code, host, ray_id }))(JSON.parse(json.body) as Record<string, unknown>),
    { status: 404, code: 'unknown_host', host: 'nowhere.test', ray_id: ctx.rayId },
  );

  const head = new FakeVisitor();
  const headCtx = requestOf(edge, 'HEAD / HTTP/1.1\r\nHost: nowhere.test', { visitor: head });
  runRequest(headCtx);
  assert.equal(head.bodies.length, 0);
  assert.ok(Number(field(head.head, 'content-length')) > 0);
  assert.equal(headCtx.bytesOut, head.head.length);
});

test('`connection: close` when the connection cannot carry another request', () => {
  const edge = new FakeEdge(snapshot);
  const cases: [name: string, head: string, set: (v: FakeVisitor) => void][] = [
    ['unknown framing', 'POST / HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: 1\r\nContent-Length: 2', () => {}],
    ['the visitor asked', get('nowhere.test', '/', 'Connection: close\r\n'), () => {}],
    ['HTTP/1.0 without keep-alive', 'GET / HTTP/1.0\r\nHost: nowhere.test', () => {}],
    ['the visitor connection is closing', get('nowhere.test'), (v) => (v.closing = true)],
    ['part of the upload is unread', get('nowhere.test'), (v) => (v.bodyPending = true)],
  ];
  for (const [name, text, set] of cases) {
    const visitor = new FakeVisitor();
    set(visitor);
    const ctx = requestOf(edge, text, { visitor });
    runRequest(ctx);
    assert.equal(field(visitor.head, 'connection'), 'close', name);
    assert.equal(ctx.closeAfter, true, name);
  }
});

test('once a head went out, an error cuts the connection instead of a page', () => {
  const edge = new FakeEdge(snapshot);
  const visitor = new FakeVisitor();
  const ctx = forwarded(edge, get('www.a.test'), { visitor });
  exchangeHandler.onHeaders(ctx, 200, 'OK', 'content-length: 10\r\n', false, false, false);
  assert.equal(exchangeHandler.onData(ctx, Buffer.from('hello'), takeBlock()), true);
  exchangeHandler.onError(ctx, withCode('read ECONNRESET', 'ECONNRESET'));
  assert.equal(visitor.heads.length, 1);
  assert.equal(visitor.destroyed, true);
  assert.equal(visitor.finished, 1);
  assert.equal(ctx.status, 200);
  assert.equal(ctx.error!.status, 502);
});

test('a redirect is a 301 with the location and no page, and not an error', () => {
  const edge = new FakeEdge(snapshot);
  const visitor = new FakeVisitor();
  const ctx = requestOf(edge, get('www.a.test'), { visitor });
  resolveRoute(ctx);
  respondEdgeError(ctx, new VisitorRedirect('https://www.a.test/', 'always_use_https'));
  assert.match(visitor.head, /^HTTP\/1\.1 301 Moved Permanently\r\n/);
  assert.equal(field(visitor.head, 'location'), 'https://www.a.test/');
  assert.equal(field(visitor.head, 'content-length'), '0');
  assert.equal(field(visitor.head, 'cf-ray'), ctx.rayId);
  assert.equal(visitor.bodies.length, 0);
  assert.equal(ctx.status, 301);
  assert.equal(ctx.error, null);
});

// ── upstream errors ──

test('upstream failures are classified to 52x; the page names the failure, not its detail', () => {
  const edge = new FakeEdge(snapshot);
  const cases: [err: () => Error, status: number, title: string, connection?: boolean][] = [
    [() => withCode('connect ECONNREFUSED 127.0.0.1:8443', 'ECONNREFUSED'), 521, 'Web server is down'],
    [() => withCode('getaddrinfo ENOTFOUND origin.internal', 'ENOTFOUND'), 523, 'Origin is unreachable'],
    [() => new OriginResponseTimeoutError('the origin sent nothing for 5000 ms'), 524, 'A timeout occurred'],
    // Closed under the first request of a new TLS connection: most likely our certificate refused.
    [() => withCode('socket hang up 127.0.0.1:8443', 'ECONNRESET'), 525, 'SSL handshake failed', true],
    [() => withCode('write EPIPE 127.0.0.1:8443', 'EPIPE'), 502, 'Bad gateway'],
  ];
  for (const [err, status, title, connection] of cases) {
    const visitor = new FakeVisitor();
    const ctx = forwarded(edge, get('www.a.test'), { visitor });
    if (connection) ctx.connection = new FakeLink();
    respondUpstreamError(ctx, err());
    assert.match(visitor.head, new RegExp(`^HTTP/1\\.1 ${status} ${title}\\r\\n`), title);
    assert.equal(ctx.status, status);
    assert.equal(ctx.error!.status, status);
    assert.ok(visitor.body.includes(ctx.rayId));
    assert.ok(!visitor.body.includes('127.0.0.1') && !visitor.body.includes('origin.internal'), visitor.body);
    assert.equal(ctx.upstreamDone, true);
    assert.equal(visitor.finished, 1);
  }
});

test("the zone's answer headers are on error pages: HSTS on HTTPS only, nosniff on both", () => {
  const edge = new FakeEdge(snapshot);
  for (const scheme of ['https', 'http'] as const) {
    const visitor = new FakeVisitor();
    respondUpstreamError(forwarded(edge, get('hsts.test'), { scheme, visitor }), withCode('connect ECONNREFUSED', 'ECONNREFUSED'));
    assert.equal(field(visitor.head, 'strict-transport-security'), scheme === 'https' ? 'max-age=600' : '', scheme);
    assert.equal(field(visitor.head, 'x-content-type-options'), 'nosniff', scheme);
  }
});

test('a reused connection the origin had closed: retried once on the same pool, then the error page', () => {
  const edge = new FakeEdge(snapshot);
  const visitor = new FakeVisitor();
  const ctx = forwarded(edge, get('www.a.test'), { visitor });
  const pool = ctx.peer as FakePool;
  ctx.connection = new FakeLink();
  ctx.reused = true;
  exchangeHandler.onError(ctx, withCode('read ECONNRESET', 'ECONNRESET'));
  assert.equal(visitor.heads.length, 0);
  assert.equal(ctx.attempts, 1);
  assert.equal(ctx.connection, null);
  assert.equal(ctx.reused, false);
  assert.deepEqual(pool.dispatched.map((d) => [d.ctx, d.handler]), [[ctx, exchangeHandler], [ctx, exchangeHandler]]);
  // The retry failed too: no third try.
  ctx.reused = true;
  exchangeHandler.onError(ctx, withCode('read ECONNRESET', 'ECONNRESET'));
  assert.match(visitor.head, /^HTTP\/1\.1 502 /);
  assert.equal(pool.dispatched.length, 2);
});

test('no retry with a body to replay, after the answer began, or for a failure that is not a stale connection', () => {
  const cases: [name: string, head: string, err: Error, after?: (ctx: RequestCtx) => void][] = [
    ['a body', 'POST / HTTP/1.1\r\nHost: www.a.test\r\nContent-Length: 2', withCode('read ECONNRESET', 'ECONNRESET')],
    ['an answer began', get('www.a.test'), withCode('read ECONNRESET', 'ECONNRESET'), (ctx) => (ctx.upstreamStatus = 200)],
    ['a timeout', get('www.a.test'), new OriginResponseTimeoutError('the origin sent nothing')],
  ];
  for (const [name, head, err, after] of cases) {
    // A fresh edge each: the pool's dispatches are this request's only.
    const edge = new FakeEdge(snapshot);
    const visitor = new FakeVisitor();
    const ctx = forwarded(edge, head, { visitor });
    ctx.connection = new FakeLink();
    ctx.reused = true;
    after?.(ctx);
    respondUpstreamError(ctx, err);
    assert.equal((ctx.peer as FakePool).dispatched.length, 1, name);
    assert.equal(ctx.attempts, 0, name);
    assert.equal(visitor.heads.length, 1, name);
  }
});

// ── the exchange handler ──

test("onHeaders composes the visitor's head, which leaves with the first body bytes; onComplete finishes", () => {
  const edge = new FakeEdge(snapshot);
  const visitor = new FakeVisitor();
  const ctx = forwarded(edge, get('hsts.test'), { scheme: 'https', visitor });
  exchangeHandler.onHeaders(ctx, 200, 'Fine', 'content-type: text/plain\r\ncontent-length: 10\r\n', false, false, false);
  assert.equal(visitor.heads.length, 0);
  assert.equal(ctx.upstreamStatus, 200);
  assert.equal(exchangeHandler.onData(ctx, Buffer.from('hello'), takeBlock()), true);
  assert.equal(
    visitor.head,
    'HTTP/1.1 200 Fine\r\nstrict-transport-security: max-age=600\r\nx-content-type-options: nosniff\r\ncontent-type: text/plain\r\ncontent-length: 10\r\n\r\n',
  );
  assert.equal(ctx.headersSent, true);
  // Under back-pressure the visitor's false is passed back to the origin connection.
  visitor.accepting = false;
  assert.equal(exchangeHandler.onData(ctx, Buffer.from('world'), takeBlock()), false);
  assert.equal(visitor.body, 'helloworld');
  exchangeHandler.onComplete(ctx);
  assert.equal(visitor.finished, 1);
  assert.equal(ctx.done, true);
  assert.equal(ctx.status, 200);
  assert.equal(ctx.bytesOut, visitor.head.length + 10);
});

test('onHeaders frames for the visitor: chunked passed on, until-close closes, HTTP/1.0 keep-alive said; a bodiless answer leaves at onComplete', () => {
  const edge = new FakeEdge(snapshot);
  const chunked = new FakeVisitor();
  const a = forwarded(edge, get('www.a.test'), { visitor: chunked });
  exchangeHandler.onHeaders(a, 200, 'OK', '', true, false, false);
  exchangeHandler.onData(a, Buffer.from('0\r\n\r\n'), takeBlock());
  assert.equal(field(chunked.head, 'transfer-encoding'), 'chunked');
  assert.equal(field(chunked.head, 'connection'), '');

  const untilClose = new FakeVisitor();
  const b = forwarded(edge, get('www.a.test'), { visitor: untilClose });
  exchangeHandler.onHeaders(b, 200, 'OK', '', false, true, false);
  exchangeHandler.onData(b, Buffer.from('x'), takeBlock());
  assert.equal(field(untilClose.head, 'connection'), 'close');
  assert.equal(b.closeAfter, true);

  const old = new FakeVisitor();
  const c = forwarded(edge, 'GET / HTTP/1.0\r\nHost: www.a.test\r\nConnection: keep-alive', { visitor: old });
  exchangeHandler.onHeaders(c, 204, '', '', false, false, true);
  exchangeHandler.onComplete(c);
  assert.equal(old.head, 'HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\n\r\n');
  assert.equal(old.bodies.length, 0);
  assert.equal(old.finished, 1);
});

test('onUpgrade writes the 101 with the Connection and Upgrade fields, and settles the request', () => {
  const edge = new FakeEdge(snapshot);
  const visitor = new FakeVisitor();
  const ctx = forwarded(edge, get('www.a.test', '/ws', 'Connection: Upgrade\r\nUpgrade: websocket\r\n'), { visitor });
  assert.equal((ctx.peer as FakePool).dispatched[0].upgrade, true);
  exchangeHandler.onUpgrade(ctx, 'sec-websocket-accept: abc\r\n', 'websocket');
  assert.equal(visitor.head, 'HTTP/1.1 101 Switching Protocols\r\nsec-websocket-accept: abc\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  assert.equal(ctx.status, 101);
  assert.equal(ctx.done, true);
  assert.equal(ctx.upstreamDone, true);
  // Logged when the tunnel closes, not now.
  assert.equal(visitor.finished, 0);
});
