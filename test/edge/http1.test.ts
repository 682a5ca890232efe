// HTTP/1.1 on the wire, both sides raw: a visitor socket writing exact bytes to the edge, and an
// origin socket answering with exact bytes (chunked, until-close, HEAD, 1xx, keep-alive hints).
// What node:http and undici used to do for the edge, the edge's own parser must do as well.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConfigBuilder, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { startTestEdge, type TestEdge } from './harness.ts';
import { RawOrigin, RawVisitor as BaseRawVisitor, type SeenRequest } from '../helpers/raw-http.ts';

const BIG = 64 * 1024 * 1024;
/** Made once: filling 64 MiB per request blocked this process (edge and origin both) for longer than a short response timeout. */
const BIG_BODY = Buffer.alloc(BIG, 'b');
const pathOf = (req: SeenRequest) => req.head.split(' ')[1];

function answer(req: SeenRequest, socket: net.Socket): void {
  const path = pathOf(req);
  const send = (s: string) => socket.write(s, 'latin1');
  switch (path) {
    case '/chunked':
      send('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => send('6\r\n world\r\n0\r\n\r\n'), 20);
      return;
    case '/until-close':
      send('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it');
      socket.end();
      return;
    case '/head':
      send('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
      return;
    case '/not-modified':
      send('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n');
      return;
    case '/early-hints':
      send('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      return;
    case '/short-keepalive':
      send('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2\r\nContent-Length: 2\r\n\r\nok');
      return;
    case '/echo-body':
      send(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(req.body, 'latin1')}\r\n\r\n${req.body}`);
      return;
    case '/big':
      send(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG}\r\n\r\n`);
      socket.write(BIG_BODY);
      return;
    case '/bad-length':
      send('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
      return;
    default:
      send(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
  }
}

let inst: TestInstallation;
let origin: RawOrigin;
let edge: TestEdge;

before(async () => {
  inst = await newInstallation();
  origin = new RawOrigin(answer);
  const port = await origin.listen();
  const b = new ConfigBuilder(inst);
  const z = b.zone('raw.test', { sslMode: 'flexible' });
  b.record(z, 'www.raw.test', { httpPort: port });
  edge = await startTestEdge(inst, b.build());
});

after(async () => {
  await edge.close();
  await new Promise((r) => origin.server.close(r));
});

class RawVisitor extends BaseRawVisitor {
  constructor() {
    super(edge.httpPort);
  }
  closedByEdge(): Promise<void> {
    return this.closedByPeer();
  }
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: www.raw.test\r\n${extra}\r\n`;
const count = (text: string, s: string) => text.split(s).length - 1;

test('pipelined requests are answered in order on one connection', async () => {
  const v = new RawVisitor().send(get('/one') + get('/two') + get('/three'));
  const text = await v.until((t) => t.endsWith('/three'), 'three answers');
  assert.equal(count(text, 'HTTP/1.1 200 OK'), 3);
  assert.ok(text.indexOf('/one') < text.indexOf('/two') && text.indexOf('/two') < text.indexOf('/three'));
  v.end();
});

test('heads and pipelined requests that arrive in pieces, one read each, are put together intact', async () => {
  // The edge holds each partial head (and the next request's start) across reads that reuse its
  // read buffer: what it holds must be its own copy.
  const v = new RawVisitor();
  v.socket.setNoDelay(true);
  const whole = get('/split-one', `X-Pad: ${'p'.repeat(200)}\r\n`) + get('/split-two');
  for (let at = 0; at < whole.length; at += 37) {
    v.send(whole.slice(at, at + 37));
    await new Promise((r) => setTimeout(r, 10));
  }
  const text = await v.until((t) => t.endsWith('/split-two'), 'both answers');
  assert.equal(count(text, 'HTTP/1.1 200 OK'), 2);
  const seen = origin.seen.find((r) => pathOf(r) === '/split-one');
  assert.ok(seen, 'the origin saw /split-one');
  assert.match(seen.head, new RegExp(`\r\nx-pad: ${'p'.repeat(200)}\r\n`, 'i'));
  v.end();
});

test("Connection: close with nothing left unread: the edge closes for good once the answer is out, without waiting for the visitor's side", async () => {
  // The visitor keeps its side open (allowHalfOpen). A closed edge socket answers a late write with
  // a reset; one still waiting for the visitor's FIN would take it silently (for its 5 s grace).
  const socket = net.connect({ port: edge.httpPort, host: '127.0.0.1', allowHalfOpen: true });
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  await new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.write(get('/bye', 'Connection: close\r\n'));
  });
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close\r\n[\s\S]*\/bye$/i);
  const started = Date.now();
  const outcome = await new Promise<string>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('close', () => resolve('close'));
    const poke = setInterval(() => socket.write('x'), 50);
    socket.once('close', () => clearInterval(poke));
    setTimeout(() => {
      clearInterval(poke);
      resolve('still open');
    }, 2_000);
  });
  socket.destroy();
  assert.notEqual(outcome, 'still open');
  assert.ok(Date.now() - started < 2_000);
});

test('a chunked answer passes through to HTTP/1.1 and the connection carries on; HTTP/1.0 gets it decoded, then close', async () => {
  const v = new RawVisitor().send(get('/chunked'));
  await v.until((t) => t.includes('0\r\n\r\n'), 'the last chunk');
  assert.match(v.text, /transfer-encoding: chunked\r\n/i);
  assert.match(v.text, /\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n$/);
  v.send(get('/after'));
  await v.until((t) => t.endsWith('/after'), 'the next answer');
  v.end();

  const old = new RawVisitor().send('GET /chunked HTTP/1.0\r\nHost: www.raw.test\r\n\r\n');
  await old.closedByEdge();
  assert.doesNotMatch(old.text, /transfer-encoding/i);
  assert.match(old.text, /connection: close\r\n/i);
  assert.ok(old.text.endsWith('\r\n\r\nhello world'), JSON.stringify(old.text));
});

test('an answer that runs until the origin closes reaches the visitor whole, and its connection closes too', async () => {
  const v = new RawVisitor().send(get('/until-close'));
  await v.closedByEdge();
  assert.match(v.text, /connection: close\r\n/i);
  assert.ok(v.text.endsWith('\r\n\r\nall of it'));
});

test('HEAD, 304 and 1xx answers are framed without a body; the connection is reused after them', async () => {
  const v = new RawVisitor().send(`HEAD /head HTTP/1.1\r\nHost: www.raw.test\r\n\r\n`);
  await v.until((t) => t.endsWith('\r\n\r\n'), 'the HEAD answer');
  assert.match(v.text, /content-length: 100\r\n/i);
  v.text = '';
  v.send(get('/not-modified'));
  await v.until((t) => t.endsWith('\r\n\r\n'), 'the 304');
  assert.match(v.text, /^HTTP\/1\.1 304 Not Modified\r\n/);
  v.text = '';
  v.send(get('/early-hints'));
  await v.until((t) => t.endsWith('ok'), 'the answer after 103');
  assert.match(v.text, /^HTTP\/1\.1 200 OK\r\n/, 'the 103 is not passed on');
  v.text = '';
  v.send(get('/last'));
  await v.until((t) => t.endsWith('/last'), 'a request after them');
  v.end();
});

test('request bodies: Content-Length and chunked uploads reach the origin as sent', async () => {
  const v = new RawVisitor().send('POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nContent-Length: 11\r\n\r\nhello');
  setTimeout(() => v.send(' world' + get('/next')), 30);
  await v.until((t) => t.endsWith('/next'), 'the echo and the pipelined request');
  assert.match(v.text, /\r\n\r\nhello world/);
  v.text = '';
  v.send('POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
  setTimeout(() => v.send('2\r\nde\r\n0\r\n\r\n'), 30);
  await v.until((t) => t.endsWith('0\r\n\r\n'), 'the chunked echo');
  const seen = origin.seen.at(-1)!;
  assert.match(seen.head, /\r\ntransfer-encoding: chunked/i);
  assert.equal(seen.body, '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  v.end();
});

test('Expect: 100-continue is answered by the edge before the body is sent', async () => {
  const v = new RawVisitor().send('POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
  await v.until((t) => t.includes('HTTP/1.1 100 Continue\r\n\r\n'), '100 Continue');
  v.send('body');
  await v.until((t) => t.endsWith('body'), 'the echo');
  assert.doesNotMatch(origin.seen.at(-1)!.head, /expect/i);
  v.end();
});

test('malformed or ambiguous requests get a 4xx/5xx page and the connection closes; nothing reaches the origin', async () => {
  const before = origin.seen.length;
  const cases: [string, number][] = [
    ['GET / HTTP/1.1\r\nHost: www.raw.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc', 400],
    ['GET / HTTP/1.1\r\nHost: www.raw.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
    ['GET / HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['GET / HTTP/1.1\r\nHost: www.raw.test\r\nBad Header: x\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nHost: www.raw.test\r\nX: a\rb\r\n\r\n', 400],
    ['GET / HTTP/2.0\r\nHost: www.raw.test\r\n\r\n', 505],
    [`GET / HTTP/1.1\r\nHost: www.raw.test\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`, 431],
    ['GET / HTTP/1.1\r\nHost: www.raw.test\r\nHost: other.test\r\n\r\n', 400],
  ];
  for (const [request, status] of cases) {
    const v = new RawVisitor().send(request);
    await v.closedByEdge().catch((e: Error) => assert.fail(`${JSON.stringify(request.slice(0, 80))}: ${e.message}; got ${JSON.stringify(v.text.slice(0, 200))}`));
    assert.match(v.text, new RegExp(`^HTTP/1\\.1 ${status} `), `${JSON.stringify(request.slice(0, 80))} → ${JSON.stringify(v.text.slice(0, 60))}`);
  }
  assert.equal(origin.seen.length, before, 'no ambiguous request was forwarded');
});

test('an origin answer with conflicting lengths is a 502, not a guess', async () => {
  const v = new RawVisitor().send(get('/bad-length'));
  await v.until((t) => t.includes('\r\n\r\n'), 'an answer');
  assert.match(v.text, /^HTTP\/1\.1 502 /);
  v.end();
});

test("the origin's Keep-Alive timeout is honoured: an idle connection past it is not reused", async () => {
  const v = new RawVisitor().send(get('/short-keepalive'));
  await v.until((t) => t.endsWith('ok'), 'the first answer');
  const connections = origin.connections;
  v.text = '';
  v.send(get('/short-keepalive'));
  await v.until((t) => t.endsWith('ok'), 'the second answer');
  assert.equal(origin.connections, connections, 'reused within the hint');
  // timeout=2 means reuse for at most 1 s (a second of margin).
  await new Promise((r) => setTimeout(r, 1_300));
  v.text = '';
  v.send(get('/short-keepalive'));
  await v.until((t) => t.endsWith('ok'), 'the third answer');
  assert.equal(origin.connections, connections + 1, 'a fresh connection after the hint expired');
  v.end();
});

test('a visitor slower than the response timeout is not a silent origin: the download completes', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('raw.test', { sslMode: 'flexible' });
  b.record(z, 'www.raw.test', { httpPort: (origin.server.address() as net.AddressInfo).port });
  const strictEdge = await startTestEdge(inst, b.build(), { timeouts: { connectMs: 2_000, responseMs: 800, keepAliveMs: 10_000 } });
  try {
    const socket = net.connect(strictEdge.httpPort, '127.0.0.1');
    let received = 0;
    let head = '';
    socket.on('data', (d: Buffer) => {
      if (head === '') head = d.toString('latin1', 0, 40);
      received += d.length;
    });
    // Stall from the first bytes on, well past the origin response timeout, with every buffer full.
    socket.once('data', () => {
      socket.pause();
      setTimeout(() => socket.resume(), 2_000);
    });
    socket.write(get('/big'));
    const deadline = Date.now() + 20_000;
    while (received < BIG && Date.now() < deadline && !socket.destroyed) await new Promise((r) => setTimeout(r, 50));
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.ok(received > BIG, `received ${received} of ${BIG} body bytes (plus the head)`);
    socket.destroy();
  } finally {
    await strictEdge.close();
  }
});

test('idle visitor connections close after the keep-alive period; a head trickling in does not keep one open', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('raw.test', { sslMode: 'flexible' });
  b.record(z, 'www.raw.test', { httpPort: (origin.server.address() as net.AddressInfo).port });
  const shortEdge = await startTestEdge(inst, b.build(), { visitorKeepAliveMs: 400 });
  const open = (): { socket: net.Socket; closed: Promise<number> } => {
    const socket = net.connect(shortEdge.httpPort, '127.0.0.1');
    socket.on('error', () => {});
    const opened = Date.now();
    return { socket, closed: new Promise((resolve) => socket.on('close', () => resolve(Date.now() - opened))) };
  };
  try {
    // Answered, then idle: closed about 400 ms later (the sweep runs every 100 ms).
    const idle = open();
    let answered = '';
    idle.socket.on('data', (d: Buffer) => (answered += d.toString('latin1')));
    idle.socket.write(get('/hello'));
    const idleMs = await idle.closed;
    assert.match(answered, /^HTTP\/1\.1 200 OK/);
    assert.ok(idleMs >= 350 && idleMs < 2_000, `closed after ${idleMs} ms`);
    // A byte every 50 ms never completes the head: the deadline is not pushed back by it.
    const slow = open();
    const head = get('/slow');
    let at = 0;
    const drip = setInterval(() => {
      if (at < head.length - 4) slow.socket.write(head[at++]);
    }, 50);
    const slowMs = await slow.closed;
    clearInterval(drip);
    assert.ok(slowMs >= 350 && slowMs < 2_000, `closed after ${slowMs} ms`);
  } finally {
    await shortEdge.close();
  }
});
