// redirectLocation: the 301 targets of always_use_https and SSL mode off keep the path and query,
// write no port for visitors on standard ports and the edge's own port for those on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redirectLocation } from '../../src/edge/redirect.ts';

test('redirectLocation: path and query kept as sent, ports only for visitors that came with one', () => {
  assert.equal(redirectLocation('https', 'app.example.com', 'app.example.com', '/a/b?x=1&y=%20', 8443), 'https://app.example.com/a/b?x=1&y=%20');
  assert.equal(redirectLocation('https', 'app.example.com', 'APP.example.com:8080', '/p', 8443), 'https://app.example.com:8443/p');
  assert.equal(redirectLocation('https', 'app.example.com', 'app.example.com:80', '/p', 443), 'https://app.example.com/p', 'the standard port is not written');
  assert.equal(redirectLocation('http', 'app.example.com', 'app.example.com:8443', '/p?q', 8080), 'http://app.example.com:8080/p?q');
  assert.equal(redirectLocation('http', 'app.example.com', 'app.example.com:8443', '/p', 0), 'http://app.example.com/p', 'no listener known: no port');
  assert.equal(redirectLocation('https', 'app.example.com', 'app.example.com', '*', 443), 'https://app.example.com/', 'OPTIONS * goes to the root');
  assert.equal(redirectLocation('https', 'app.example.com', 'app.example.com', '//evil.example/x', 443), 'https://app.example.com//evil.example/x', 'the host is always the visitor host name');
});
