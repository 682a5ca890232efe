// The installation's own PKI, created once at first start:
// - origin-pull CA "originpull origin-pull CA": RSA-2048, because every origin stack (old OpenSSL,
//   Java, IIS, embedded TLS) verifies RSA chains, while ECDSA CAs still trip some of them. The
//   global client certificate it signs is RSA-2048 too, for the same reason (Cloudflare's shared
//   origin-pull certificate is RSA as well).
// - edge CA "originpull edge CA": P-256; it signs the edge's visitor-facing certificates, which only
//   browsers and HTTP clients see.
// Keys are sealed by the secret box before they reach the store; initPki keeps the first one
// stored if two nodes race.
import { createCa, issueCertificate, type KeyType } from '../pki/index.ts';
import type { InstallationPki } from '../domain/index.ts';
import type { ApiStore, SecretBox } from '../store/index.ts';

const ORG = 'originpull';
const CA_DAYS = 3650;
const GLOBAL_CERT_DAYS = 1825;

export interface PkiOptions {
  /** Key type of the origin-pull CA and the global client certificate (default rsa2048; tests use p256). */
  originKeyType?: KeyType;
}

export async function createInstallationPki(secretBox: SecretBox, opts: PkiOptions = {}): Promise<InstallationPki> {
  const keyType = opts.originKeyType ?? 'rsa2048';
  const originCa = await createCa({ commonName: 'originpull origin-pull CA', organization: ORG, keyType, days: CA_DAYS });
  const globalCert = await issueCertificate({
    ca: originCa,
    commonName: 'originpull origin-pull client',
    organization: ORG,
    usage: 'client',
    keyType,
    days: GLOBAL_CERT_DAYS,
  });
  const edgeCa = await createCa({ commonName: 'originpull edge CA', organization: ORG, keyType: 'p256', days: CA_DAYS });
  return {
    originPullCaPem: originCa.certPem,
    originPullCaKeySealed: secretBox.seal(originCa.keyPem),
    globalCertPem: globalCert.certPem,
    globalKeySealed: secretBox.seal(globalCert.keyPem),
    edgeCaPem: edgeCa.certPem,
    edgeCaKeySealed: secretBox.seal(edgeCa.keyPem),
  };
}

/** Returns the stored PKI, creating it on first call. */
export async function ensureInstallationPki(store: ApiStore, secretBox: SecretBox, opts: PkiOptions = {}): Promise<InstallationPki> {
  const existing = await store.getPki();
  if (existing) return existing;
  return store.initPki(await createInstallationPki(secretBox, opts));
}
