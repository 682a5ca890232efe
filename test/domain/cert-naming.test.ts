import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimalSerial, hexFingerprint, issuerName, signatureName } from '../../src/domain/index.ts';

test('signature names follow Cloudflare (Go x509 constant names)', () => {
  assert.equal(signatureName('1.2.840.113549.1.1.11'), 'SHA256WithRSA');
  assert.equal(signatureName('1.2.840.113549.1.1.12'), 'SHA384WithRSA');
  assert.equal(signatureName('1.2.840.10045.4.3.2'), 'ECDSAWithSHA256');
  assert.equal(signatureName('1.2.840.10045.4.3.3'), 'ECDSAWithSHA384');
  assert.equal(signatureName('1.3.101.112'), 'ED25519');
  assert.equal(signatureName('1.2.3.4'), '1.2.3.4');
});

test('serials in decimal, fingerprints in lower-case hex, issuers by CN then O', () => {
  assert.equal(decimalSerial('0513A4F2C1'), String(0x0513a4f2c1));
  assert.equal(decimalSerial('05:13'), '1299');
  assert.equal(hexFingerprint('AB:CD:EF'), 'abcdef');
  assert.equal(issuerName('C=US\nO=GlobalSign nv-sa\nCN=GlobalSign RSA'), 'GlobalSign RSA');
  assert.equal(issuerName('C=US\nO=GlobalSign'), 'GlobalSign');
  assert.equal(issuerName('C=US\nST=CA'), 'C=US, ST=CA');
});
