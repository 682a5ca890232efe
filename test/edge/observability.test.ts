// Logs and metrics come from channel subscribers: an access line per request (AOP level,
// certificate fingerprint, upstream reused/resumed, timings) and a line per origin connection
// naming the level and fingerprint presented. Also: graceful close lets in-flight requests finish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
