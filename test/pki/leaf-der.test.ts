// Edge server certificates encoded by hand (leaf-der.ts): read back by Node's X509Certificate and by
// OpenSSL (`x509 -text`, `verify -purpose sslserver`), used in real TLS handshakes, and field for
// field what signPublicKey (@peculiar/x509) makes for the same key, for P-256, P-384 and RSA CAs.
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { before, describe, it } from 'node:test';
import { LeafIssuer, createCa, randomSerial, readCaFields, signPublicKey, x509, type PemPair } from '../../src/pki/index.ts';
import { OPENSSL_MISSING, openssl, tempFiles } from './openssl.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const HOUR_MS = 3_600_000;

function leafKey(): { publicKey: KeyObject; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { publicKey, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** Whole seconds: a certificate carries no more. */
function window(days: number): { notBefore: Date; notAfter: Date } {
  const now = Math.floor(Date.now() / 1000) * 1000;
  return { notBefore: new Date(now - HOUR_MS), notAfter: new Date(now + days * 86_400_000) };
}

/** `openssl x509 -text` output without what differs between two issues: serial and signature. */
function textWithoutSerialAndSignature(text: string): string {
  return text
    .replace(/Serial Number:\n\s+[0-9a-f:]+\n/, '')
    .replace(/Signature Value:\n[\s0-9a-f:]+$/, '');
}

/** A TLS server with the leaf; resolves with whether a verifying client accepted it for `servername`. */
async function handshake(leaf: { certPem: string; keyPem: string }, caPem: string, servername: string): Promise<{ authorized: boolean; error?: string }> {
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem, servername, rejectUnauthorized: true }, () => {
        resolve({ authorized: socket.authorized });
        socket.destroy();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve({ authorized: false, error: err.code }));
    });
  } finally {
    server.close();
  }
}

