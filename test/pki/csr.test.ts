// PKCS#10 requests: made by us and read by OpenSSL (`openssl req -verify`), made by OpenSSL and
// signed by us, with Cloudflare's cert.v3.ext extensions checked by `openssl x509 -text` and `verify`.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CsrError, createCa, createCsr, readCsr, signCsr, x509, type PemPair } from '../../src/pki/index.ts';
import { OPENSSL_MISSING, openssl, tempFiles } from './openssl.ts';

let ca: PemPair;
before(async () => {
  ca = await createCa({ commonName: 'example.com', keyType: 'p256' });
});

describe('createCsr / readCsr', () => {
  it('makes a self-signed request that readCsr verifies, with the requested names', async () => {
    const { csrPem, keyPem } = await createCsr({ commonName: 'app.example.com', organization: 'Example', dnsNames: ['app.example.com', 'api.example.com'] });
    assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const info = await readCsr(csrPem);
    assert.equal(info.subject, 'CN=app.example.com, O=Example');
    assert.deepEqual(info.dnsNames, ['app.example.com', 'api.example.com']);
  });

  it('refuses something that is not a CSR, and a CSR whose signature does not verify', async () => {
    await assert.rejects(readCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), CsrError);
    const { csrPem } = await createCsr({ commonName: 'app.example.com' });
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] ^= 0xff; // inside the signature
    await assert.rejects(readCsr(new Uint8Array(der)), /signature does not verify/);
  });

  it('OpenSSL verifies the request (openssl req -verify) and reads its subject', { skip: OPENSSL_MISSING }, async () => {
    const { csrPem } = await createCsr({ commonName: 'app.example.com', keyType: 'rsa2048' });
    const files = tempFiles({ 'cert.csr': csrPem });
    try {
      const r = openssl(['req', '-in', files.path('cert.csr'), '-noout', '-verify', '-subject']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout + r.stderr, /verify OK/i);
      assert.match(r.stdout, /subject=CN ?= ?app\.example\.com/);
    } finally {
      files.cleanup();
    }
  });
});

describe('signCsr', () => {
  let files: ReturnType<typeof tempFiles>;
  after(() => files?.cleanup());

  it('signs an OpenSSL-made request (Cloudflare\'s "openssl req -new") into a client certificate OpenSSL verifies', { skip: OPENSSL_MISSING }, async () => {
    files = tempFiles({ 'rootca.crt': ca.certPem });
    const made = openssl(['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', 'cert.key', '-out', 'cert.csr', '-subj', '/CN=app.example.com'], files.dir);
    assert.equal(made.status, 0, made.stderr);
    const certPem = await signCsr({ ca, csr: readFileSync(files.path('cert.csr'), 'utf8'), days: 730 });
    writeFileSync(files.path('cert.crt'), certPem);

    const verify = openssl(['verify', '-CAfile', 'rootca.crt', 'cert.crt'], files.dir);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /cert\.crt: OK/);
    const text = openssl(['x509', '-in', 'cert.crt', '-noout', '-text'], files.dir).stdout;
    assert.match(text, /Subject: CN ?= ?app\.example\.com/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage:\s*\n\s+TLS Web Client Authentication\n/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    // The request's key is the certificate's key.
    const certKey = openssl(['x509', '-in', 'cert.crt', '-noout', '-pubkey'], files.dir).stdout;
    const reqKey = openssl(['pkey', '-in', 'cert.key', '-pubout'], files.dir).stdout;
    assert.equal(certKey, reqKey);
  });

  it('keeps the requested DNS names; a server certificate without any gets its CN', async () => {
    const withNames = await createCsr({ commonName: 'app.example.com', dnsNames: ['app.example.com', 'www.example.com'] });
    const c1 = new x509.X509Certificate(await signCsr({ ca, csr: withNames.csrPem }));
    assert.deepEqual(c1.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((n) => n.value), ['app.example.com', 'www.example.com']);
    const bare = await createCsr({ commonName: 'origin.example.com' });
    const c2 = new x509.X509Certificate(await signCsr({ ca, csr: bare.csrPem, usage: 'server' }));
    assert.deepEqual(c2.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((n) => n.value), ['origin.example.com']);
    const c3 = new x509.X509Certificate(await signCsr({ ca, csr: bare.csrPem }));
    assert.equal(c3.getExtension(x509.SubjectAlternativeNameExtension), null);
  });
});
