// What the origin and the visitor see: forwarding headers, the ray id both ways, hop-by-hop
// headers stripped, bodies streamed in both directions, and HTTPS to visitors with edge
// certificates issued by the installation's edge CA per SNI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import { request, Agent } from 'undici';
import { ConfigBuilder, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type OriginHandler, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor, type TestEdge } from './harness.ts';

let inst: TestInstallation;
let origin: TestOrigin;
let edge: TestEdge;
const visitor = new Visitor();
const MiB = 1024 * 1024;

const download = { sent: 0 };
const trickle = { done: false };

/**
 * /download/N streams N MiB in 64 KiB chunks as fast as the socket drains (progress in
 * `download.sent`); /trickle sends 8 chunks 50 ms apart; /hop answers with hop-by-hop headers.
 */
const handler: OriginHandler = (req, res, connection) => {
  if (req.url!.startsWith('/download/')) {
    const total = Number(req.url!.split('/')[2]) * MiB;
    const chunk = Buffer.alloc(64 * 1024, 97);
    download.sent = 0;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
    const pump = () => {
      while (download.sent < total) {
        download.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  if (req.url === '/trickle') {
    trickle.done = false;
    res.writeHead(200, { 'content-type': 'text/plain' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`chunk ${n}\n`);
      if (++n === 8) {
        clearInterval(timer);
        trickle.done = true;
        res.end();
      }
    }, 50);
    return;
  }
  if (req.url === '/hop') {
    res.writeHead(200, [
      ['Connection', 'X-Private-Hop, keep-alive'],
      ['X-Private-Hop', 'secret'],
      ['Keep-Alive', 'timeout=5'],
      ['X-Kept', 'yes'],
    ].flat());
    res.end('ok');
    return;
  }
  let bodyBytes = 0;
  let firstChunkAt = 0;
  req.on('data', (c: Buffer) => {
    if (bodyBytes === 0) firstChunkAt = Date.now();
    bodyBytes += c.length;
  });
  req.on('end', () => {
    const body = JSON.stringify({ fingerprint: connection.fingerprint, headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes, firstChunkAt, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
};

before(async () => {
  inst = await newInstallation();
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: inst.originPullCa.certPem, handler });
  const b = new ConfigBuilder(inst);
  const z = b.zone('fwd.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.fwd.test', { httpsPort: origin.port });
  b.record(z, '*.wild.fwd.test', { httpsPort: origin.port });
  edge = await startTestEdge(inst, b.build());
});

after(async () => {
  await visitor.close();
  await edge.close();
  await origin.close();
});

test('forwarding headers reach the origin; the ray id comes back; hop-by-hop headers are stripped', async () => {
  const res = await visitor.raw(edge.httpPort, 'www.fwd.test', '/path?q=1', {
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'forged',
    'cf-connecting-ip': '6.6.6.6',
    connection: 'x-drop-me, close',
    'x-drop-me': 'secret',
    te: 'trailers',
    'proxy-authorization': 'Basic Zm9v',
    'x-custom': 'kept',
  });
  assert.equal(res.status, 200, res.text);
  const seen = res.json<{ headers: Record<string, string>; url: string; fingerprint: string }>();
  assert.equal(seen.url, '/path?q=1');
  assert.equal(seen.fingerprint, fingerprintOf(inst.global.certPem));
  assert.equal(seen.headers.host, 'www.fwd.test');
  assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-host'], 'www.fwd.test');
  assert.equal(seen.headers['cf-connecting-ip'], '127.0.0.1');
  assert.equal(seen.headers['cf-visitor'], '{"scheme":"http"}');
  assert.equal(seen.headers['x-custom'], 'kept');
  for (const h of ['x-drop-me', 'te', 'proxy-authorization']) assert.equal(seen.headers[h], undefined, h);
  // The upstream connection stays pooled whatever the visitor says (HTTP/1.1 without Connection: close).
  assert.equal(seen.headers.connection, undefined);
  assert.match(seen.headers['cf-ray'], /^[0-9a-f]{16}-TEST$/);
  assert.equal(res.headers['cf-ray'], seen.headers['cf-ray']);
});

test("the visitor's Connection: close is not forwarded: the origin connection is reused", async () => {
  const before = origin.connections.length;
  for (let i = 0; i < 5; i++) {
    const res = await visitor.get(edge.httpPort, 'www.fwd.test', '/', { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    assert.equal(res.json<{ headers: Record<string, string> }>().headers.connection, undefined);
  }
  assert.ok(origin.connections.length - before <= 1, `${origin.connections.length - before} new origin connections`);
});

test('hop-by-hop response headers (and those Connection names) are stripped', async () => {
  const res = await visitor.get(edge.httpPort, 'www.fwd.test', '/hop');
  assert.equal(res.headers['x-kept'], 'yes');
  assert.equal(res.headers['x-private-hop'], undefined);
  assert.equal(res.headers['keep-alive'] === 'timeout=5' ? 'origin' : 'edge', 'edge');
  assert.match(String(res.headers['cf-ray']), /-TEST$/);
});

test('a 20 MiB upload streams through: the origin sees the first bytes before the visitor has sent them all', async () => {
  const total = 20 * MiB;
  const chunk = Buffer.alloc(256 * 1024, 98);
  let sent = 0;
  let lastSentAt = 0;
  const body = new Readable({
    read() {
      if (sent >= total) {
        lastSentAt = Date.now();
        this.push(null);
        return;
      }
      sent += chunk.length;
      // Pace the upload so "before the end" is observable.
      setTimeout(() => this.push(chunk), 2);
    },
  });
  const res = await request(`http://127.0.0.1:${edge.httpPort}/upload`, {
    method: 'POST',
    headers: { host: 'www.fwd.test', 'content-type': 'application/octet-stream' },
    body,
    dispatcher: visitor.agent,
  });
  const seen = (await res.body.json()) as { bodyBytes: number; firstChunkAt: number; headers: Record<string, string> };
  assert.equal(res.statusCode, 200);
  assert.equal(seen.bodyBytes, total);
  assert.equal(seen.headers['transfer-encoding'], 'chunked');
  assert.ok(seen.firstChunkAt < lastSentAt - 100, `origin got its first bytes ${lastSentAt - seen.firstChunkAt} ms before the upload ended`);
});

test('a 64 MiB download streams through with back-pressure (the edge does not buffer it)', async () => {
  const res = await request(`http://127.0.0.1:${edge.httpPort}/download/64`, { headers: { host: 'www.fwd.test' }, dispatcher: visitor.agent });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-length'], String(64 * MiB));
  const iterator = res.body[Symbol.asyncIterator]();
  let received = ((await iterator.next()).value as Buffer).length;
  // The visitor stops reading: the origin must be held back, not drained into edge memory.
  await new Promise((r) => setTimeout(r, 1_000));
  const sentWhilePaused = download.sent;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    received += (next.value as Buffer).length;
  }
  assert.equal(received, 64 * MiB);
  // Kernel socket buffers on the three hops hold some MiB (loopback autotuning); the rest must wait.
  assert.ok(sentWhilePaused <= 40 * MiB, `the origin got ${Math.round(sentWhilePaused / MiB)} MiB out while the visitor was paused`);
});

test('a slowly produced download reaches the visitor before the origin has finished', async () => {
  const res = await request(`http://127.0.0.1:${edge.httpPort}/trickle`, { headers: { host: 'www.fwd.test' }, dispatcher: visitor.agent });
  const iterator = res.body[Symbol.asyncIterator]();
  await iterator.next();
  assert.equal(trickle.done, false, 'the first bytes arrived only after the origin finished');
  while (!(await iterator.next()).done);
  assert.equal(trickle.done, true);
});

test('HTTPS: the edge certificate for a proxied name is issued by the edge CA, chosen by SNI', async () => {
  const check = (servername: string) =>
    new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: edge.httpsPort, servername, ca: inst.edgeCa.certPem, minVersion: 'TLSv1.2' }, () => {
        const cert = socket.getPeerCertificate();
        socket.end();
        resolve(cert);
      });
      socket.on('error', reject);
    });
  const cert = await check('www.fwd.test');
  assert.equal(cert.subjectaltname, 'DNS:www.fwd.test');
  const wild = await check('a.wild.fwd.test');
  assert.equal(wild.subjectaltname, 'DNS:*.wild.fwd.test');
  // TLS 1.2 works too.
  await new Promise<void>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'www.fwd.test', ca: inst.edgeCa.certPem, maxVersion: 'TLSv1.2' }, () => {
      assert.equal(s.getProtocol(), 'TLSv1.2');
      s.end();
      resolve();
    });
    s.on('error', reject);
  });
  // An unknown SNI name gets a TLS unrecognized_name alert, not some other name's certificate.
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: edge.httpsPort, servername: 'unknown.example', rejectUnauthorized: false }, () => {
        s.end();
        resolve();
      });
      s.on('error', reject);
    }),
    { code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME' },
  );
});

test('HTTPS visitors are proxied with CF-Visitor https', async () => {
  const agent = new Agent({ connect: { ca: inst.edgeCa.certPem, servername: 'www.fwd.test' } });
  try {
    const res = await request(`https://127.0.0.1:${edge.httpsPort}/`, { headers: { host: 'www.fwd.test' }, dispatcher: agent });
    const seen = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(res.statusCode, 200);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['cf-visitor'], '{"scheme":"https"}');
  } finally {
    await agent.close();
  }
});

test('a request without Host gets 400, not a hang', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const s = net.connect(edge.httpPort, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\n\r\n'));
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 400 /);
});
