// Cause: the HTTP/1.1 path accumulated what a lingering visitor kept sending, copied origin reason
// phrases raw, forwarded absolute-form targets, trailers and CONNECT verbatim, and was lenient in
// Transfer-Encoding trimming, chunk sizes, Expect on HTTP/1.0, bare-LF heads and underscore aliases;
// a malformed chunked upload was reported to the visitor as the origin's fault (502, origin_error);
// empty list elements in a request's Transfer-Encoding were skipped (nginx and HAProxy refuse them);
// an origin's Transfer-Encoding other than chunked alone lost its other codings on the way; an
// answer that came before the visitor's upload was in did not say the edge would then close.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConfigBuilder, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { startTestEdge, type TestEdge } from '../edge/harness.ts';
import { RawOrigin, RawVisitor, reasonOf, type SeenRequest } from '../helpers/raw-http.ts';

const pathOf = (req: SeenRequest) => req.head.split(' ')[1];

function answer(req: SeenRequest, socket: net.Socket): void {
  const send = (s: string) => socket.write(s, 'latin1');
  switch (pathOf(req)) {
    case '/split':
      send('HTTP/1.1 200 OK\nContent-Length: 0\n\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON');
      return;
    case '/status-2e2':
      send('HTTP/1.1 2e2 OK\r\nContent-Length: 2\r\n\r\nok');
      return;
    case '/reason-ctl':
      send('HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok');
      return;
    case '/trailer-status':
      send('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nHTTP/1.1 200 OK\r\n\r\n');
      return;
    case '/trailer-field':
      send('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: 1\r\n\r\n');
      return;
    case '/te-gzip':
      send('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
      return;
    case '/te-deflate-last':
      send('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, deflate\r\n\r\nraw');
      socket.end();
      return;
    case '/echo-body':
      send(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(req.body, 'latin1')}\r\n\r\n${req.body}`);
      return;
    default:
      send(`HTTP/1.1 200 OK\r\nContent-Length: ${pathOf(req).length}\r\n\r\n${pathOf(req)}`);
  }
}

let inst: TestInstallation;
let origin: RawOrigin;
let edge: TestEdge;
let earlyOrigin: net.Server;
let earlyKeepAlive: net.Server;

before(async () => {
  inst = await newInstallation();
  origin = new RawOrigin(answer);
  const port = await origin.listen();
  // Answers 413 as soon as a head arrives, reading on (and ignoring) the upload.
  earlyOrigin = net.createServer((socket) => {
    socket.on('error', () => {});
    let answered = false;
    socket.on('data', () => {
      if (answered) return;
      answered = true;
      socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((r) => earlyOrigin.listen(0, '127.0.0.1', r));
  // Answers 401 as soon as a head arrives and keeps its connection (no Connection: close of its own).
  earlyKeepAlive = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'));
  });
  await new Promise<void>((r) => earlyKeepAlive.listen(0, '127.0.0.1', r));
  const b = new ConfigBuilder(inst);
  const z = b.zone('raw.test', { sslMode: 'flexible' });
  b.record(z, 'www.raw.test', { httpPort: port });
  b.record(z, 'early.raw.test', { httpPort: (earlyOrigin.address() as net.AddressInfo).port });
  b.record(z, 'other.raw.test', { httpPort: port });
  b.record(z, 'early-keep.raw.test', { httpPort: (earlyKeepAlive.address() as net.AddressInfo).port });
  edge = await startTestEdge(inst, b.build());
});

after(async () => {
  await edge.close();
  await origin.close();
  await new Promise((r) => earlyOrigin.close(r));
  await new Promise((r) => earlyKeepAlive.close(r));
});

const get = (path: string, extra = '', host = 'www.raw.test') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;

/**
 * Writes `bytes` after `first` as fast as the edge takes them; resolves with how much went out before the edge cut the connection.
 * The visitor keeps its side open after the edge's FIN (allowHalfOpen) and keeps sending, as a hostile one would: a
 * net.Socket that auto-ends on FIN stops by itself and would hide an edge that goes on reading and holding what it reads.
 */
function flood(first: string, bytes: number): Promise<{ answer: string; written: number; cut: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: edge.httpPort, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let written = 0;
    let cut = false;
    const piece = Buffer.alloc(64 * 1024, 'x');
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => (cut = true));
    socket.on('close', () => resolve({ answer, written, cut: cut || written < bytes }));
    socket.write(first, 'latin1');
    const pump = () => {
      while (written < bytes && !socket.destroyed) {
        written += piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
      // All of it went out: the edge took it; give it its chance to cut, then stop.
      setTimeout(() => socket.destroy(), 6_000).unref();
    };
    pump();
  });
}

test('after a rejected head the edge discards what follows, bounded, and cuts the connection: it does not take 16 MiB', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const { answer, written, cut } = await flood('BAD\r\n\r\n', 16 * 1024 * 1024);
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.equal(reasonOf(answer), 'invalid_request_line');
  assert.ok(cut, 'the edge cut the connection');
  assert.ok(written < 16 * 1024 * 1024, `the visitor got ${written} bytes out before the cut`);
  assert.ok(process.memoryUsage().arrayBuffers - before < 8 * 1024 * 1024, 'no buffer grew with what the visitor sent');
});

test('an upload the origin answers early (413) is discarded, bounded, while the visitor keeps sending', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const { answer, written, cut } = await flood('POST /upload HTTP/1.1\r\nHost: early.raw.test\r\nContent-Length: 1000000000\r\n\r\n', 16 * 1024 * 1024);
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.ok(cut && written < 16 * 1024 * 1024, `cut ${cut} after ${written} bytes`);
  assert.ok(process.memoryUsage().arrayBuffers - before < 8 * 1024 * 1024, 'no buffer grew with what the visitor sent after the answer');
});

test("an origin's reason phrase with bare LFs or control bytes is a 502; the next request on the connection is not answered by the smuggled response", async () => {
  const v = new RawVisitor(edge.httpPort).send(get('/split'));
  await v.until((t) => t.includes('</html>'), 'the error page');
  assert.match(v.text, /^HTTP\/1\.1 502 /);
  assert.equal(reasonOf(v.text), 'origin_bare_lf');
  v.text = '';
  v.send(get('/next', '', 'other.raw.test'));
  await v.until((t) => t.endsWith('/next') || t.includes('POISON') || t.includes('</html>'), 'the next answer').catch(() => {});
  assert.doesNotMatch(v.text, /POISON/);
  v.end();
  for (const [path, code] of [['/status-2e2', 'origin_invalid_status_code'], ['/reason-ctl', 'origin_invalid_reason_phrase']]) {
    const w = new RawVisitor(edge.httpPort).send(get(path));
    await w.until((t) => t.includes('</html>'), `the error page for ${path}`);
    assert.match(w.text, /^HTTP\/1\.1 502 /, path);
    assert.equal(reasonOf(w.text), code, path);
    w.end();
  }
});

test("absolute-form targets: the authority routes and becomes Host, the origin gets origin-form; userinfo, relative and authority forms are 400", async () => {
  const v = new RawVisitor(edge.httpPort).send('GET http://internal.example/admin HTTP/1.1\r\nHost: www.raw.test\r\n\r\n');
  await v.until((t) => t.includes('</html>'), 'an answer');
  assert.match(v.text, /^HTTP\/1\.1 404 /, 'routed by the target, not Host');
  v.end();
  const seen = origin.seen.length;
  const w = new RawVisitor(edge.httpPort).send('GET HTTP://www.raw.test?q=1 HTTP/1.1\r\nHost: internal.example\r\n\r\n');
  await w.until((t) => t.endsWith('/?q=1'), 'the answer');
  const req = origin.seen[seen];
  assert.match(req.head, /^GET \/\?q=1 HTTP\/1\.1\r\n/);
  assert.match(req.head, /\r\nhost: www\.raw\.test\r\n/);
  assert.doesNotMatch(req.head, /internal\.example/);
  w.end();
  for (const [target, code] of [
    ['http://user:pw@www.raw.test/', 'userinfo_in_target'],
    ['http://@www.raw.test/', 'userinfo_in_target'],
    ['foo/bar', 'invalid_target'],
    ['www.raw.test:80', 'invalid_target'],
    ['ftp://www.raw.test/', 'invalid_target_scheme'],
  ]) {
    const x = new RawVisitor(edge.httpPort).send(`GET ${target} HTTP/1.1\r\nHost: www.raw.test\r\n\r\n`);
    await x.closedByPeer();
    assert.match(x.text, /^HTTP\/1\.1 400 /, target);
    assert.equal(reasonOf(x.text), code, target);
  }
  assert.equal(origin.seen.length, seen + 1);
});

test('chunked trailers are checked and left out both ways: a request line in a trailer does not reach the origin, nor an origin status line the visitor', async () => {
  const v = new RawVisitor(edge.httpPort).send('POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX:POST / HTTP/1.1\r\n\r\n');
  await v.until((t) => t.endsWith('0\r\n\r\n'), 'the echo');
  const raw = origin.allRaw();
  assert.ok(raw.includes('3\r\nabc\r\n0\r\n\r\n'), 'the body ends with the last chunk and a blank line');
  assert.doesNotMatch(raw, /X:POST/);
  v.text = '';
  v.send(get('/trailer-field'));
  await v.until((t) => t.endsWith('0\r\n\r\n'), 'the chunked answer');
  assert.match(v.text, /\r\n\r\n2\r\nok\r\n0\r\n\r\n$/);
  assert.doesNotMatch(v.text, /X-Checksum/);
  v.text = '';
  v.send(get('/trailer-status'));
  // Read in one piece, the answer fails before any of it went out: a 502 page instead.
  await v.until((t) => t.includes('</html>'), 'the error page');
  assert.match(v.text, /^HTTP\/1\.1 502 /);
  assert.equal(reasonOf(v.text), 'origin_invalid_trailer');
  assert.doesNotMatch(v.text, /HTTP\/1\.1 200/, 'the trailer status line never reaches the visitor');
  v.end();
  const bad = new RawVisitor(edge.httpPort).send('POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nGET / HTTP/1.1\r\n\r\n');
  await bad.closedByPeer();
  assert.doesNotMatch(origin.allRaw(), /0\r\nGET \/ HTTP/);
});

test('CONNECT is a 405 at once; nothing reaches an origin', async () => {
  const before = origin.allRaw().length;
  const v = new RawVisitor(edge.httpPort).send('CONNECT www.raw.test:80 HTTP/1.1\r\nHost: www.raw.test:80\r\nContent-Length: 5\r\n\r\nhello');
  await v.closedByPeer();
  assert.match(v.text, /^HTTP\/1\.1 405 /);
  assert.equal(reasonOf(v.text), 'connect_not_allowed');
  assert.equal(origin.allRaw().length, before);
});

test('Transfer-Encoding is trimmed of SP and HTAB only, and a chunk size followed by junk is refused', async () => {
  for (const te of ['\xa0chunked', '\x0bchunked', '\x0cchunked', 'chunked\xa0']) {
    const v = new RawVisitor(edge.httpPort).send(`POST / HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`);
    await v.closedByPeer();
    assert.match(v.text, /^HTTP\/1\.1 400 /, JSON.stringify(te));
    assert.equal(reasonOf(v.text), 'invalid_transfer_encoding', JSON.stringify(te));
  }
  const v = new RawVisitor(edge.httpPort).send('POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n0\r\n\r\n');
  await v.closedByPeer();
  assert.doesNotMatch(origin.allRaw(), /junk/);
});

test('HTTP/1.0 visitors get no 100 Continue', async () => {
  const v = new RawVisitor(edge.httpPort).send('POST /echo-body HTTP/1.0\r\nHost: www.raw.test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
  await new Promise((r) => setTimeout(r, 300));
  v.send('body');
  await v.closedByPeer();
  assert.doesNotMatch(v.text, /100 Continue/);
  assert.match(v.text, /\r\n\r\nbody$/);
});

test('a head with bare-LF line ends is refused at once, not held until the idle timeout', async () => {
  const started = Date.now();
  const v = new RawVisitor(edge.httpPort).send('GET / HTTP/1.1\nHost: www.raw.test\n\n');
  await v.closedByPeer(3_000);
  assert.match(v.text, /^HTTP\/1\.1 400 /);
  assert.equal(reasonOf(v.text), 'bare_lf');
  assert.ok(Date.now() - started < 3_000);
});

test("underscore spellings of the edge's own headers are dropped", async () => {
  const seen = origin.seen.length;
  const v = new RawVisitor(edge.httpPort).send(get('/aliases', 'CF_Connecting_IP: 6.6.6.6\r\nX_Forwarded_For: 6.6.6.6\r\nx-forwarded_host: evil\r\nCf_Ray: forged\r\nX_Other: kept\r\n'));
  await v.until((t) => t.endsWith('/aliases'), 'the answer');
  const head = origin.seen[seen].head;
  assert.doesNotMatch(head, /6\.6\.6\.6|evil|forged/);
  assert.match(head, /\r\nX_Other: kept/);
  v.end();
});

test("a chunked upload whose framing breaks part-way is the visitor's fault: 400 naming it, not a 502 origin_error", async () => {
  const v = new RawVisitor(edge.httpPort).send('POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
  // The head and the first chunk have gone on before the bad size line arrives.
  await new Promise((r) => setTimeout(r, 200));
  v.send('5 junk\r\nhello\r\n0\r\n\r\n');
  await v.closedByPeer();
  assert.match(v.text, /^HTTP\/1\.1 400 /);
  assert.equal(reasonOf(v.text), 'invalid_chunk_size');
  assert.match(v.text, /\r\nconnection: close\r\n/);
});

test('a request Transfer-Encoding with empty list elements is refused, as nginx and HAProxy refuse it', async () => {
  const seen = origin.seen.length;
  for (const te of [', chunked', 'chunked,', 'chunked\r\nTransfer-Encoding:']) {
    const v = new RawVisitor(edge.httpPort).send(`POST /echo-body HTTP/1.1\r\nHost: www.raw.test\r\nTransfer-Encoding: ${te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`);
    await v.closedByPeer();
    assert.match(v.text, /^HTTP\/1\.1 400 /, JSON.stringify(te));
    assert.equal(reasonOf(v.text), 'invalid_transfer_encoding', JSON.stringify(te));
  }
  assert.equal(origin.seen.length, seen);
});

test("an origin's Transfer-Encoding other than chunked alone is a 502: its other codings would reach the visitor unannounced", async () => {
  for (const path of ['/te-gzip', '/te-deflate-last']) {
    const v = new RawVisitor(edge.httpPort).send(get(path));
    await v.until((t) => t.includes('</html>'), `the error page for ${path}`);
    assert.match(v.text, /^HTTP\/1\.1 502 /, path);
    assert.equal(reasonOf(v.text), 'origin_unsupported_transfer_coding', path);
    v.end();
  }
});

test('an answer that comes before the upload is in says connection: close, since the edge then closes', async () => {
  const socket = net.connect({ port: edge.httpPort, host: '127.0.0.1' });
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  // Half of the announced body: the origin answers before the rest comes.
  socket.write('POST /upload HTTP/1.1\r\nHost: early-keep.raw.test\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(50_000));
  const deadline = Date.now() + 10_000;
  while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase();
  assert.match(head, /^http\/1\.1 401 /);
  assert.match(head, /\r\nconnection: close(\r\n|$)/, `the visitor is told the connection ends: ${JSON.stringify(head)}`);
  socket.end();
  await closed;
});
