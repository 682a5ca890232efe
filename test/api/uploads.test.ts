// Bad uploads, each answered with its own 400 (one 413 for the oversized body) carrying a code and
// a message that says what is wrong, on both upload endpoints, and nothing stored by any of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { createZone, startApi } from './harness.ts';

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';

interface Case {
  name: string;
  /** A JSON value, or a raw string sent as the body. */
  body: unknown;
  raw?: boolean;
  status?: number;
  code: number;
  message: RegExp;
  pointer?: string;
}

test('bad uploads: each its own error, nothing stored', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const good = { certificate: f.leaf.certificate, private_key: f.leaf.privateKey };
  const cut = f.leaf.certificate.slice(0, Math.floor(f.leaf.certificate.length / 2));

  const cases: Case[] = [
    { name: 'garbage certificate', body: { ...good, certificate: 'garbage' }, code: 1002, message: /not PEM/, pointer: '/certificate' },
    { name: 'truncated PEM', body: { ...good, certificate: cut }, code: 1002, message: /truncated/ },
    { name: 'bad base64 in the block', body: { ...good, certificate: '-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----' }, code: 1002, message: /base64/ },
    { name: 'base64 that is not a certificate', body: { ...good, certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }, code: 1002, message: /X\.509/ },
    { name: 'a CRL instead of a certificate', body: { ...good, certificate: '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----' }, code: 1002, message: /X509 CRL/ },
    { name: 'empty certificate', body: { ...good, certificate: '' }, code: 1201, message: /certificate is empty/ },
    { name: 'whitespace certificate', body: { ...good, certificate: ' \n\t' }, code: 1201, message: /certificate is empty/ },
    { name: 'the key in the certificate field', body: { ...good, certificate: f.leaf.privateKey }, code: 1202, message: /send the key in private_key/ },
    { name: 'CA instead of leaf', body: { certificate: f.ca.certPem, private_key: f.ca.keyPem }, code: 2101, message: /missing leaf certificate/ },
    { name: 'chain in the wrong order', body: { ...good, certificate: f.leaf.certificate + f.intermediatePem }, code: 2100, message: /chain cannot be bundled/ },
    { name: 'expired certificate', body: { certificate: f.expired.certificate, private_key: f.expired.privateKey }, code: 1203, message: /expired on/ },
    { name: 'empty key', body: { ...good, private_key: '' }, code: 1204, message: /private_key is empty/, pointer: '/private_key' },
    { name: 'garbage key', body: { ...good, private_key: 'not a key' }, code: 2106, message: /private_key is not PEM/ },
    { name: 'truncated key', body: { ...good, private_key: f.leaf.privateKey.slice(0, 60) }, code: 2106, message: /truncated/ },
    { name: 'certificate as key', body: { ...good, private_key: f.leaf.certificate }, code: 2106, message: /holds a certificate/ },
    { name: 'public key as key', body: { ...good, private_key: f.publicKeyPem }, code: 2106, message: /public key/ },
    { name: 'two keys', body: { ...good, private_key: f.leaf.privateKey + f.other.privateKey }, code: 2106, message: /2 keys/ },
    { name: 'encrypted PKCS#8 key', body: { ...good, private_key: f.encryptedPkcs8 }, code: 1205, message: /encrypted/ },
    { name: 'encrypted PKCS#1 key', body: { certificate: f.rsaPkcs1.certificate, private_key: f.encryptedPkcs1 }, code: 1205, message: /encrypted/ },
    { name: 'mismatched key', body: { ...good, private_key: f.other.privateKey }, code: 1206, message: /^The key you provided does not match the certificate$/ },
    { name: 'RSA 1024', body: { certificate: f.rsa1024.certificate, private_key: f.rsa1024.privateKey }, code: 1207, message: /1024 bits/ },
    { name: 'P-521', body: { certificate: f.p521.certificate, private_key: f.p521.privateKey }, code: 1208, message: /only P-256 and P-384/ },
    { name: 'DSA', body: { certificate: f.dsa.certificate, private_key: f.dsa.privateKey }, code: 1209, message: /DSA/ },
    { name: 'Ed448', body: { certificate: f.ed448.certificate, private_key: f.ed448.privateKey }, code: 1209, message: /Ed448/ },
    { name: 'certificate is a number', body: { ...good, certificate: 42 }, code: 1004, message: /certificate must be string/, pointer: '/certificate' },
    { name: 'private_key is null', body: { ...good, private_key: null }, code: 1004, message: /private_key must be string/ },
    { name: 'certificate missing', body: { private_key: good.private_key }, code: 1004, message: /certificate is required/ },
    { name: 'private_key missing', body: { certificate: good.certificate, bundle_method: 'ubiquitous' }, code: 1004, message: /private_key is required/ },
    { name: 'body is an array', body: [good], code: 1004, message: /must be object/ },
    { name: 'body is a string', body: '"just a string"', raw: true, code: 1004, message: /must be object/ },
    { name: 'no body at all', body: '', raw: true, code: 1004, message: /must be object/ },
    { name: 'malformed JSON', body: '{"certificate": "x", ', raw: true, code: 6007, message: /Malformed JSON/ },
    { name: 'huge body', body: { ...good, padding: 'x'.repeat(70 * 1024) }, status: 413, code: 1013, message: /64 KiB/ },
  ];
  assert.ok(cases.filter((c) => (c.status ?? 400) === 400).length >= 25);

  const versionBefore = await h.store.currentVersion();
  for (const path of [`/zones/${zoneId}/origin_tls_client_auth`, `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`]) {
    for (const c of cases) {
      const res = await h.app.inject({
        method: 'POST',
        url: `/client/v4${path}`,
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
        payload: c.raw ? (c.body as string) : JSON.stringify(c.body),
      });
      const expected = c.status ?? 400;
      assert.equal(res.statusCode, expected, `${c.name}: ${res.body.slice(0, 300)}`);
      assert.match(res.headers['content-type'] as string, /^application\/json/, c.name);
      const body = res.json();
      assert.equal(body.success, false, c.name);
      assert.equal(body.result, null, c.name);
      assert.equal(body.errors.length, 1, c.name);
      assert.equal(body.errors[0].code, c.code, `${c.name}: ${body.errors[0].message}`);
      assert.match(body.errors[0].message, c.message, c.name);
      if (c.pointer) assert.equal(body.errors[0].source?.pointer, c.pointer, c.name);
      assert.ok(!res.body.includes(f.leaf.privateKey.split('\n')[1]), `${c.name}: answer echoes key material`);
    }
  }
  assert.equal(await h.store.currentVersion(), versionBefore, 'no write committed');
  assert.deepEqual(await h.store.listCertificates(zoneId, 'zone'), []);
  assert.deepEqual(await h.store.listCertificates(zoneId, 'hostname'), []);
});

