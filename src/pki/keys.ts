// Key generation and import for certificate work. @peculiar/x509 signs with WebCrypto keys;
// files on disk are PKCS#8 PEM, which OpenSSL and every origin server read.
// Tested in test/cli/pki.test.ts, test/pki/encrypted-key.test.ts and test/api/ensure-pki.test.ts.
import { createPrivateKey, type KeyObject } from 'node:crypto';

const webcrypto = globalThis.crypto;

export const KEY_TYPES = ['rsa4096', 'rsa2048', 'p256', 'p384'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface SigningAlgorithm {
  /** Algorithm for generateKey/importKey. */
  key: RsaHashedKeyGenParams | EcKeyGenParams;
  /** Algorithm for signing certificates with this key. */
  sign: Algorithm | EcdsaParams;
}

export function algorithmFor(type: KeyType): SigningAlgorithm {
  switch (type) {
    case 'rsa4096':
    case 'rsa2048':
      return {
        key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: type === 'rsa4096' ? 4096 : 2048 },
        sign: { name: 'RSASSA-PKCS1-v1_5' },
      };
    case 'p256':
      return { key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'p384':
      return { key: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
  }
}

export async function generateKeyPair(type: KeyType): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithmFor(type).key, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
}

/** The key type of a private key, for signing with it. Throws for unsupported keys. */
export function keyTypeOf(key: KeyObject): KeyType {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return (details.modulusLength ?? 0) >= 4096 ? 'rsa4096' : 'rsa2048';
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return 'p256';
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'secp384r1') return 'p384';
  throw new Error(`unsupported signing key: ${key.asymmetricKeyType} ${details.namedCurve ?? ''}`.trim());
}

/** Imports a PEM private key (PKCS#1, PKCS#8 or SEC1) as a WebCrypto signing key. */
export async function importSigningKey(pem: string, passphrase?: string): Promise<{ key: CryptoKey; type: KeyType }> {
  const keyObject = createPrivateKey({ key: pem, format: 'pem', passphrase });
  const type = keyTypeOf(keyObject);
  const key = await webcrypto.subtle.importKey('pkcs8', keyObject.export({ type: 'pkcs8', format: 'der' }), algorithmFor(type).key, false, ['sign']);
  return { key, type };
}
