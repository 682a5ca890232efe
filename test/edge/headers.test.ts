// HTTP/1.1 heads, chunked framing and header handling on the request path, without servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downstreamFields, downstreamFieldsOf, routingHostname, upgradeOf, upstreamHead, visitorIp, type RequestFacts, type ResponseFacts } from '../../src/edge/headers.ts';
import { HeadError, parseRequestHead, parseResponseHead, parseStatusLine, type RequestHead } from '../../src/edge/http1/head.ts';
import { ChunkedFramingError, ChunkedScanner } from '../../src/edge/http1/chunked.ts';


test('routing host name: no port, lower case, no trailing dot', () => {
  assert.equal(routingHostname('WWW.Example.COM:8080'), 'www.example.com');
  assert.equal(routingHostname('example.com.'), 'example.com');
  assert.equal(routingHostname('example.com.:443'), 'example.com');
  assert.equal(routingHostname('[2001:db8::1]:443'), '[2001:db8::1]');
  assert.equal(visitorIp('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(visitorIp('2001:db8::1'), '2001:db8::1');
});

const facts = (): RequestFacts => ({ host: '', hasBody: false, contentLength: -1, chunked: false, closeAfter: false, expectContinue: false, wantsJson: false, upgrade: '' });
const head = (headers: string[], minor = 1): RequestHead => ({ method: 'POST', target: '/p?q=1', path: '/p?q=1', authority: '', minor, headers });

test('upstream: hop-by-hop and forged edge headers dropped, Connection-named headers dropped wherever they are', () => {
  const f = facts();
  const out = upstreamHead(
    head(['X-Early', '1', 'Host', 'a.test', 'Connection', 'X-Early, keep-alive', 'Keep-Alive', '5', 'Transfer-Encoding', 'chunked',
      'Proxy-Foo', 'x', 'CF-Ray', 'forged', 'X-Forwarded-For', '10.0.0.1', 'X-Forwarded-For', '10.0.0.2', 'Accept', 'application/json', 'Expect', '100-continue']),
    '192.0.2.9',
    'https',
    'r-1',
    f,
  );
  assert.equal(
    out,
    'POST /p?q=1 HTTP/1.1\r\nHost: a.test\r\nAccept: application/json\r\n' +
      'x-forwarded-for: 10.0.0.1, 10.0.0.2, 192.0.2.9\r\nx-forwarded-proto: https\r\nx-forwarded-host: a.test\r\n' +
      'cf-connecting-ip: 192.0.2.9\r\ncf-visitor: {"scheme":"https"}\r\ncf-ray: r-1\r\ntransfer-encoding: chunked\r\n\r\n',
  );
  assert.deepEqual(f, { host: 'a.test', hasBody: true, contentLength: -1, chunked: true, closeAfter: false, expectContinue: true, wantsJson: true, upgrade: '' });
  const noBody = facts();
  upstreamHead(head(['Host', 'b.test', 'Content-Length', '0', 'Connection', 'close']), '1.2.3.4', 'http', 'r', noBody);
  assert.equal(noBody.hasBody, false);
  assert.equal(noBody.closeAfter, true);
  const old = facts();
  upstreamHead(head(['Host', 'b.test'], 0), '1.2.3.4', 'http', 'r', old);
  assert.equal(old.closeAfter, true, 'HTTP/1.0 without keep-alive closes');
});

test('upstream: an upgrade goes on with Connection: upgrade only when Connection names it; h2c, HTTP/1.0 and bodies never upgrade', () => {
  const get = (headers: string[], minor = 1) => {
    const f = facts();
    const out = upstreamHead({ ...head(['Host', 'a.test', ...headers], minor), method: 'GET' }, '1.2.3.4', 'http', 'r', f);
    return { out, upgrade: f.upgrade };
  };
  const ws = get(['Connection', 'keep-alive, Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k']);
  assert.equal(ws.upgrade, 'websocket');
  assert.match(ws.out, /\r\nSec-WebSocket-Key: k\r\n/);
  assert.ok(ws.out.endsWith('cf-ray: r\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n'), ws.out);
  assert.equal(ws.out.match(/upgrade/gi)!.length, 2, 'the visitor\'s own Connection and Upgrade lines are not copied');
  // Upgrade without the Connection token is a hop-by-hop header nobody asked to act on: dropped.
  const stray = get(['Upgrade', 'websocket']);
  assert.equal(stray.upgrade, '');
  assert.doesNotMatch(stray.out, /upgrade/i);
  for (const h2c of [['Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAA'], ['Connection', 'upgrade', 'Upgrade', ' H2C ']]) {
    const r = get(h2c);
    assert.equal(r.upgrade, '');
    assert.doesNotMatch(r.out, /upgrade|http2-settings/i);
  }
  assert.equal(get(['Connection', 'upgrade', 'Upgrade', 'h2c, websocket']).upgrade, 'websocket');
  assert.equal(get(['Connection', 'upgrade', 'Upgrade', 'websocket'], 0).upgrade, '');
  assert.equal(get(['Connection', 'upgrade', 'Upgrade', 'websocket', 'Content-Length', '3']).upgrade, '');
  assert.equal(upgradeOf('foo/1,  , bar', 1, false), 'foo/1, bar');
});

test('upstream: framing an origin could read differently is refused (request smuggling)', () => {
  const reject = (headers: string[], status: number, minor = 1) =>
    assert.throws(() => upstreamHead(head(['Host', 'a.test', ...headers], minor), '1.2.3.4', 'http', 'r', facts()), (e: unknown) => e instanceof HeadError && e.status === status);
  reject(['Content-Length', '5', 'Transfer-Encoding', 'chunked'], 400);
  reject(['Content-Length', '5', 'Content-Length', '6'], 400);
  reject(['Content-Length', '-1'], 400);
  reject(['Content-Length', '1e3'], 400);
  reject(['Transfer-Encoding', 'gzip, chunked'], 501);
  reject(['Transfer-Encoding', 'chunked, gzip'], 400);
  reject(['Transfer-Encoding', 'chunked'], 400, 0);
  reject(['Host', 'b.test'], 400);
  const same = facts();
  upstreamHead(head(['Host', 'a.test', 'Content-Length', '5', 'Content-Length', '5']), '1.2.3.4', 'http', 'r', same);
  assert.equal(same.contentLength, 5);
});

test('downstream: hop-by-hop dropped, origin CF-Ray replaced by ours, framing read', () => {
  const f: ResponseFacts = { contentLength: -1, chunked: false, close: false, keepAlive: false, badLength: false, keepAliveTimeoutMs: 0 };
  const raw = ['Content-Type', 'text/plain', 'Connection', 'close, X-Hop', 'X-Hop', 'v', 'Transfer-Encoding', 'chunked', 'CF-Ray', 'theirs', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '3', 'Keep-Alive', 'timeout=5'];
  assert.equal(downstreamFields(raw, 'ours', f), 'Content-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\ncf-ray: ours\r\n');
  assert.deepEqual(f, { contentLength: 3, chunked: true, close: true, keepAlive: false, badLength: false, keepAliveTimeoutMs: 4000 });
  downstreamFields(['Content-Length', '3', 'Content-Length', '4'], 'r', f);
  assert.equal(f.badLength, true);
});

test('downstream in one pass: what the parse-then-filter path gives, lines copied as sent', () => {
  const lines = [
    'Content-Type: text/plain', 'Server:nginx', 'X-Pad:   v  ', 'Set-Cookie: a=1', 'Date: Wed, 02 Dec 2026 11:30:00 GMT',
    'Content-Length: 3', 'content-length:3', 'Content-Length: 4', 'Content-Length: x', 'Transfer-Encoding: chunked',
    'Transfer-Encoding: gzip', 'Connection: keep-alive', 'Connection: close', 'Connection: close, X-Hop', 'X-Hop: v',
    'Keep-Alive: timeout=5, max=100', 'CF-Ray: theirs', 'TE: trailers', 'Upgrade: h2c', 'Proxy-Connection: x',
    'X-Empty:', 'Bad Name: a', 'NoColon', ' folded: a', 'X-Bare: a\rb', 'X-Nul: a\u0000b', 'ETag: "6566a0e0-400"',
  ];
  const facts = (): ResponseFacts => ({ contentLength: -1, chunked: false, close: false, keepAlive: false, badLength: false, keepAliveTimeoutMs: 0 });
  const outcome = (f: () => string) => {
    try {
      return f();
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  };
  // Header lines as the visitor reads them: name, colon, the value without blanks around it.
  const normalized = (fields: string) =>
    fields.split('\r\n').map((l) => (l.includes(':') ? l.slice(0, l.indexOf(':')) + ': ' + l.slice(l.indexOf(':') + 1).replace(/^[ \t]+|[ \t]+$/g, '') : l));
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  let onePass = 0;
  for (let i = 0; i < 3000; i++) {
    const picked = Array.from({ length: rand(7) }, () => lines[rand(lines.length)]);
    const text = ['HTTP/1.1 200 OK', ...picked].join('\r\n');
    const slowFacts = facts();
    const slow = outcome(() => downstreamFields(parseResponseHead(text).headers, 'ours', slowFacts));
    const fastFacts = facts();
    let fastNull = false;
    const fast = outcome(() => {
      const r = downstreamFieldsOf(text, parseStatusLine(text).fieldsAt, 'ours', fastFacts);
      if (r !== null) return r;
      fastNull = true;
      return downstreamFields(parseResponseHead(text).headers, 'ours', fastFacts);
    });
    if (!fastNull && !fast.startsWith('error')) onePass++;
    const what = JSON.stringify(text);
    if (slow.startsWith('error')) {
      assert.equal(fast, slow, what);
      continue;
    }
    assert.deepEqual(normalized(fast), normalized(slow), what);
    assert.deepEqual(fastFacts, slowFacts, what);
  }
  assert.ok(onePass > 1000, `${onePass} heads took the one-pass path`);
  const raw = 'HTTP/1.1 200 OK\r\nServer:nginx\r\nX-Pad:  v \r\nConnection: keep-alive\r\nETag: "e"';
  assert.equal(downstreamFieldsOf(raw, parseStatusLine(raw).fieldsAt, 'r', facts()), 'Server:nginx\r\nX-Pad:  v \r\nETag: "e"\r\ncf-ray: r\r\n');
});

test('heads: start lines and fields parse; bare CR/LF, bad names and versions are refused', () => {
  assert.deepEqual(parseRequestHead('GET /a%20b HTTP/1.1\r\nHost: x.test\r\nX-Empty:\r\nX-Pad:  v  '), {
    method: 'GET',
    target: '/a%20b',
    path: '/a%20b',
    authority: '',
    minor: 1,
    headers: ['Host', 'x.test', 'X-Empty', '', 'X-Pad', 'v'],
  });
  assert.deepEqual(parseResponseHead('HTTP/1.0 404 Not Found\r\nA: b'), { status: 404, reason: 'Not Found', minor: 0, headers: ['A', 'b'] });
  assert.deepEqual(parseResponseHead('HTTP/1.1 204'), { status: 204, reason: '', minor: 1, headers: [] });
  const status = (text: string) => {
    try {
      parseRequestHead(text);
      return 0;
    } catch (e) {
      return (e as HeadError).status;
    }
  };
  assert.equal(status('GET / HTTP/1.1\r\nX: a\rb'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nX: a\nY: b'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nBad Name: a'), 400);
  assert.equal(status('GET / HTTP/1.1\r\n folded: a'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nNoColon'), 400);
  assert.equal(status('GET /a b HTTP/1.1'), 400);
  assert.equal(status('GET / HTTP/2.0'), 505);
  assert.equal(status('GET / FTP/1.0'), 400);
  assert.equal(status('G@T / HTTP/1.1'), 400);
  assert.throws(() => parseResponseHead('HTTP/1.1 2x0 OK'), HeadError);
});

test('chunked bodies: the end is found across any split; bad framing throws; decoding yields the payload', () => {
  const body = Buffer.from('5;ext=1\r\nhello\r\n1A\r\n' + 'x'.repeat(26) + '\r\n0\r\nTrailer: t\r\n\r\nNEXT');
  const messageEnd = body.length - 4;
  for (let split = 0; split <= body.length; split++) {
    const s = new ChunkedScanner();
    const a = s.feed(body, 0, split);
    const end = a >= 0 ? a : s.feed(body, split, body.length);
    assert.equal(end, messageEnd, `split at ${split}`);
  }
  const parts: string[] = [];
  new ChunkedScanner().feed(body, 0, body.length, (b, s, e) => parts.push(b.toString('latin1', s, e)));
  assert.equal(parts.join(''), 'hello' + 'x'.repeat(26));
  for (const bad of ['zz\r\n', '5\r\nhelloXX', '\r\n', '5\n', '1234567890abc\r\n']) {
    assert.throws(() => new ChunkedScanner().feed(Buffer.from(bad), 0, bad.length), ChunkedFramingError, bad);
  }
});
