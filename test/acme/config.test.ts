// ACME configuration: no directory, no ACME (and no CA contacted); the public shortcuts; an
// https URL only; EAB as a pair; settings that need a directory refused without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME_DIRECTORIES, ConfigError, loadConfig } from '../../src/config.ts';

test('no ACME directory configured: acme is null', () => {
  assert.equal(loadConfig({ env: {} }).acme, null);
  assert.equal(loadConfig({ env: { ORIGINPULL_ACME_DIRECTORY: '' } }).acme, null);
});

test('shortcuts name the public directories; a URL is taken as given; env, flags and file all work', () => {
  assert.equal(loadConfig({ env: { ORIGINPULL_ACME_DIRECTORY: 'letsencrypt' } }).acme!.directoryUrl, ACME_DIRECTORIES.letsencrypt);
  assert.match(loadConfig({ env: {}, flags: { acmeDirectory: 'letsencrypt-staging' } }).acme!.directoryUrl, /^https:\/\/acme-staging-v02\./);
  const acme = loadConfig({
    env: {
      ORIGINPULL_ACME_DIRECTORY: 'https://127.0.0.1:14000/dir',
      ORIGINPULL_ACME_EMAIL: 'ops@example.com',
      ORIGINPULL_ACME_CA_FILE: '/etc/ssl/private-acme-ca.pem',
      ORIGINPULL_ACME_EAB_KID: 'kid-1',
      ORIGINPULL_ACME_EAB_HMAC_KEY: 'aG1hYw',
    },
  }).acme!;
  assert.deepEqual(
    { ...acme, eab: { ...acme.eab } },
    { directoryUrl: 'https://127.0.0.1:14000/dir', email: 'ops@example.com', caFile: '/etc/ssl/private-acme-ca.pem', eab: { kid: 'kid-1', hmacKey: 'aG1hYw' } },
  );
  assert.ok(Object.isFrozen(acme));
});

test('bad ACME settings are refused with a message naming the setting', () => {
  const refused = (env: Record<string, string>, pattern: RegExp) => assert.throws(() => loadConfig({ env }), (err: Error) => err instanceof ConfigError && pattern.test(err.message));
  refused({ ORIGINPULL_ACME_DIRECTORY: 'http://acme.example/dir' }, /ACME directory: expected an https:\/\/ URL/);
  refused({ ORIGINPULL_ACME_DIRECTORY: 'lets-encrypt' }, /ACME directory: expected an https:\/\/ URL, letsencrypt or letsencrypt-staging/);
  refused({ ORIGINPULL_ACME_DIRECTORY: 'letsencrypt', ORIGINPULL_ACME_EAB_KID: 'kid' }, /external account binding: set both/);
  refused({ ORIGINPULL_ACME_DIRECTORY: 'letsencrypt', ORIGINPULL_ACME_EMAIL: 'not-an-address' }, /contact e-mail/);
  refused({ ORIGINPULL_ACME_EMAIL: 'ops@example.com' }, /without a directory/);
});
