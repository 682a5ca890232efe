// Upload validation for AOP client certificates, pure: PEM text in, either the
// facts the API stores or one failure naming what is wrong. Nothing here ever puts key material
// into a message.
//
// Rules (decided here; Cloudflare documents only the first three codes):
// - `certificate`: CERTIFICATE PEM blocks only; the first is the leaf (not a CA), the rest its chain,
//   each issued by the next. Text outside blocks is ignored, as OpenSSL does.
// - `private_key`: one PKCS#1, PKCS#8 or SEC1 key, not encrypted; an `EC PARAMETERS` block is dropped.
// - RSA 2048–8192 bits, ECDSA P-256/P-384, Ed25519; DSA and everything else refused.
// - The key must match the leaf. An expired leaf is refused (nothing could ever use it); a leaf that
//   is not valid yet is accepted with a warning (and is not presented before its not_before, see
//   aop-resolve.ts).
// - A leaf whose extended key usage leaves out clientAuth is refused: every origin that checks the
//   purpose (OpenSSL's default for client certificates) rejects the handshake.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { decimalSerial, hexFingerprint, isWeakSignature, issuerName, signatureName } from './cert-naming.ts';

/** Every failure code, with the one Cloudflare documents noted. Codes ≥ 1000 as the v4 envelope asks. */
export const CERT_ERROR_CODES = {
  /** Cloudflare's 1002: not PEM, not base64, not X.509, truncated, or a foreign block. */
  invalidCertificate: 1002,
  /** Cloudflare's 2100: the intermediates do not form a chain above the leaf. */
  badChain: 2100,
  /** Cloudflare's 2101: the first certificate is a CA ("missing leaf certificate"). */
  missingLeaf: 2101,
  /** Cloudflare's 2106: the private key cannot be read. */
  invalidKey: 2106,
  certificateEmpty: 1201,
  /** A private key was pasted into `certificate`. */
  keyInCertificateField: 1202,
  certificateExpired: 1203,
  keyEmpty: 1204,
  keyEncrypted: 1205,
  keyMismatch: 1206,
  rsaKeySize: 1207,
  unsupportedCurve: 1208,
  unsupportedKeyType: 1209,
  /** The leaf's extended key usage leaves out TLS client authentication. */
  notForClientAuth: 1210,
} as const;

const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';
const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/** Codes of the warnings an accepted upload carries in `messages`. */
export const CERT_WARNING_CODES = {
  notYetValid: 1300,
  weakSignature: 1301,
} as const;

export interface CertWarning {
  code: number;
  message: string;
}

export type CertField = 'certificate' | 'private_key';

export interface CertValidationFailure {
  code: number;
  message: string;
  field: CertField;
}

export interface ValidatedCertificate {
  /** Leaf then intermediates, each re-encoded as a clean PEM block. */
  certificatePem: string;
  leafPem: string;
  chainPems: string[];
  /** The key as PKCS#8 PEM, still plain: the caller seals it before storing. */
  privateKeyPem: string;
  keyDescription: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  signature: string;
  fingerprintSha256: string;
  notBefore: number;
  expiresOn: number;
  /** Accepted, but worth telling the uploader (v4 `messages`). */
  warnings: CertWarning[];
}

export type CertValidation = { ok: true; value: ValidatedCertificate } | { ok: false; error: CertValidationFailure };

export interface CertUpload {
  certificate: string;
  privateKey: string;
}

interface PemBlock {
  label: string;
  body: string;
  text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'DSA PRIVATE KEY', 'OPENSSH PRIVATE KEY']);
const MIN_RSA_BITS = 2048;
// Larger RSA keys make every origin handshake slow and are not used for client certificates.
const MAX_RSA_BITS = 8192;
const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384' };
const KEY_TYPE_NAMES: Readonly<Record<string, string>> = { dsa: 'DSA', ed448: 'Ed448', x25519: 'X25519', x448: 'X448', 'rsa-pss': 'RSA-PSS', dh: 'DH' };

class Failure extends Error {
  readonly code: number;
  readonly field: CertField;
  constructor(code: number, field: CertField, message: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

function fail(code: number, field: CertField, message: string): never {
  throw new Failure(code, field, message);
}

function ordinal(i: number): string {
  return `PEM block ${i + 1}`;
}

/** Splits PEM text into blocks; a BEGIN without its END is a truncated upload. */
function pemBlocks(text: string, field: CertField, code: number): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (m[1] !== m[3]) fail(code, field, `${field} is not valid PEM: "BEGIN ${m[1]}" is closed by "END ${m[3]}"`);
    blocks.push({ label: m[1], body: m[2], text: m[0] });
  }
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  const ends = text.match(/-----END /g)?.length ?? 0;
  if (begins !== blocks.length || ends !== blocks.length) {
    fail(code, field, `${field} is not valid PEM: it looks truncated (${begins} BEGIN and ${ends} END lines)`);
  }
  return blocks;
}

