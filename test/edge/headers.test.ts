// Header handling on the request path, without servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downstreamHeaders, routingHostname, upstreamHeaders, visitorIp } from '../../src/edge/headers.ts';

const pairs = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => `${flat[2 * i]}: ${flat[2 * i + 1]}`);

test('routing host name: no port, lower case, no trailing dot', () => {
  assert.equal(routingHostname('WWW.Example.COM:8080'), 'www.example.com');
  assert.equal(routingHostname('example.com.'), 'example.com');
  assert.equal(routingHostname('example.com.:443'), 'example.com');
  assert.equal(routingHostname('[2001:db8::1]:443'), '[2001:db8::1]');
  assert.equal(visitorIp('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(visitorIp('2001:db8::1'), '2001:db8::1');
});

test('upstream: hop-by-hop and forged edge headers dropped, Connection-named headers dropped wherever they are', () => {
  const facts = { hasBody: false, host: '' };
  const out = upstreamHeaders(
    ['X-Early', '1', 'Host', 'a.test', 'Connection', 'X-Early, keep-alive', 'Keep-Alive', '5', 'Transfer-Encoding', 'chunked',
      'Proxy-Foo', 'x', 'CF-Ray', 'forged', 'X-Forwarded-For', '10.0.0.1', 'X-Forwarded-For', '10.0.0.2', 'Accept', '*/*'],
    '192.0.2.9',
    'https',
    'r-1',
    facts,
  );
  assert.deepEqual(pairs(out), [
    'Host: a.test',
    'Accept: */*',
    'x-forwarded-for: 10.0.0.1, 10.0.0.2, 192.0.2.9',
    'x-forwarded-proto: https',
    'x-forwarded-host: a.test',
    'cf-connecting-ip: 192.0.2.9',
    'cf-visitor: {"scheme":"https"}',
    'cf-ray: r-1',
  ]);
  assert.deepEqual(facts, { hasBody: true, host: 'a.test' });
  const noBody = { hasBody: true, host: '' };
  upstreamHeaders(['Host', 'b.test', 'Content-Length', '0'], '1.2.3.4', 'http', 'r', noBody);
  assert.equal(noBody.hasBody, false);
});

test('downstream: hop-by-hop dropped, origin CF-Ray replaced by ours', () => {
  const raw = ['Content-Type', 'text/plain', 'Connection', 'close, X-Hop', 'X-Hop', 'v', 'Transfer-Encoding', 'chunked', 'CF-Ray', 'theirs', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'].map((s) => Buffer.from(s));
  assert.deepEqual(pairs(downstreamHeaders(raw, 'ours')), ['Content-Type: text/plain', 'Set-Cookie: a=1', 'Set-Cookie: b=2', 'cf-ray: ours']);
});
