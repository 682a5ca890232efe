// Logs and metrics come from channel subscribers: an access line per request (AOP level,
// certificate fingerprint, upstream reused/resumed, timings) and a line per origin connection
// naming the level and fingerprint presented. Also: graceful close lets in-flight requests finish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ConfigBuilder, clientCert, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, echoHandler, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor } from './harness.ts';

let inst: TestInstallation;
let origin: TestOrigin;
const visitor = new Visitor();

before(async () => {
  inst = await newInstallation();
  origin = await startTlsOrigin({
    cert: await serverCert(await newCa('o'), ['o.test']),
    clientCa: inst.originPullCa.certPem,
    handler: (req, res, conn) => {
      if (req.url !== '/slow') return echoHandler(req, res, conn);
      req.resume();
      setTimeout(() => res.end('slow but fine'), 300);
    },
  });
});

after(async () => {
  await visitor.close();
  await origin.close();
});

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

test('access and origin-connection logs name the AOP level, fingerprint and reuse', async () => {
  const { logger, lines } = memoryLogger();
  const b = new ConfigBuilder(inst);
  const z = b.zone('log.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.log.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build(), { logger });
  try {
    await visitor.get(edge.httpPort, 'www.log.test', '/one');
    await visitor.get(edge.httpPort, 'www.log.test', '/two');
    await visitor.get(edge.httpPort, 'nowhere.test', '/');
    const fp = fingerprintOf(inst.global.certPem);
    const conns = lines.filter((l) => l.msg === 'origin connection');
    assert.equal(conns.length, 1);
    assert.equal(conns[0].aop, 'global');
    assert.equal(conns[0].certFingerprint, fp);
    assert.equal(conns[0].servername, 'www.log.test');
    assert.equal(conns[0].resumed, false);
    const requests = lines.filter((l) => l.msg === 'request');
    assert.equal(requests.length, 3);
    const [one, two, unknown] = requests as Record<string, unknown>[];
    assert.equal(one.path, '/one');
    assert.equal(one.status, 200);
    assert.equal(one.aop, 'global');
    assert.equal(one.certFingerprint, fp);
    assert.equal(one.upstreamReused, false);
    assert.equal(two.upstreamReused, true);
    assert.equal(two.upstreamConn, one.upstreamConn);
    assert.equal(one.upstreamResumed, false);
    assert.match(String(one.ray), /-TEST$/);
    assert.equal(typeof (one.ms as { total: number }).total, 'number');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.error, 'unknown_host');
    assert.ok(!JSON.stringify(lines).includes('PRIVATE KEY'));
  } finally {
    await edge.close();
  }
});

test('an unusable client certificate gives a clear 502, not a silent downgrade', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('broken.test', { aopEnabled: true });
  const cert = b.cert(z, 'zone', await clientCert(await newCa('c'), 'c'));
  cert.privateKeySealed = 'v1:' + Buffer.alloc(40).toString('base64');
  b.record(z, 'www.broken.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build());
  try {
    const res = await visitor.get(edge.httpPort, 'www.broken.test', '/', { headers: { accept: 'application/json' } });
    assert.equal(res.status, 502);
    assert.equal(res.json().code, 'client_certificate_unusable');
  } finally {
    await edge.close();
  }
});

test('close() is graceful: an in-flight request completes, new connections are refused', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('close.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.close.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build());
  const own = new Visitor();
  try {
    const inflight = own.get(edge.httpPort, 'www.close.test', '/slow');
    await new Promise((r) => setTimeout(r, 100));
    const closing = edge.edge.close();
    const res = await inflight;
    assert.equal(res.status, 200);
    await closing;
    const late = new Visitor();
    await assert.rejects(late.get(edge.httpPort, 'www.close.test'));
    await late.close();
  } finally {
    await own.close();
    await edge.close();
  }
});

