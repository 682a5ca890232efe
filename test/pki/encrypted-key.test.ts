// Passphrase-encrypted keys: ours read by OpenSSL, OpenSSL's (PKCS#8 and legacy PEM) read by us, and
// an encrypted CA key used to sign.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  PassphraseError,
  createCa,
  decryptPrivateKeyPem,
  encryptPrivateKeyPem,
  isEncryptedKeyPem,
  issueCertificate,
} from '../../src/pki/index.ts';
import { OPENSSL_MISSING, openssl, tempFiles } from './openssl.ts';

describe('encrypted private keys', () => {
  it('encrypts as PKCS#8 with AES-256-CBC; decrypts with the passphrase only', async () => {
    const ca = await createCa({ commonName: 'example.com', keyType: 'p256' });
    const enc = encryptPrivateKeyPem(ca.keyPem, 'correct horse');
    assert.match(enc, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    assert.equal(isEncryptedKeyPem(enc), true);
    assert.equal(isEncryptedKeyPem(ca.keyPem), false);
    assert.equal(decryptPrivateKeyPem(enc, 'correct horse'), ca.keyPem);
    assert.throws(() => decryptPrivateKeyPem(enc, 'wrong'), PassphraseError);
    assert.throws(() => decryptPrivateKeyPem(enc, undefined), /a passphrase is needed/);
    assert.throws(() => encryptPrivateKeyPem(ca.keyPem, 'abc'), /at least 4 characters/);
  });

  it('signs with an encrypted CA key given its passphrase', async () => {
    const ca = await createCa({ commonName: 'example.com', keyType: 'p256' });
    const encrypted = { certPem: ca.certPem, keyPem: encryptPrivateKeyPem(ca.keyPem, 'pass1234') };
    const leaf = await issueCertificate({ ca: encrypted, caPassphrase: 'pass1234', commonName: 'app.example.com', usage: 'client' });
    assert.match(leaf.certPem, /BEGIN CERTIFICATE/);
    await assert.rejects(issueCertificate({ ca: encrypted, caPassphrase: 'nope', commonName: 'x', usage: 'client' }));
  });

  it('OpenSSL reads our encrypted key with the passphrase, and says AES-256-CBC', { skip: OPENSSL_MISSING }, async () => {
    const ca = await createCa({ commonName: 'example.com', keyType: 'p256' });
    const files = tempFiles({ 'rootca.key': encryptPrivateKeyPem(ca.keyPem, 'pass1234'), pw: 'pass1234\n', bad: 'nope1234\n' });
    try {
      assert.equal(openssl(['pkey', '-in', files.path('rootca.key'), '-passin', `file:${files.path('pw')}`, '-noout']).status, 0);
      assert.notEqual(openssl(['pkey', '-in', files.path('rootca.key'), '-passin', `file:${files.path('bad')}`, '-noout']).status, 0);
      const asn1 = openssl(['asn1parse', '-in', files.path('rootca.key')]).stdout;
      assert.match(asn1, /aes-256-cbc/);
    } finally {
      files.cleanup();
    }
  });

  it('reads keys made by "openssl genrsa -aes256" (PKCS#8) and legacy "Proc-Type: 4,ENCRYPTED" PEM', { skip: OPENSSL_MISSING }, () => {
    const files = tempFiles({});
    try {
      assert.equal(openssl(['genrsa', '-aes256', '-passout', 'pass:pass1234', '-out', files.path('pkcs8.key'), '2048']).status, 0);
      assert.equal(openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', files.path('plain.key')]).status, 0);
      assert.equal(openssl(['ec', '-in', files.path('plain.key'), '-aes256', '-passout', 'pass:pass1234', '-out', files.path('legacy.key')]).status, 0);
      for (const name of ['pkcs8.key', 'legacy.key']) {
        const text = readFileSync(files.path(name), 'utf8');
        assert.equal(isEncryptedKeyPem(text), true, name);
        assert.match(decryptPrivateKeyPem(text, 'pass1234'), /^-----BEGIN PRIVATE KEY-----/);
        assert.throws(() => decryptPrivateKeyPem(text, 'wrong'), PassphraseError);
      }
    } finally {
      files.cleanup();
    }
  });
});
