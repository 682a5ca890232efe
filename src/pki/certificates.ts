// Certificate authorities and the certificates they sign: the installation's origin-pull CA and
// global client certificate, the edge CA and its per-hostname server certificates, and the
// origin-side toolkit's CA / client certificates (Cloudflare's OpenSSL steps, without OpenSSL).
// Tested in test/pki/csr.test.ts, test/cli/pki.test.ts and test/pki/leaf-der.test.ts.
import { x509 } from './x509.ts';
import { randomSerialBytes } from './leaf-der.ts';
import { algorithmFor, exportPrivateKeyPem, generateKeyPair, importSigningKey, type KeyType } from './keys.ts';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;

/** A serial number as hex (see randomSerialBytes). */
export function randomSerial(): string {
  return randomSerialBytes().toString('hex');
}

function validity(days: number, now = Date.now()): { notBefore: Date; notAfter: Date } {
  // Back-date by an hour so a peer with a slightly slow clock accepts a fresh certificate.
  return { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + days * DAY_MS) };
}

function dn(cn: string, org?: string): string {
  const escaped = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return org ? `CN=${escaped(cn)}, O=${escaped(org)}` : `CN=${escaped(cn)}`;
}

export interface CaOptions {
  commonName: string;
  organization?: string;
  keyType?: KeyType;
  days?: number;
}

/** A self-signed root CA: CA:TRUE, keyCertSign + cRLSign, SHA-256 (or SHA-384 for P-384). */
export async function createCa(opts: CaOptions): Promise<PemPair> {
  const type = opts.keyType ?? 'rsa4096';
  const keys = await generateKeyPair(type);
  const { notBefore, notAfter } = validity(opts.days ?? 1826);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: dn(opts.commonName, opts.organization),
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: algorithmFor(type).sign,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

export type CertUsage = 'client' | 'server';

export interface IssueOptions {
  ca: PemPair;
  /** Passphrase of an encrypted CA key. */
  caPassphrase?: string;
  commonName: string;
  organization?: string;
  /** DNS names for subjectAltName; server certificates default to [commonName]. */
  dnsNames?: string[];
  usage: CertUsage;
  keyType?: KeyType;
  days?: number;
  /** For tests and the expiry scanner's fixtures: explicit validity window. */
  notBefore?: Date;
  notAfter?: Date;
}

function usageExtensions(usage: CertUsage, dnsNames: string[]): x509.Extension[] {
  const ext: x509.Extension[] = [
    // Cloudflare's cert.v3.ext: basicConstraints=CA:FALSE, keyUsage=digitalSignature, extendedKeyUsage=clientAuth.
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      usage === 'client' ? x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
  ];
  if (dnsNames.length > 0) ext.push(new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  return ext;
}

/** Signs a public key with the CA. Shared by issue (new key) and sign (a CSR's key). */
export async function signPublicKey(
  opts: Omit<IssueOptions, 'keyType'> & { publicKey: CryptoKey | x509.PublicKey; subject?: string },
): Promise<string> {
  const caCert = new x509.X509Certificate(opts.ca.certPem);
  const { key: caKey, type: caType } = await importSigningKey(opts.ca.keyPem, opts.caPassphrase);
  const window = validity(opts.days ?? 730);
  const dnsNames = opts.dnsNames ?? (opts.usage === 'server' ? [opts.commonName] : []);
  const publicKey = opts.publicKey instanceof x509.PublicKey ? await opts.publicKey.export() : opts.publicKey;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: opts.subject ?? dn(opts.commonName, opts.organization),
    issuer: caCert.subject,
    notBefore: opts.notBefore ?? window.notBefore,
    notAfter: opts.notAfter ?? window.notAfter,
    publicKey,
    signingKey: caKey,
    signingAlgorithm: algorithmFor(caType).sign,
    extensions: [
      ...usageExtensions(opts.usage, dnsNames),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return cert.toString('pem') + '\n';
}

/** A new key pair and a certificate for it, signed by the CA. */
export async function issueCertificate(opts: IssueOptions): Promise<PemPair> {
  const keys = await generateKeyPair(opts.keyType ?? 'p256');
  const certPem = await signPublicKey({ ...opts, publicKey: keys.publicKey });
  return { certPem, keyPem: await exportPrivateKeyPem(keys.privateKey) };
}
