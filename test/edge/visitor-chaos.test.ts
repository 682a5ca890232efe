// Visitors that misbehave all at once — heads cut short, resets before and during the answer,
// garbage, half-closes, pipelined bursts — against the plain-HTTP listener, whose connections run
// on adopted TCP handles: the edge keeps answering and lets go of every connection (a graceful
// close completes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { ConfigBuilder, newInstallation } from '../helpers/pki.ts';
import { startTestEdge } from './harness.ts';

const BODY = Buffer.alloc(200 * 1024, 'a');
const HOST = 'www.chaos.test';

function visit(port: number, send: string, act: (s: net.Socket) => void): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(send);
      act(s);
    });
    // Reads (and drops) what comes: the edge's FIN is seen, and its answers are not held back.
    s.resume();
    s.on('error', () => {});
    s.on('close', () => resolve());
    s.setTimeout(10_000, () => s.destroy());
  });
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n${extra}\r\n`;

test('a crowd of misbehaving visitors: the edge keeps serving and lets go of every connection', async () => {
  const inst = await newInstallation();
  const origin = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/big') res.end(BODY);
      else res.end(`ok ${req.url}`);
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const b = new ConfigBuilder(inst);
  const z = b.zone('chaos.test', { sslMode: 'flexible' });
  b.record(z, HOST, { httpPort: (origin.address() as net.AddressInfo).port });
  const edge = await startTestEdge(inst, b.build());
  const port = edge.httpPort;
  try {
    const kinds: ((i: number) => Promise<void>)[] = [
      // A head cut short, then a reset.
      () => visit(port, `GET /a HTTP/1.1\r\nHo`, (s) => setTimeout(() => s.resetAndDestroy(), 5)),
      // A reset as soon as the request is out, and a reset in the middle of a large answer.
      () => visit(port, get('/big'), (s) => s.resetAndDestroy()),
      () => visit(port, get('/big'), (s) => s.once('data', () => s.resetAndDestroy())),
      // Garbage: an error page, then the edge closes.
      () => visit(port, 'NOT HTTP AT ALL\r\n\r\n', () => {}),
      // Half-close after the request: the answer still comes, then the close.
      () => visit(port, get('/half'), (s) => s.end()),
      // A pipelined burst ending with Connection: close.
      (i) => visit(port, get(`/p${i}`) + get('/big') + get('/last', 'Connection: close\r\n'), () => {}),
      // A body announced and never sent in full, then a reset.
      () => visit(port, `POST /up HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 100000\r\n\r\nxyz`, (s) => setTimeout(() => s.resetAndDestroy(), 5)),
    ];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 700; i++) all.push(kinds[i % kinds.length](i));
    await Promise.all(all);

    // Still serving, on a fresh connection.
    const text = await new Promise<string>((resolve, reject) => {
      let got = '';
      const s = net.connect(port, '127.0.0.1', () => s.write(get('/after', 'Connection: close\r\n')));
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /ok \/after$/);
  } finally {
    // Graceful: resolves only once every visitor connection has been let go.
    const closed = edge.edge.close().then(() => true);
    const timedOut = new Promise<boolean>((r) => setTimeout(() => r(false), 8_000).unref());
    assert.equal(await Promise.race([closed, timedOut]), true, 'the edge let go of every visitor connection');
    await new Promise((r) => origin.close(r));
  }
});

test('a visitor that reads nothing of a large answer is cut after the send timeout, and the origin is let go', async () => {
  const inst = await newInstallation();
  const HUGE = Buffer.alloc(32 * 1024 * 1024, 'h');
  let originDone: (how: string) => void = () => {};
  const originEnded = new Promise<string>((r) => (originDone = r));
  const origin = http.createServer((req, res) => {
    req.resume();
    res.on('finish', () => originDone('finished'));
    res.on('close', () => originDone(res.writableFinished ? 'finished' : 'cut'));
    res.end(HUGE);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const b = new ConfigBuilder(inst);
  const z = b.zone('chaos.test', { sslMode: 'flexible' });
  b.record(z, HOST, { httpPort: (origin.address() as net.AddressInfo).port });
  const edge = await startTestEdge(inst, b.build(), { visitorSendTimeoutMs: 400 });
  const visitor = net.connect(edge.httpPort, '127.0.0.1');
  try {
    // Never read: kernel buffers fill, the edge's writes stop draining, the origin is paused.
    visitor.pause();
    visitor.write(get('/huge'));
    const t0 = Date.now();
    const how = await Promise.race([originEnded, new Promise<string>((r) => setTimeout(() => r('still held'), 6_000).unref())]);
    // Without the timeout the origin stays paused for good; with it, the edge lets go within
    // the timeout plus a sweep (the abandoned answer is drained or its connection cut).
    assert.notEqual(how, 'still held', 'the origin was still held 6 s after the request');
    assert.ok(Date.now() - t0 >= 300, 'not before the send timeout');
    // The visitor's connection was closed under it: reading now ends short of the whole answer.
    let got = 0;
    await new Promise<void>((resolve) => {
      visitor.on('data', (d: Buffer) => (got += d.length));
      visitor.on('close', () => resolve());
      visitor.on('error', () => {});
      visitor.resume();
    });
    assert.ok(got < HUGE.length, `the visitor got ${got} bytes: the whole answer`);
  } finally {
    visitor.destroy();
    await edge.close();
    await new Promise((r) => origin.close(r));
  }
});
