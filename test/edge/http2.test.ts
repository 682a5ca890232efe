// HTTP/2 to visitors with node:http2 clients: ALPN picks h2 (http/1.1 stays on the same listener,
// and is all a zone with http2 off gets), streams go through the same routing, AOP identity and
// HTTP/1.1 origin pools, many streams share one connection, 100 MB each way with flow control,
// trailers both ways, a stream reset mid-body releases its origin exchange, and shutdown is a
// GOAWAY that lets streams under way finish. The visitor protocol shows in the access log and metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import http2, { type ClientHttp2Session } from 'node:http2';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessLogFields } from '../../src/edge/access-log.ts';
import { requestChannel } from '../../src/edge/observe.ts';
import type { RequestCtx } from '../../src/edge/request-ctx.ts';
import { ConfigBuilder, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, type TestEdge } from './harness.ts';
import { h2connect, h2request } from './h2-client.ts';

const MiB = 1024 * 1024;
/** 1 MiB of varied bytes; bodies are this, repeated. */
const BLOCK = Buffer.from(Array.from({ length: MiB }, (_, i) => (i * 7 + (i >> 11)) & 0xff));

/** Many streams at once dial many origin connections at once: a loaded box needs time for the handshakes. */
const GENEROUS = { timeouts: { connectMs: 20_000, responseMs: 20_000, keepAliveMs: 10_000 } };
let inst: TestInstallation;
let origin: TestOrigin;
let edge: TestEdge;
/** Origin answers that ended before they were complete, by path. */
const originClosed: { path: string; complete: boolean }[] = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url!;
  res.on('close', () => originClosed.push({ path: url, complete: res.writableFinished }));
  if (url.startsWith('/download/')) {
    const total = Number.parseInt(url.split('/')[2], 10);
    res.writeHead(200, url.endsWith('?chunked') ? { 'content-type': 'application/octet-stream' } : { 'content-type': 'application/octet-stream', 'content-length': total * MiB });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent++;
        if (!res.write(BLOCK)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  if (url.startsWith('/trailers')) {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum, grpc-status' });
    if (!url.includes('empty')) res.write('some body');
    res.addTrailers({ 'x-checksum': 'c0ffee', 'grpc-status': '0' });
    res.end();
    return;
  }
  if (url.startsWith('/empty')) {
    res.writeHead(204, { 'x-empty': 'yes' });
    res.end();
    return;
  }
  if (url.startsWith('/slow')) {
    setTimeout(() => res.end('slow done'), 400);
    return;
  }
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (c: Buffer) => {
    bytes += c.length;
    hash.update(c);
  });
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url, headers: req.headers, trailers: req.trailers, bytes, sha256: hash.digest('hex'), fingerprint: (req.socket as tls.TLSSocket).getPeerX509Certificate()?.fingerprint256.replaceAll(':', '').toLowerCase() });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'set-cookie': ['a=1', 'b=2'] });
    res.end(body);
  });
}

before(async () => {
  inst = await newInstallation();
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: inst.originPullCa.certPem, handler });
  const b = new ConfigBuilder(inst);
  const z = b.zone('h2.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.h2.test', { httpsPort: origin.port });
  // A zone with its http2 setting off (what PATCH /zones/{id}/settings/http2 stores).
  b.record(b.zone('h1only.test', { tlsClientAuth: 'on', edge: { http2: 'off' } }), 'www.h1only.test', { httpsPort: origin.port });
  edge = await startTestEdge(inst, b.build(), GENEROUS);
});

after(async () => {
  await edge.close();
  await origin.close();
});

function alpn(servername: string, offered: string[]): Promise<string | false | null> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: edge.httpsPort, servername, ca: inst.edgeCa.certPem, ALPNProtocols: offered }, () => {
      resolve(s.alpnProtocol);
      s.destroy();
    });
    s.on('error', reject);
  });
}

test('ALPN: h2 when offered, http/1.1 otherwise on the same listener; a zone with its http2 setting off gets http/1.1', async () => {
  assert.equal(await alpn('www.h2.test', ['h2', 'http/1.1']), 'h2');
  assert.equal(await alpn('www.h2.test', ['http/1.1', 'h2']), 'h2');
  assert.equal(await alpn('www.h2.test', ['http/1.1']), 'http/1.1');
  assert.equal(await alpn('www.h1only.test', ['h2', 'http/1.1']), 'http/1.1');
  await assert.rejects(alpn('www.h1only.test', ['h2']), /no application protocol|alert/i);
});