for (const keyType of ['p256', 'p384', 'rsa2048'] as const) {
  describe(`LeafIssuer with a ${keyType} CA`, () => {
    let ca: PemPair;
    let caCert: X509Certificate;
    let issuer: LeafIssuer;
    before(async () => {
      ca = await createCa({ commonName: `originpull edge CA (${keyType})`, organization: 'originpull, tests', keyType, days: 365 });
      caCert = new X509Certificate(ca.certPem);
      issuer = new LeafIssuer(ca);
    });

    for (const name of ['www.example.com', '*.example.com']) {
      it(`issues ${name}: Node's X509Certificate reads and verifies it`, () => {
        const key = leafKey();
        const { notBefore, notAfter } = window(90);
        const cert = new X509Certificate(issuer.issueServerLeaf({ name, publicKey: key.publicKey, notBefore, notAfter }));
        assert.equal(cert.verify(caCert.publicKey), true);
        assert.equal(cert.checkIssued(caCert), true);
        assert.equal(cert.issuer, caCert.subject);
        // The CA's subject, byte for byte.
        assert.ok(cert.raw.includes(readCaFields(caCert.raw).subject));
        assert.equal(cert.subject, `CN=${name}`);
        assert.equal(cert.subjectAltName, `DNS:${name}`);
        assert.equal(cert.ca, false);
        assert.deepEqual(cert.keyUsage, [SERVER_AUTH]);
        assert.equal(cert.validFromDate.getTime(), notBefore.getTime());
        assert.equal(cert.validToDate.getTime(), notAfter.getTime());
        assert.equal(cert.publicKey.equals(key.publicKey), true);
        assert.match(cert.serialNumber, /^[0-7][0-9A-F]{31}$/);
        if (name.startsWith('*.')) {
          assert.equal(cert.checkHost('a.example.com'), name);
          assert.equal(cert.checkHost('a.b.example.com'), undefined);
          assert.equal(cert.checkHost('example.com'), undefined);
        } else {
          assert.equal(cert.checkHost(name), name);
          assert.equal(cert.checkHost('other.example.com'), undefined);
        }
      });
    }

    it('issues what signPublicKey issues for the same key (openssl x509 -text, but serial and signature)', { skip: OPENSSL_MISSING }, async () => {
      const key = leafKey();
      const { notBefore, notAfter } = window(90);
      const ours = issuer.issueServerLeaf({ name: '*.example.com', publicKey: key.publicKey, notBefore, notAfter });
      const cryptoKey = await globalThis.crypto.subtle.importKey('spki', key.publicKey.export({ type: 'spki', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
      const theirs = await signPublicKey({ ca, commonName: '*.example.com', usage: 'server', publicKey: cryptoKey, notBefore, notAfter });
      const files = tempFiles({ 'ours.pem': ours, 'theirs.pem': theirs });
      try {
        const text = (file: string) => {
          const r = openssl(['x509', '-in', file, '-noout', '-text'], files.dir);
          assert.equal(r.status, 0, r.stderr);
          return r.stdout;
        };
        const ourText = text('ours.pem');
        assert.equal(textWithoutSerialAndSignature(ourText), textWithoutSerialAndSignature(text('theirs.pem')));
        assert.match(ourText, /Version: 3 \(0x2\)/);
        assert.match(ourText, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
        assert.match(ourText, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
        assert.match(ourText, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
        assert.match(ourText, /X509v3 Subject Alternative Name: \n\s+DNS:\*\.example\.com\n/);
        assert.match(ourText, keyType === 'p384' ? /Signature Algorithm: ecdsa-with-SHA384/ : keyType === 'p256' ? /Signature Algorithm: ecdsa-with-SHA256/ : /Signature Algorithm: sha256WithRSAEncryption/);
        // The authority key id is the CA's subject key id.
        const caSki = new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
        const aki = new x509.X509Certificate(ours).getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId;
        assert.equal(aki, caSki);
        // The subject key id is RFC 5280's method 1, as @peculiar/x509 computes it.
        const ski = new x509.X509Certificate(ours).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
        const expected = Buffer.from(await new x509.PublicKey(key.publicKey.export({ type: 'spki', format: 'der' })).getKeyIdentifier()).toString('hex');
        assert.equal(ski, expected);
      } finally {
        files.cleanup();
      }
    });

    it('OpenSSL verifies it as a TLS server certificate for its name, also when valid past 2050', { skip: OPENSSL_MISSING }, () => {
      const key = leafKey();
      const now = new Date(Math.floor(Date.now() / 1000) * 1000 - HOUR_MS);
      const leaf = issuer.issueServerLeaf({ name: '*.example.com', publicKey: key.publicKey, notBefore: now, notAfter: new Date('2051-06-30T12:34:56Z') });
      const files = tempFiles({ 'ca.pem': ca.certPem, 'leaf.pem': leaf });
      try {
        const ok = openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', '-verify_hostname', 'a.example.com', 'leaf.pem'], files.dir);
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /leaf\.pem: OK/);
        const wrongName = openssl(['verify', '-CAfile', 'ca.pem', '-verify_hostname', 'a.b.example.com', 'leaf.pem'], files.dir);
        assert.notEqual(wrongName.status, 0);
        // UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5).
        const asn1 = openssl(['asn1parse', '-in', 'leaf.pem'], files.dir).stdout;
        assert.match(asn1, /UTCTIME\s+:\d{12}Z/);
        assert.match(asn1, /GENERALIZEDTIME\s+:20510630123456Z/);
        assert.equal(new X509Certificate(leaf).validToDate.toISOString(), '2051-06-30T12:34:56.000Z');
      } finally {
        files.cleanup();
      }
    });

    it('serves TLS: a client trusting the CA accepts it for its name, and refuses it for another', async () => {
      const key = leafKey();
      const exact = { certPem: issuer.issueServerLeaf({ name: 'www.example.com', publicKey: key.publicKey, ...window(90) }), keyPem: key.keyPem };
      assert.deepEqual(await handshake(exact, ca.certPem, 'www.example.com'), { authorized: true });
      assert.deepEqual(await handshake(exact, ca.certPem, 'api.example.com'), { authorized: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      const wild = { certPem: issuer.issueServerLeaf({ name: '*.example.com', publicKey: key.publicKey, ...window(90) }), keyPem: key.keyPem };
      assert.deepEqual(await handshake(wild, ca.certPem, 'a.example.com'), { authorized: true });
      assert.deepEqual(await handshake(wild, ca.certPem, 'a.b.example.com'), { authorized: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      // Another CA's clients do not trust it.
      const other = await createCa({ commonName: 'another CA', keyType: 'p256', days: 30 });
      assert.equal((await handshake(exact, other.certPem, 'www.example.com')).authorized, false);
    });
  });
}

describe('LeafIssuer edge cases', () => {
  it('omits the authority key id when the CA has no subject key id, and the leaf still verifies', async () => {
    const keys = (await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const caCert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: 'CN=CA without key id',
      ...window(30),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ],
    });
    const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
    const ca = { certPem: caCert.toString('pem'), keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n` };
    assert.equal(readCaFields(new X509Certificate(ca.certPem).raw).keyId, null);
    const key = leafKey();
    const leaf = new LeafIssuer(ca).issueServerLeaf({ name: 'www.example.com', publicKey: key.publicKey, ...window(30) });
    assert.equal(new x509.X509Certificate(leaf).getExtension(x509.AuthorityKeyIdentifierExtension), null);
    assert.ok(new x509.X509Certificate(leaf).getExtension(x509.SubjectKeyIdentifierExtension));
    const cert = new X509Certificate(leaf);
    assert.equal(cert.checkIssued(new X509Certificate(ca.certPem)), true);
    assert.equal(cert.verify(new X509Certificate(ca.certPem).publicKey), true);
    assert.deepEqual(await handshake({ certPem: leaf, keyPem: key.keyPem }, ca.certPem, 'www.example.com'), { authorized: true });
  });

  it('refuses a CA key it cannot sign with, and a host name that is not ASCII', async () => {
    const ca = await createCa({ commonName: 'edge CA', keyType: 'p256', days: 30 });
    const { privateKey } = generateKeyPairSync('ed25519');
    assert.throws(() => new LeafIssuer({ certPem: ca.certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }), /unsupported CA key: ed25519/);
    const issuer = new LeafIssuer(ca);
    assert.throws(() => issuer.issueServerLeaf({ name: 'bücher.example', publicKey: leafKey().publicKey, ...window(30) }), TypeError);
    assert.throws(() => issuer.issueServerLeaf({ name: '', publicKey: leafKey().publicKey, ...window(30) }), TypeError);
  });

  it('reads the subject of a CA certificate made by OpenSSL, with long DER lengths', { skip: OPENSSL_MISSING }, () => {
    const files = tempFiles({});
    try {
      const subj = `/C=DE/O=originpull tests/OU=${'A'.repeat(60)}/OU=${'B'.repeat(60)}/CN=OpenSSL CA`;
      const made = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', subj], files.dir);
      assert.equal(made.status, 0, made.stderr);
      const read = (f: string) => openssl(['x509', '-in', f], files.dir).stdout;
      const certPem = read('ca.pem');
      const keyPem = openssl(['pkey', '-in', 'ca.key'], files.dir).stdout;
      const caCert = new X509Certificate(certPem);
      const { subject, keyId } = readCaFields(caCert.raw);
      assert.ok(subject.length > 128, 'subject uses a long-form length');
      assert.ok(keyId !== null && keyId.length === 20);
      const key = leafKey();
      const leaf = new X509Certificate(new LeafIssuer({ certPem, keyPem }).issueServerLeaf({ name: 'www.example.com', publicKey: key.publicKey, ...window(30) }));
      assert.equal(leaf.issuer, caCert.subject);
      assert.equal(leaf.checkIssued(caCert), true);
      assert.equal(leaf.verify(caCert.publicKey), true);
    } finally {
      files.cleanup();
    }
  });
});
