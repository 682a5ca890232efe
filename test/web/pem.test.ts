// The dashboard's in-browser certificate reader (web/src/pem) against Node's X509Certificate: the
// details shown for review before an upload must be the ones the API will store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { PemError, readCertificatePem, readKeyPem } from '../../web/src/pem/certificate.ts';
import { sha256Hex } from '../../web/src/pem/sha256.ts';

test('reads subject, issuer, decimal serial, validity, fingerprint and key of P-256 and RSA leaves', async () => {
  const ca = await createCa({ commonName: 'Review CA', organization: 'Example', keyType: 'p256' });
  const ec = await issueCertificate({ ca, commonName: 'ec client', usage: 'client', keyType: 'p256' });
  const rsa = await issueCertificate({ ca, commonName: 'rsa server', dnsNames: ['app.example.com', '*.example.com'], usage: 'server', keyType: 'rsa2048' });
  for (const [pair, key] of [
    [ec, 'ECDSA P-256'],
    [rsa, 'RSA 2048 bits'],
  ] as const) {
    const x = new X509Certificate(pair.certPem);
    const s = readCertificatePem(pair.certPem);
    assert.equal(s.subject, x.subject.split('\n').join(', '));
    assert.equal(s.issuer, x.issuer.split('\n').join(', '));
    assert.equal(s.serialDecimal, BigInt(`0x${x.serialNumber}`).toString(10));
    assert.equal(s.notAfter.getTime(), x.validToDate.getTime());
    assert.equal(s.notBefore.getTime(), x.validFromDate.getTime());
    assert.equal(s.fingerprintSha256, x.fingerprint256.replaceAll(':', '').toLowerCase());
    assert.equal(s.key, key);
    assert.equal(s.signature, 'ECDSAWithSHA256');
    assert.equal(s.isCa, false);
    assert.equal(s.chainLength, 0);
    assert.deepEqual(readKeyPem(pair.keyPem), { format: 'PKCS#8', encrypted: false });
  }
  assert.deepEqual(readCertificatePem(rsa.certPem).dnsNames, ['app.example.com', '*.example.com']);
  const ca2 = readCertificatePem(`${ca.certPem}\n${ec.certPem}`);
  assert.equal(ca2.isCa, true);
  assert.equal(ca2.chainLength, 1);
});

test('says what is wrong with unreadable input', () => {
  assert.throws(() => readCertificatePem(''), PemError);
  assert.throws(() => readCertificatePem('garbage'), /No PEM block/);
  assert.throws(() => readCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /cannot be read/);
  assert.throws(() => readKeyPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /Expected a private key/);
  assert.equal(readKeyPem('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n').encrypted, true);
  assert.equal(readKeyPem('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n').encrypted, true);
});

test('sha256Hex matches node:crypto across block boundaries', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 1000]) {
    const data = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
    assert.equal(sha256Hex(data), createHash('sha256').update(data).digest('hex'));
  }
});