test('a stream routes by :authority through the AOP pool; cookies are joined; the protocol is logged and counted', async () => {
  const seen: RequestCtx[] = [];
  const listen = (m: unknown) => seen.push(m as RequestCtx);
  diagnostics.subscribe(requestChannel.name as string, listen);
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    const res = await h2request(session, { ':path': '/echo?q=1', cookie: ['a=1', 'b=2'] as unknown as string, 'x-custom': 'kept' });
    assert.equal(res.status, 200, res.body.toString());
    const echo = JSON.parse(res.body.toString());
    assert.equal(echo.url, '/echo?q=1');
    assert.equal(echo.fingerprint, fingerprintOf(inst.global.certPem));
    assert.equal(echo.headers.host, `www.h2.test:${edge.httpsPort}`);
    assert.equal(echo.headers.cookie, 'a=1; b=2');
    assert.equal(echo.headers['x-custom'], 'kept');
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    assert.equal(echo.headers['cf-visitor'], '{"scheme":"https"}');
    assert.equal(echo.headers['transfer-encoding'], undefined);
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
    assert.match(String(res.headers['cf-ray']), /-TEST$/);
    assert.equal(res.headers.connection, undefined);
    // An unknown name is the edge's own error page, over HTTP/2 too.
    const unknown = await h2request(session, { ':path': '/', ':authority': 'nope.example' });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.headers['cf-ray']), /-TEST$/);
  } finally {
    session.close();
    diagnostics.unsubscribe(requestChannel.name as string, listen);
  }
  const ctx = seen.find((c) => c.target === '/echo?q=1')!;
  assert.equal(ctx.protocol, 'HTTP/2');
  assert.match(accessLogFields(ctx), /"protocol":"HTTP\/2"/);
  const metrics = await edge.registry.metrics();
  assert.match(metrics, /originpull_edge_visitor_protocol_requests_total\{protocol="HTTP\/2"\} [1-9]/);
});

test('a coalesced stream for a name whose zone has http2 off gets 421 Misdirected Request', async () => {
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    const res = await h2request(session, { ':path': '/coalesced', ':authority': 'www.h1only.test' });
    assert.equal(res.status, 421);
    assert.equal(origin.requests.some((r) => r.url === '/coalesced'), false);
    // The connection's own name still goes through on it.
    assert.equal((await h2request(session, { ':path': '/echo/own' })).status, 200);
  } finally {
    session.close();
  }
});

test('HEAD and 204 answers end their streams with the head; the length of a HEAD answer is kept', async () => {
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    const head = await h2request(session, { ':method': 'HEAD', ':path': '/download/2' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(2 * MiB));
    assert.equal(head.body.length, 0);
    const empty = await h2request(session, { ':path': '/empty' });
    assert.equal(empty.status, 204);
    assert.equal(empty.headers['x-empty'], 'yes');
    assert.equal(empty.body.length, 0);
  } finally {
    session.close();
  }
});

test('many concurrent streams on one connection, each answered with its own request', async () => {
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    const n = 300;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => h2request(session, { ':path': `/echo/${i}` })));
    for (let i = 0; i < n; i++) {
      assert.equal(results[i].status, 200);
      assert.equal(JSON.parse(results[i].body.toString()).url, `/echo/${i}`);
    }
  } finally {
    session.close();
  }
});

test('100 MB upload without Content-Length (chunked upstream, trailers in the last chunk) and 100 MB download', async () => {
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    const upload = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/upload', 'content-type': 'application/octet-stream' }, { waitForTrailers: true });
      req.on('wantTrailers', () => req.sendTrailers({ 'x-upload-sum': 'done' }));
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 100) {
          sent++;
          if (!req.write(BLOCK)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(upload.status, 200, upload.body);
    const echo = JSON.parse(upload.body);
    assert.equal(echo.bytes, 100 * MiB);
    const expected = createHash('sha256');
    for (let i = 0; i < 100; i++) expected.update(BLOCK);
    const digest = expected.digest('hex');
    assert.equal(echo.sha256, digest);
    assert.equal(echo.headers['transfer-encoding'], 'chunked');
    assert.equal(echo.trailers['x-upload-sum'], 'done');

    for (const path of ['/download/100', '/download/100?chunked']) {
      const got = await new Promise<{ status: number; bytes: number; sha256: string }>((resolve, reject) => {
        const req = session.request({ ':path': path }, { endStream: true });
        const hash = createHash('sha256');
        let bytes = 0;
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => {
          bytes += c.length;
          hash.update(c);
        });
        req.on('end', () => resolve({ status, bytes, sha256: hash.digest('hex') }));
        req.on('error', reject);
      });
      assert.equal(got.status, 200, path);
      assert.equal(got.bytes, 100 * MiB, path);
      assert.equal(got.sha256, digest, path);
    }
  } finally {
    session.close();
  }
});

