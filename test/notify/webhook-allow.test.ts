import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWebhookUrl, webhookAllowList } from '../../src/notify/index.ts';

const check = (url: string, env: Record<string, string> = {}) => checkWebhookUrl(url, webhookAllowList(env));

test('by default any http or https URL of a public address; loopback, private, link-local refused unless allowed', () => {
  for (const url of ['https://hooks.example.com', 'http://203.0.113.7:8080/x', 'http://[2001:db8::1]/']) assert.equal(check(url).ok, true, url);
  assert.equal(check('http://x/', { ORIGINPULL_WEBHOOK_ALLOW: '*' }).ok, true);
  assert.equal(check('http://x/', { ORIGINPULL_WEBHOOK_ALLOW: ' , ' }).ok, true, 'an empty list means the default');
  const refusals: [string, RegExp][] = [
    ['http://127.0.0.1:8080/hook', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]/', /::1 is a loopback address/],
    ['http://0.0.0.0:9/', /loopback/],
    ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ['http://0x7f.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://[::ffff:7f00:1]/', /loopback/],
    ['http://[64:ff9b::a00:1]/', /private/],
    ['https://10.0.0.5/x?y=1', /10\.0\.0\.5 is a private address/],
    ['http://192.168.1.1/', /private/],
    ['http://172.16.0.1/', /private/],
    ['http://100.64.0.1/', /private/],
    ['http://[fd00::1]/', /private/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local address/],
    ['http://[fe80::1]/', /link-local/],
    ['http://224.0.0.1/', /reserved/],
  ];
  for (const [url, why] of refusals) {
    const r = check(url);
    assert.equal(r.ok, false, url);
    assert.match(r.ok ? '' : r.message, why, url);
    assert.match(r.ok ? '' : r.message, /ORIGINPULL_WEBHOOK_ALLOW: any http or https URL of a public address; list the URL prefix or the address class to allow it/);
  }
  assert.equal(check('http://127.0.0.1:8080/hook', { ORIGINPULL_WEBHOOK_ALLOW: 'loopback' }).ok, true);
  assert.equal(check('http://10.0.0.5/', { ORIGINPULL_WEBHOOK_ALLOW: 'loopback' }).ok, false, 'only the classes listed');
  assert.equal(check('http://10.0.0.5/', { ORIGINPULL_WEBHOOK_ALLOW: 'private,link-local' }).ok, true);
  assert.equal(check('http://224.0.0.1/', { ORIGINPULL_WEBHOOK_ALLOW: 'loopback,private,link-local' }).ok, false, 'reserved ranges never');
  const named = check('https://hooks.example.com/x');
  assert.equal(named.ok && named.lookup !== null, true, 'a name is checked where it is resolved, at send time');
});

test('malformed URLs, other schemes and credentials are refused with a reason', () => {
  const reason = (url: string) => {
    const r = check(url);
    assert.equal(r.ok, false, url);
    return r.ok ? '' : r.message;
  };
  assert.match(reason('not a url'), /not a valid absolute URL/);
  assert.match(reason('/relative/path'), /not a valid absolute URL/);
  assert.match(reason('ftp://example.com/x'), /must use http or https, not ftp/);
  assert.match(reason('javascript:alert(1)'), /must use http or https/);
  assert.match(reason('https://user:pw@example.com/'), /credentials/);
  assert.match(reason(`https://example.com/${'a'.repeat(2100)}`), /longer than 2048/);
});

test('ORIGINPULL_WEBHOOK_ALLOW prefixes match scheme, host, port and path prefix', () => {
  const env = { ORIGINPULL_WEBHOOK_ALLOW: 'https://hooks.example.com/originpull/, http://127.0.0.1:9000' };
  assert.equal(check('https://hooks.example.com/originpull/a', env).ok, true);
  assert.equal(check('http://127.0.0.1:9000/anything', env).ok, true);
  const refused = check('https://hooks.example.com.evil.net/originpull/a', env);
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.message, /not allowed by this installation \(ORIGINPULL_WEBHOOK_ALLOW: URLs starting with https:\/\/hooks\.example\.com\/originpull\/, http:\/\/127\.0\.0\.1:9000\/\)/);
  assert.equal(check('https://hooks.example.com/other', env).ok, false, 'outside the path prefix');
  assert.equal(check('http://hooks.example.com/originpull/a', env).ok, false, 'another scheme');
  assert.equal(check('http://127.0.0.1:9001/', env).ok, false, 'another port');
  const listed = check('http://127.0.0.1:9000/anything', env);
  assert.equal(listed.ok && listed.lookup, null, 'a listed host is explicitly allowed, whatever its address');
});

test('a malformed setting throws, naming the variable', () => {
  assert.throws(() => webhookAllowList({ ORIGINPULL_WEBHOOK_ALLOW: 'hooks.example.com' }), /ORIGINPULL_WEBHOOK_ALLOW: "hooks.example.com" is neither a URL prefix .* nor one of \*, loopback, private, link-local/);
  assert.throws(() => webhookAllowList({ ORIGINPULL_WEBHOOK_ALLOW: 'ftp://x/' }), /must start with http:\/\/ or https:\/\//);
});
