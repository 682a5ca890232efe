import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWebhookUrl, webhookAllowList } from '../../src/notify/index.ts';

const check = (url: string, env: Record<string, string> = {}) => checkWebhookUrl(url, webhookAllowList(env));

test('by default any http or https URL is allowed, private addresses included', () => {
  for (const url of ['http://127.0.0.1:8080/hook', 'https://10.0.0.5/x?y=1', 'https://hooks.example.com']) assert.equal(check(url).ok, true, url);
  assert.equal(check('http://x/', { ORIGINPULL_WEBHOOK_ALLOW: '*' }).ok, true);
  assert.equal(check('http://x/', { ORIGINPULL_WEBHOOK_ALLOW: ' , ' }).ok, true, 'an empty list means the default');
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
});

test('a malformed setting throws, naming the variable', () => {
  assert.throws(() => webhookAllowList({ ORIGINPULL_WEBHOOK_ALLOW: 'hooks.example.com' }), /ORIGINPULL_WEBHOOK_ALLOW: "hooks.example.com" is not a URL prefix/);
  assert.throws(() => webhookAllowList({ ORIGINPULL_WEBHOOK_ALLOW: 'ftp://x/' }), /must start with http:\/\/ or https:\/\//);
});