test("the origin's trailers reach the visitor as an HTTP/2 trailer block, after a body or none", async () => {
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    for (const path of ['/trailers', '/trailers?empty']) {
      const res = await h2request(session, { ':path': path, te: 'trailers' });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), path === '/trailers' ? 'some body' : '');
      assert.equal(res.trailers?.['x-checksum'], 'c0ffee', path);
      assert.equal(res.trailers?.['grpc-status'], '0', path);
    }
    // Without trailers, a length-less answer still ends cleanly.
    const plain = await h2request(session, { ':path': '/download/1?chunked' });
    assert.equal(plain.body.length, MiB);
  } finally {
    session.close();
  }
});

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a stream reset mid-body ends its origin exchange, and the connection goes on serving', async () => {
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    // Download: the visitor cancels after the first MiB.
    const req = session.request({ ':path': '/download/500' }, { endStream: true });
    let got = 0;
    await new Promise<void>((resolve) => {
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= MiB && !req.closed) {
          req.close(http2.constants.NGHTTP2_CANCEL);
          resolve();
        }
      });
    });
    await until(() => originClosed.some((c) => c.path === '/download/500'), 'the origin answer to end');
    assert.equal(originClosed.find((c) => c.path === '/download/500')!.complete, false, 'cut, not sent in full');

    // Upload: the visitor cancels after sending part of its body.
    const up = session.request({ ':method': 'POST', ':path': '/upload-cut' });
    up.on('error', () => {});
    up.write(BLOCK);
    await until(() => origin.requests.some((r) => r.url === '/upload-cut' && r.bodyBytes > 0), 'the upload to reach the origin');
    up.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => originClosed.some((c) => c.path === '/upload-cut'), 'the origin request to end');

    const after = await h2request(session, { ':path': '/echo/after-reset' });
    assert.equal(after.status, 200);
  } finally {
    session.close();
  }
});

test('shutdown sends GOAWAY: the stream under way finishes, the connection closes, close() resolves', async () => {
  const own = await startTestEdge(inst, (() => {
    const b = new ConfigBuilder(inst);
    b.record(b.zone('h2.test', { tlsClientAuth: 'on' }), 'www.h2.test', { httpsPort: origin.port });
    return b.build();
  })());
  let session: ClientHttp2Session | null = null;
  try {
    session = await h2connect(own.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
    const goaway = new Promise<number>((resolve) => session!.once('goaway', (code: number) => resolve(code)));
    const closed = new Promise<void>((resolve) => session!.once('close', () => resolve()));
    const slow = h2request(session, { ':path': '/slow' });
    await until(() => origin.requests.some((r) => r.url === '/slow'), 'the slow request to reach the origin');
    const closing = own.edge.close();
    assert.equal(await goaway, http2.constants.NGHTTP2_NO_ERROR);
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'slow done');
    await closed;
    await closing;
  } finally {
    session?.destroy();
    await own.close();
  }
});

test('an idle HTTP/2 connection is closed after the keep-alive timeout', async () => {
  const own = await startTestEdge(inst, (() => {
    const b = new ConfigBuilder(inst);
    b.record(b.zone('h2.test', { tlsClientAuth: 'on' }), 'www.h2.test', { httpsPort: origin.port });
    return b.build();
  })(), { visitorKeepAliveMs: 300 });
  try {
    const session = await h2connect(own.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    assert.equal((await h2request(session, { ':path': '/echo' })).status, 200);
    await closed;
  } finally {
    await own.close();
  }
});

test('Expect: 100-continue gets a 100 once the origin connection is ready, then the body goes through', async () => {
  const session = await h2connect(edge.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    const res = await new Promise<{ status: number; body: string; continued: boolean }>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/expect', expect: '100-continue', 'content-length': '5' });
      let continued = false;
      let status = 0;
      let body = '';
      req.on('continue', () => {
        continued = true;
        req.end('hello');
      });
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => resolve({ status, body, continued }));
      req.on('error', reject);
    });
    assert.equal(res.continued, true);
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).bytes, 5);
  } finally {
    session.close();
  }
});

test('a visitor that reads nothing of an answer has its stream cut after the send timeout', async () => {
  const own = await startTestEdge(inst, (() => {
    const b = new ConfigBuilder(inst);
    b.record(b.zone('h2.test', { tlsClientAuth: 'on' }), 'www.h2.test', { httpsPort: origin.port });
    return b.build();
  })(), { visitorSendTimeoutMs: 500 });
  const session = await h2connect(own.httpsPort, 'www.h2.test', inst.edgeCa.certPem);
  try {
    const req = session.request({ ':path': '/download/300' }, { endStream: true });
    req.on('error', () => {});
    // Never read: the stream's window closes, the edge's buffer fills, the origin is paused.
    req.pause();
    const code = await new Promise<number>((resolve) => req.once('close', () => resolve(req.rstCode)));
    assert.equal(code, http2.constants.NGHTTP2_CANCEL);
    // Only this stream: the connection still serves.
    assert.equal((await h2request(session, { ':path': '/echo/after-timeout' })).status, 200);
  } finally {
    session.close();
    await own.close();
  }
});