test('requests are counted by status, exactly, however often the metrics are scraped', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('count.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.count.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build());
  try {
    for (let i = 0; i < 3; i++) await visitor.get(edge.httpPort, 'www.count.test', `/${i}`);
    await visitor.get(edge.httpPort, 'nowhere.test', '/');
    for (let scrape = 0; scrape < 2; scrape++) {
      const metrics = await edge.registry.metrics();
      assert.match(metrics, /originpull_edge_requests_total\{status="200"\} 3\n/);
      assert.match(metrics, /originpull_edge_requests_total\{status="404"\} 1\n/);
    }
    await visitor.get(edge.httpPort, 'www.count.test', '/again');
    assert.match(await edge.registry.metrics(), /originpull_edge_requests_total\{status="200"\} 4\n/);
  } finally {
    await edge.close();
  }
});

/** Writes `request` on a fresh connection and reads until the edge closes it: what the visitor sent and got. */
function rawExchange(port: number, request: string | Buffer): Promise<{ sent: number; received: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const bytes = Buffer.isBuffer(request) ? request : Buffer.from(request, 'latin1');
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ sent: bytes.length, received: Buffer.concat(chunks) }));
  });
}

async function linesFor(lines: Record<string, unknown>[], n: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5_000;
  while (lines.filter((l) => l.msg === 'request').length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return lines.filter((l) => l.msg === 'request');
}

test('access lines carry user agent, referer and the request and response bytes as they crossed the wire', async () => {
  const { logger, lines } = memoryLogger();
  const b = new ConfigBuilder(inst);
  const z = b.zone('bytes.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.bytes.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build(), { logger });
  try {
    const body = 'x'.repeat(1000);
    const post =
      'POST /upload HTTP/1.1\r\nHost: www.bytes.test\r\nUser-Agent: probe/1.0 (with "quotes")\r\nReferer: https://from.example/page?q=1\r\n' +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const one = await rawExchange(edge.httpPort, post);
    // Chunked upload, then a pipelined request on the same connection; the framing counts.
    const chunked =
      'POST /chunked HTTP/1.1\r\nHost: www.bytes.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' +
      'GET /next HTTP/1.1\r\nhost: www.bytes.test\r\nuser-agent: second\r\nconnection: close\r\n\r\n';
    const two = await rawExchange(edge.httpPort, chunked);
    // The edge's own error page.
    const unknown = await rawExchange(edge.httpPort, 'GET / HTTP/1.1\r\nHost: nowhere.test\r\nConnection: close\r\n\r\n');

    const [upload, chunkedLine, next, notFound] = await linesFor(lines, 4);
    assert.equal(upload.status, 200);
    assert.equal(upload.userAgent, 'probe/1.0 (with "quotes")');
    assert.equal(upload.referer, 'https://from.example/page?q=1');
    assert.equal(upload.requestBytes, one.sent);
    assert.equal(upload.responseBytes, one.received.length);
    assert.equal(JSON.parse(one.received.toString('latin1').split('\r\n\r\n')[1]).bodyBytes, 1000);

    assert.equal(chunkedLine.path, '/chunked');
    assert.equal(chunkedLine.userAgent, undefined);
    assert.equal(chunkedLine.referer, undefined);
    assert.equal(next.userAgent, 'second');
    assert.equal((chunkedLine.requestBytes as number) + (next.requestBytes as number), two.sent);
    assert.equal(next.requestBytes, chunked.length - chunked.indexOf('GET /next'));
    assert.equal((chunkedLine.responseBytes as number) + (next.responseBytes as number), two.received.length);
    assert.ok((next.responseBytes as number) > 0 && two.received.toString('latin1').indexOf('HTTP/1.1 200', 1) === chunkedLine.responseBytes);

    assert.equal(notFound.status, 404);
    assert.equal(notFound.requestBytes, 'GET / HTTP/1.1\r\nHost: nowhere.test\r\nConnection: close\r\n\r\n'.length);
    assert.equal(notFound.responseBytes, unknown.received.length);
  } finally {
    await edge.close();
  }
});
