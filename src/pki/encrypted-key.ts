// Private keys encrypted at rest with a passphrase, as Cloudflare's `openssl genrsa -aes256` makes them.
// We write encrypted PKCS#8 (AES-256-CBC, PBKDF2), which OpenSSL 1.1+, nginx and Apache all read;
// we read both that and the legacy `Proc-Type: 4,ENCRYPTED` PEM that older OpenSSL writes.
import { createPrivateKey } from 'node:crypto';

export class PassphraseError extends Error {
  readonly code = 'ERR_PKI_PASSPHRASE';
}

/** True when the PEM holds an encrypted private key (PKCS#8 or legacy OpenSSL). */
export function isEncryptedKeyPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

/** Re-encodes a private key PEM as encrypted PKCS#8 with AES-256-CBC. */
export function encryptPrivateKeyPem(pem: string, passphrase: string): string {
  if (passphrase.length < 4) throw new PassphraseError('passphrase must be at least 4 characters (OpenSSL refuses shorter ones)');
  const key = createPrivateKey({ key: pem, format: 'pem' });
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

/** Decrypts an encrypted private key PEM into plain PKCS#8; a plain key passes through unchanged. */
export function decryptPrivateKeyPem(pem: string, passphrase: string | undefined): string {
  if (!isEncryptedKeyPem(pem)) return pem;
  if (passphrase === undefined) throw new PassphraseError('the private key is encrypted: a passphrase is needed');
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase }).export({ type: 'pkcs8', format: 'pem' }) as string;
  } catch (err) {
    throw new PassphraseError('cannot decrypt the private key: wrong passphrase?', { cause: err });
  }
}
