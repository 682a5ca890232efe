// PKCS#10 certificate signing requests: Cloudflare's `openssl req -new` (make a key and a CSR) and
// `openssl x509 -req … -extfile cert.v3.ext` (sign a CSR with the CA), for users whose key or CA
// lives on another machine.
import { x509 } from './x509.ts';
import { algorithmFor, exportPrivateKeyPem, generateKeyPair, type KeyType } from './keys.ts';
import { signPublicKey, type CertUsage, type PemPair } from './certificates.ts';
import { decryptPrivateKeyPem } from './encrypted-key.ts';

export interface CsrOptions {
  commonName: string;
  organization?: string;
  /** Requested subjectAltName DNS names (none by default: a client certificate needs none). */
  dnsNames?: string[];
  keyType?: KeyType;
}

export interface CsrPair {
  csrPem: string;
  keyPem: string;
}

export class CsrError extends Error {
  readonly code = 'ERR_PKI_CSR';
}

function dn(cn: string, org?: string): string {
  const escaped = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return org ? `CN=${escaped(cn)}, O=${escaped(org)}` : `CN=${escaped(cn)}`;
}

/** A new key pair and a signed PKCS#10 request for it. */
export async function createCsr(opts: CsrOptions): Promise<CsrPair> {
  const type = opts.keyType ?? 'p256';
  const keys = await generateKeyPair(type);
  const extensions: x509.Extension[] = [];
  if (opts.dnsNames && opts.dnsNames.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(opts.dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  }
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: dn(opts.commonName, opts.organization),
    keys,
    signingAlgorithm: algorithmFor(type).sign,
    extensions,
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

export interface CsrInfo {
  subject: string;
  dnsNames: string[];
  publicKey: x509.PublicKey;
}

/** Parses a PEM or DER CSR and checks its self-signature (proof that the requester holds the key). */
export async function readCsr(input: string | Uint8Array): Promise<CsrInfo> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(typeof input === 'string' ? input : new Uint8Array(input));
  } catch (err) {
    throw new CsrError('not a PKCS#10 certificate signing request (expected PEM "BEGIN CERTIFICATE REQUEST" or DER)', { cause: err });
  }
  if (!(await csr.verify())) throw new CsrError('the CSR signature does not verify: it was not signed by its own key');
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const dnsNames = san ? san.names.items.filter((n) => n.type === 'dns').map((n) => n.value) : [];
  return { subject: csr.subject, dnsNames, publicKey: csr.publicKey };
}

export interface SignCsrOptions {
  ca: PemPair;
  caPassphrase?: string;
  csr: string | Uint8Array;
  /** `client` by default: Cloudflare's cert.v3.ext (CA:FALSE, digitalSignature, clientAuth). */
  usage?: CertUsage;
  days?: number;
}

/** Signs a CSR with the CA, keeping the CSR's subject and requested DNS names. */
export async function signCsr(opts: SignCsrOptions): Promise<string> {
  const info = await readCsr(opts.csr);
  // Decrypt here so a wrong passphrase is said as such, not as OpenSSL's "bad decrypt".
  const ca = { certPem: opts.ca.certPem, keyPem: decryptPrivateKeyPem(opts.ca.keyPem, opts.caPassphrase) };
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(info.subject)?.[1] ?? info.subject;
  return signPublicKey({
    ca,
    commonName: cn,
    subject: info.subject,
    // No requested names: signPublicKey's default (the CN for a server certificate, none for a client).
    dnsNames: info.dnsNames.length > 0 ? info.dnsNames : undefined,
    usage: opts.usage ?? 'client',
    days: opts.days,
    publicKey: info.publicKey,
  });
}