test('accepted uploads: unknown fields ignored, warnings in messages, duplicates 409, hostname limit 10', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const zonePath = `/zones/${zoneId}/origin_tls_client_auth`;

  const ok = await h.call('POST', zonePath, { body: { certificate: f.chained.certificate, private_key: f.chained.privateKey, bundle_method: 'ubiquitous', type: 'sni_custom' } });
  assert.equal(ok.statusCode, 200, ok.body);
  const cert = ok.json().result;
  assert.equal(cert.issuer, 'Test Intermediate CA');
  assert.equal((cert.certificate.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'the chain is kept');
  assert.match(cert.fingerprint_sha256, /^[0-9a-f]{64}$/);

  const dup = await h.call('POST', zonePath, { body: { certificate: f.chained.certificate, private_key: f.chained.privateKey } });
  assert.equal(dup.statusCode, 409);
  assert.equal(dup.headers['x-should-retry'], 'false');
  assert.equal(dup.json().errors[0].code, 1220);

  const future = await h.call('POST', zonePath, { body: { certificate: f.notYetValid.certificate, private_key: f.notYetValid.privateKey } });
  assert.equal(future.statusCode, 200);
  assert.deepEqual(future.json().messages.map((m: { code: number }) => m.code), [1300]);

  for (const u of [f.rsaPkcs1, f.ecSec1WithParams, f.p384, f.ed25519]) {
    const res = await h.call('POST', zonePath, { body: { certificate: u.certificate, private_key: u.privateKey } });
    assert.equal(res.statusCode, 200, res.body);
  }

  // Hostname certificates: at most 10 per zone.
  const hostPath = `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`;
  const { createCa, issueCertificate } = await import('../../src/pki/index.ts');
  const ca = await createCa({ commonName: 'Limit CA', keyType: 'p256', days: 2 });
  for (let i = 0; i < 11; i++) {
    const pair = await issueCertificate({ ca, commonName: `h${i}.example.com`, usage: 'client', keyType: 'p256', days: 2 });
    const res = await h.call('POST', hostPath, { body: { certificate: pair.certPem, private_key: pair.keyPem } });
    if (i < 10) assert.equal(res.statusCode, 200, res.body);
    else {
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().errors[0].code, 1131);
      assert.match(res.json().errors[0].message, /at most 10/);
    }
  }
});
