// Upload validation, pure: every accepted shape with the facts it yields, every refusal with its
// own code and a message naming the problem (and never key material).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { CERT_ERROR_CODES, CERT_WARNING_CODES, validateCertificateUpload, type CertUpload } from '../../src/domain/index.ts';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';

function accepted(input: CertUpload, now?: number) {
  const r = validateCertificateUpload(input, now);
  if (!r.ok) assert.fail(`expected acceptance, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

function refused(input: CertUpload) {
  const r = validateCertificateUpload(input);
  if (r.ok) assert.fail('expected a refusal');
  return r.error;
}

test('a P-256 client certificate: issuer, decimal serial, signature, fingerprint, dates, PKCS#8 key', { skip }, async () => {
  const f = await certFixtures();
  const v = accepted(f.leaf);
  const x = new X509Certificate(f.leaf.certificate);
  assert.equal(v.issuer, 'Test Client CA');
  assert.equal(v.subject, 'leaf.example.com');
  assert.equal(v.serialNumber, BigInt('0x' + x.serialNumber).toString(10));
  assert.match(v.serialNumber, /^[0-9]+$/);
  assert.equal(v.signature, 'ECDSAWithSHA256');
  assert.equal(v.fingerprintSha256, x.fingerprint256.replace(/:/g, '').toLowerCase());
  assert.match(v.fingerprintSha256, /^[0-9a-f]{64}$/);
  assert.equal(v.expiresOn, x.validToDate.getTime());
  assert.equal(v.notBefore, x.validFromDate.getTime());
  assert.equal(v.keyDescription, 'ECDSA P-256');
  assert.match(v.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  assert.deepEqual(v.chainPems, []);
  assert.deepEqual(v.warnings, []);
});

test('accepted key shapes: RSA PKCS#1, SEC1 after EC PARAMETERS, P-384, Ed25519', { skip }, async () => {
  const f = await certFixtures();
  const rsa = accepted(f.rsaPkcs1);
  assert.equal(rsa.keyDescription, 'RSA 2048');
  assert.equal(rsa.signature, 'SHA256WithRSA');
  assert.equal(rsa.issuer, 'rsa2048.example.com');
  assert.match(rsa.privateKeyPem, /BEGIN PRIVATE KEY/, 'normalized to PKCS#8');
  const sec1 = accepted(f.ecSec1WithParams);
  assert.equal(sec1.keyDescription, 'ECDSA P-256');
  assert.doesNotMatch(sec1.privateKeyPem, /EC PARAMETERS/);
  assert.equal(accepted(f.p384).keyDescription, 'ECDSA P-384');
  const ed = accepted(f.ed25519);
  assert.equal(ed.keyDescription, 'Ed25519');
  assert.equal(ed.signature, 'ED25519');
});

test('a bundle keeps the intermediates as the chain; text around blocks is ignored', { skip }, async () => {
  const f = await certFixtures();
  const v = accepted({ certificate: `subject=CN = chained\n${f.chained.certificate}\ntrailing words`, privateKey: f.chained.privateKey });
  assert.equal(v.chainPems.length, 1);
  assert.equal(v.issuer, 'Test Intermediate CA');
  assert.equal(new X509Certificate(v.chainPems[0]).fingerprint256, new X509Certificate(f.intermediatePem).fingerprint256);
  assert.equal(v.certificatePem, v.leafPem + v.chainPems[0]);
});

test('a certificate not valid yet is accepted with a warning', { skip }, async () => {
  const f = await certFixtures();
  const v = accepted(f.notYetValid);
  assert.equal(v.warnings.length, 1);
  assert.equal(v.warnings[0].code, CERT_WARNING_CODES.notYetValid);
  assert.match(v.warnings[0].message, /not valid until/);
});

test('refusals, each with its code and a message naming the problem', { skip }, async () => {
  const f = await certFixtures();
  const [head, tail] = [f.leaf.certificate.slice(0, 200), f.leaf.certificate.slice(200)];
  const cases: [string, CertUpload, number, RegExp][] = [
    ['garbage', { certificate: 'hello world', privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.invalidCertificate, /not PEM/],
    ['truncated certificate', { certificate: head, privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.invalidCertificate, /truncated/],
    ['empty certificate', { certificate: '  \n', privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.certificateEmpty, /empty/],
    ['bad base64', { certificate: `-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n`, privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.invalidCertificate, /base64/],
    ['not DER', { certificate: `-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAA\n-----END CERTIFICATE-----\n`, privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.invalidCertificate, /X\.509/],
    ['mismatched labels', { certificate: head + tail.replace('END CERTIFICATE', 'END CRL'), privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.invalidCertificate, /closed by/],
    ['key pasted as certificate', { certificate: f.leaf.privateKey, privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.keyInCertificateField, /private key/],
    ['CA as leaf', { certificate: f.ca.certPem, privateKey: f.ca.keyPem }, CERT_ERROR_CODES.missingLeaf, /missing leaf certificate/],
    ['unrelated second certificate', { certificate: f.leaf.certificate + f.intermediatePem, privateKey: f.leaf.privateKey }, CERT_ERROR_CODES.badChain, /did not issue/],
    ['expired', f.expired, CERT_ERROR_CODES.certificateExpired, /expired on/],
    ['empty key', { certificate: f.leaf.certificate, privateKey: '' }, CERT_ERROR_CODES.keyEmpty, /private_key is empty/],
    ['key not PEM', { certificate: f.leaf.certificate, privateKey: 'secret' }, CERT_ERROR_CODES.invalidKey, /not PEM/],
    ['certificate as key', { certificate: f.leaf.certificate, privateKey: f.leaf.certificate }, CERT_ERROR_CODES.invalidKey, /holds a certificate/],
    ['public key as key', { certificate: f.leaf.certificate, privateKey: f.publicKeyPem }, CERT_ERROR_CODES.invalidKey, /public key/],
    ['two keys', { certificate: f.leaf.certificate, privateKey: f.leaf.privateKey + f.other.privateKey }, CERT_ERROR_CODES.invalidKey, /2 keys/],
    ['OpenSSH key', { certificate: f.leaf.certificate, privateKey: f.opensshKey }, CERT_ERROR_CODES.invalidKey, /OpenSSH/],
    ['encrypted PKCS#8', { certificate: f.leaf.certificate, privateKey: f.encryptedPkcs8 }, CERT_ERROR_CODES.keyEncrypted, /encrypted/],
    ['encrypted PKCS#1', { certificate: f.rsaPkcs1.certificate, privateKey: f.encryptedPkcs1 }, CERT_ERROR_CODES.keyEncrypted, /encrypted/],
    ['mismatched key', { certificate: f.leaf.certificate, privateKey: f.other.privateKey }, CERT_ERROR_CODES.keyMismatch, /^The key you provided does not match the certificate$/],
    ['RSA 1024', f.rsa1024, CERT_ERROR_CODES.rsaKeySize, /1024 bits: at least 2048/],
    ['P-521', f.p521, CERT_ERROR_CODES.unsupportedCurve, /secp521r1/],
    ['DSA', f.dsa, CERT_ERROR_CODES.unsupportedKeyType, /DSA/],
    ['Ed448', f.ed448, CERT_ERROR_CODES.unsupportedKeyType, /Ed448/],
  ];
  const keyBodies = [f.leaf.privateKey, f.other.privateKey, f.rsaPkcs1.privateKey].map((k) => k.split('\n')[1]);
  for (const [name, input, code, message] of cases) {
    const err = refused(input);
    assert.equal(err.code, code, `${name}: ${err.message}`);
    assert.match(err.message, message, name);
    for (const body of keyBodies) assert.ok(!err.message.includes(body), `${name}: message holds key material`);
  }
});

test('the clock decides expiry', { skip }, async () => {
  const f = await certFixtures();
  const v = accepted(f.leaf);
  const later = validateCertificateUpload(f.leaf, v.expiresOn + 1);
  assert.equal(later.ok, false);
  assert.equal(!later.ok && later.error.code, CERT_ERROR_CODES.certificateExpired);
});