/** Base64 body of a block without its RFC 1421 headers; null when it is not base64. */
function decodeBody(block: PemBlock): Buffer | null {
  const lines = block.body.split(/\r?\n/).filter((l) => !/^[A-Za-z-]+:/.test(l.trim()));
  const b64 = lines.join('').replace(/\s+/g, '');
  if (b64.length === 0 || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  return Buffer.from(b64, 'base64');
}

function parseCertificates(text: string): X509Certificate[] {
  const field = 'certificate';
  const code = CERT_ERROR_CODES.invalidCertificate;
  if (text.trim().length === 0) fail(CERT_ERROR_CODES.certificateEmpty, field, 'certificate is empty: expected a PEM certificate');
  const blocks = pemBlocks(text, field, code);
  if (blocks.length === 0) fail(code, field, 'certificate is not PEM: no "-----BEGIN CERTIFICATE-----" block found');
  const certs: X509Certificate[] = [];
  blocks.forEach((block, i) => {
    if (KEY_LABELS.has(block.label)) {
      fail(CERT_ERROR_CODES.keyInCertificateField, field, `certificate holds a private key (${ordinal(i)}, "${block.label}"): send the key in private_key`);
    }
    if (block.label !== 'CERTIFICATE') fail(code, field, `certificate holds a "${block.label}" block (${ordinal(i)}): only CERTIFICATE blocks are accepted`);
    const der = decodeBody(block);
    if (!der) fail(code, field, `certificate ${ordinal(i)} is not valid base64`);
    try {
      certs.push(new X509Certificate(der));
    } catch {
      fail(code, field, `certificate ${ordinal(i)} is not a valid X.509 certificate (DER does not parse)`);
    }
  });
  return certs;
}

function checkChain(certs: X509Certificate[]): void {
  if (certs[0].ca) {
    fail(CERT_ERROR_CODES.missingLeaf, 'certificate', 'missing leaf certificate: the first certificate is a CA (basicConstraints CA:TRUE); upload the client certificate first, then any intermediates');
  }
  for (let i = 1; i < certs.length; i++) {
    if (!certs[i - 1].checkIssued(certs[i])) {
      fail(CERT_ERROR_CODES.badChain, 'certificate', `certificate chain cannot be bundled: certificate ${i + 1} did not issue certificate ${i}; order the bundle leaf first, then each issuer`);
    }
    if (!certs[i].ca) fail(CERT_ERROR_CODES.badChain, 'certificate', `certificate chain cannot be bundled: certificate ${i + 1} is not a CA`);
  }
}

function parseKey(text: string): KeyObject {
  const field = 'private_key';
  const code = CERT_ERROR_CODES.invalidKey;
  if (text.trim().length === 0) fail(CERT_ERROR_CODES.keyEmpty, field, 'private_key is empty: expected a PEM private key');
  // OpenSSL writes EC parameters before SEC1 keys; they carry nothing the key lacks.
  const blocks = pemBlocks(text, field, code).filter((b) => b.label !== 'EC PARAMETERS');
  if (blocks.length === 0) fail(code, field, 'private_key is not PEM: no "-----BEGIN PRIVATE KEY-----" block found');
  for (const [i, b] of blocks.entries()) {
    if (b.label === 'CERTIFICATE') fail(code, field, `private_key holds a certificate (${ordinal(i)}), not a private key`);
    if (b.label === 'PUBLIC KEY' || b.label === 'RSA PUBLIC KEY') fail(code, field, `private_key holds a public key (${ordinal(i)}), not a private key`);
    if (!KEY_LABELS.has(b.label)) fail(code, field, `private_key holds a "${b.label}" block (${ordinal(i)}): expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY`);
  }
  if (blocks.length > 1) fail(code, field, `private_key holds ${blocks.length} keys: upload exactly one`);
  const block = blocks[0];
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/i.test(block.body)) {
    fail(CERT_ERROR_CODES.keyEncrypted, field, 'private_key is encrypted: remove the passphrase (openssl pkey -in key.pem -out plain.pem) and upload the plain key');
  }
  if (block.label === 'DSA PRIVATE KEY') fail(CERT_ERROR_CODES.unsupportedKeyType, field, 'private_key is a DSA key: DSA is not supported; use RSA (2048 bits or more), ECDSA P-256/P-384 or Ed25519');
  if (block.label === 'OPENSSH PRIVATE KEY') fail(code, field, 'private_key is in OpenSSH format: convert it to PEM (ssh-keygen -p -m PEM -f key)');
  if (!decodeBody(block)) fail(code, field, 'private_key is not valid base64');
  try {
    return createPrivateKey({ key: block.text, format: 'pem' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE') {
      fail(CERT_ERROR_CODES.keyEncrypted, field, 'private_key is encrypted: remove the passphrase and upload the plain key');
    }
    return fail(code, field, `private_key could not be read as a PKCS#1, PKCS#8 or SEC1 ${block.label}`);
  }
}

/** Checks the key's algorithm and size; returns a short description (`RSA 2048`, `ECDSA P-256`, `Ed25519`). */
function checkKeyType(key: KeyObject): string {
  const field = 'private_key';
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) fail(CERT_ERROR_CODES.rsaKeySize, field, `private_key is an RSA key of ${bits} bits: at least ${MIN_RSA_BITS} bits are required`);
      if (bits > MAX_RSA_BITS) fail(CERT_ERROR_CODES.rsaKeySize, field, `private_key is an RSA key of ${bits} bits: at most ${MAX_RSA_BITS} bits are accepted`);
      return `RSA ${bits}`;
    }
    case 'ec': {
      const curve = CURVES[details.namedCurve ?? ''];
      if (!curve) fail(CERT_ERROR_CODES.unsupportedCurve, field, `private_key uses the elliptic curve ${details.namedCurve ?? 'unknown'}: only P-256 and P-384 are supported`);
      return `ECDSA ${curve}`;
    }
    case 'ed25519':
      return 'Ed25519';
    default:
      return fail(
        CERT_ERROR_CODES.unsupportedKeyType,
        field,
        `private_key has the unsupported key type ${KEY_TYPE_NAMES[key.asymmetricKeyType ?? ''] ?? String(key.asymmetricKeyType)}: use RSA (2048 bits or more), ECDSA P-256/P-384 or Ed25519`,
      );
  }
}

