// HTTP/2 header blocks to the HTTP/1.1 heads the phases use, and back: :authority as Host,
// cookies joined, connection-specific fields refused, a body without length framed chunked; the
// phases' HTTP/1.1 answer heads read back as a :status and fields; trailer sections as fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadError } from '../../src/edge/http1/head.ts';
import { requestHeadOf, responseOf, trailersOf } from '../../src/edge/http2-head.ts';
import { upstreamHead } from '../../src/edge/headers.ts';

const base = [':method', 'GET', ':scheme', 'https', ':authority', 'www.example.com', ':path', '/a?b=1'];

function refused(raw: string[], reason: string, status = 400): void {
  assert.throws(() => requestHeadOf(raw, true), (err: unknown) => err instanceof HeadError && err.reason === reason && err.status === status, reason);
}

test(':authority becomes Host, first; cookies are joined; the path is the target', () => {
  const head = requestHeadOf([...base, 'cookie', 'a=1', 'accept', '*/*', 'cookie', 'b=2'], true);
  assert.equal(head.method, 'GET');
  assert.equal(head.target, '/a?b=1');
  assert.equal(head.path, '/a?b=1');
  assert.equal(head.minor, 1);
  assert.deepEqual(head.headers, ['host', 'www.example.com', 'accept', '*/*', 'cookie', 'a=1; b=2']);
});

test('a Host header alone routes like :authority; one naming another host is refused', () => {
  const raw = [':method', 'GET', ':scheme', 'https', ':path', '/', 'host', 'h.example:8443'];
  assert.deepEqual(requestHeadOf(raw, true).headers, ['host', 'h.example:8443']);
  assert.deepEqual(requestHeadOf([...base, 'host', 'WWW.example.com'], true).headers, ['host', 'www.example.com']);
  refused([...base, 'host', 'other.example'], 'authority_host_mismatch');
  refused([':method', 'GET', ':scheme', 'https', ':authority', 'bad host', ':path', '/'], 'invalid_authority');
});

test('connection-specific fields are refused (RFC 9113 §8.2.2); te: trailers passes', () => {
  for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']) refused([...base, name, 'x'], 'connection_specific_header');
  refused([...base, 'te', 'gzip'], 'connection_specific_header');
  assert.deepEqual(requestHeadOf([...base, 'te', 'trailers'], true).headers, ['host', 'www.example.com', 'te', 'trailers']);
});

test('pseudo-headers: missing ones, unknown ones, CONNECT and odd paths are refused', () => {
  refused([':method', 'GET', ':scheme', 'https', ':authority', 'a.example'], 'missing_pseudo_header');
  refused([...base, ':protocol', 'websocket'], 'invalid_pseudo_header');
  refused([':method', 'CONNECT', ':authority', 'a.example:443'], 'connect_not_allowed', 405);
  refused([':method', 'GET', ':scheme', 'https', ':authority', 'a.example', ':path', 'a'], 'invalid_target');
  assert.equal(requestHeadOf([':method', 'OPTIONS', ':scheme', 'https', ':authority', 'a.example', ':path', '*'], true).target, '*');
  refused([...base, 'x-bad', 'a\r\nb'], 'bare_cr');
});

test('a body without Content-Length goes upstream chunked; with one, as it is', () => {
  const facts = { host: '', hasBody: false, contentLength: -1, chunked: false, closeAfter: false, expectContinue: false, wantsJson: false, upgrade: '' };
  const chunked = upstreamHead(requestHeadOf([':method', 'POST', ...base.slice(2)], false), '192.0.2.1', 'https', 'r', facts);
  assert.match(chunked, /\r\ntransfer-encoding: chunked\r\n\r\n$/);
  assert.equal(facts.chunked, true);
  assert.equal(facts.hasBody, true);
  const sized = upstreamHead(requestHeadOf([...base, 'content-length', '5'], false), '192.0.2.1', 'https', 'r', facts);
  assert.doesNotMatch(sized, /transfer-encoding/);
  assert.equal(facts.contentLength, 5);
  upstreamHead(requestHeadOf(base, true), '192.0.2.1', 'https', 'r', facts);
  assert.equal(facts.hasBody, false);
  assert.equal(facts.host, 'www.example.com');
});

test('answer heads: status, lower-case fields, duplicates kept, HTTP/1.1 framing fields dropped', () => {
  const res = responseOf('HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\ntransfer-encoding: chunked\r\nconnection: close\r\ncf-ray: r1\r\n\r\n');
  assert.equal(res.status, 201);
  assert.equal(res.hasLength, false);
  assert.deepEqual(res.headers, [':status', '201', 'content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'cf-ray', 'r1']);
  const sized = responseOf('HTTP/1.1 200 \r\ncontent-length: 12\r\nx-empty:\r\n\r\n');
  assert.equal(sized.hasLength, true);
  assert.equal(sized.length, 12);
  assert.deepEqual(sized.headers, [':status', '200', 'content-length', '12', 'x-empty', '']);
});

test('trailer sections become trailer fields; framing fields are left out', () => {
  assert.deepEqual({ ...trailersOf('Grpc-Status: 0\r\nx-sum: 1\r\nx-sum: 2\r\ncontent-length: 3\r\n\r\n') }, { 'grpc-status': '0', 'x-sum': ['1', '2'] });
  assert.deepEqual({ ...trailersOf('\r\n') }, {});
});
