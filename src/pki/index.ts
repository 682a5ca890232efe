export { createCa, issueCertificate, signPublicKey, randomSerial } from './certificates.ts';
export type { PemPair, CaOptions, IssueOptions, CertUsage } from './certificates.ts';
// The edge imports leaf-der.ts itself (see there): this index would load @peculiar/x509.
export { LeafIssuer, readCaFields } from './leaf-der.ts';
export type { ServerLeafOptions } from './leaf-der.ts';
export { KEY_TYPES, generateKeyPair, exportPrivateKeyPem, importSigningKey, algorithmFor, keyTypeOf } from './keys.ts';
export type { KeyType } from './keys.ts';
export { x509 } from './x509.ts';
export { createCsr, readCsr, signCsr, CsrError } from './csr.ts';
export type { CsrOptions, CsrPair, CsrInfo, SignCsrOptions } from './csr.ts';
export { isEncryptedKeyPem, encryptPrivateKeyPem, decryptPrivateKeyPem, PassphraseError } from './encrypted-key.ts';