/** No extendedKeyUsage extension means any purpose; one that lists usages must include clientAuth. */
function checkClientAuth(leaf: X509Certificate): void {
  const usages = leaf.keyUsage;
  if (usages === undefined || usages.includes(EKU_CLIENT_AUTH) || usages.includes(EKU_ANY)) return;
  const named = usages.map((u) => EKU_NAMES[u] ?? u).join(', ') || 'none';
  fail(
    CERT_ERROR_CODES.notForClientAuth,
    'certificate',
    `certificate cannot authenticate a TLS client: its extended key usage is ${named}, without clientAuth, so origins refuse it; issue it with extendedKeyUsage = clientAuth`,
  );
}

function keyMatches(leaf: X509Certificate, key: KeyObject): boolean {
  try {
    return leaf.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** `client` (default): an AOP client certificate; `server`: a visitor-facing edge certificate (no clientAuth check). */
export type CertPurpose = 'client' | 'server';

export function validateCertificateUpload(input: CertUpload, now: number = Date.now(), purpose: CertPurpose = 'client'): CertValidation {
  try {
    const certs = parseCertificates(input.certificate);
    checkChain(certs);
    const leaf = certs[0];
    const key = parseKey(input.privateKey);
    const keyDescription = checkKeyType(key);
    if (!keyMatches(leaf, key)) fail(CERT_ERROR_CODES.keyMismatch, 'private_key', 'The key you provided does not match the certificate');
    if (purpose === 'client') checkClientAuth(leaf);

    const notBefore = leaf.validFromDate.getTime();
    const expiresOn = leaf.validToDate.getTime();
    if (expiresOn <= now) {
      fail(CERT_ERROR_CODES.certificateExpired, 'certificate', `certificate expired on ${new Date(expiresOn).toISOString()}: upload a certificate that is still valid`);
    }
    const warnings: CertWarning[] = [];
    if (notBefore > now) {
      warnings.push({ code: CERT_WARNING_CODES.notYetValid, message: `certificate is not valid until ${new Date(notBefore).toISOString()}; origins will reject it before then` });
    }
    const signature = signatureName(leaf.signatureAlgorithmOid);
    if (isWeakSignature(signature)) {
      warnings.push({ code: CERT_WARNING_CODES.weakSignature, message: `certificate is signed with ${signature}, which current OpenSSL origins refuse` });
    }

    const pems = certs.map((c) => c.toString().trimEnd() + '\n');
    return {
      ok: true,
      value: {
        certificatePem: pems.join(''),
        leafPem: pems[0],
        chainPems: pems.slice(1),
        privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
        keyDescription,
        subject: issuerName(leaf.subject),
        issuer: issuerName(leaf.issuer),
        serialNumber: decimalSerial(leaf.serialNumber),
        signature,
        fingerprintSha256: hexFingerprint(leaf.fingerprint256),
        notBefore,
        expiresOn,
        warnings,
      },
    };
  } catch (err) {
    if (err instanceof Failure) return { ok: false, error: { code: err.code, message: err.message, field: err.field } };
    throw err;
  }
}
