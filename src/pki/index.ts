export { createCa, issueCertificate, signPublicKey, randomSerial } from './certificates.ts';
export type { PemPair, CaOptions, IssueOptions, CertUsage } from './certificates.ts';
export { KEY_TYPES, generateKeyPair, exportPrivateKeyPem, importSigningKey, algorithmFor, keyTypeOf } from './keys.ts';
export type { KeyType } from './keys.ts';
export { x509 } from './x509.ts';
