// Reads what a user pasted, in the browser, so the details can be reviewed before anything is
// sent: the leaf's subject, issuer, serial (decimal, as the API shows it), validity, SHA-256
// fingerprint and key, the chain length, and what kind of private key was given. The API
// validates again on upload; this is for the human, never for trust.
import { DerError, TAG, children, expect, integer, oid, readNode, text, time, value, type Node } from './der.ts';
import { sha256Hex } from './sha256.ts';

export interface PemBlock {
  label: string;
  headers: string;
  der: Uint8Array;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialDecimal: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
  signature: string;
  key: string;
  isCa: boolean;
  dnsNames: string[];
  /** Certificates after the first (intermediates). */
  chainLength: number;
}

export interface KeySummary {
  format: string;
  encrypted: boolean;
}

export class PemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PemError';
  }
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

function base64ToBytes(b64: string): Uint8Array {
  const clean = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new PemError('the PEM body is not base64');
  const bin = atob(clean);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function pemBlocks(pem: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of pem.matchAll(PEM_RE)) {
    const body = m[2];
    // Legacy encrypted keys carry "Proc-Type:" headers before a blank line.
    const split = /^((?:[A-Za-z-]+:.*\r?\n)+)\r?\n/.exec(body);
    const headers = split ? split[1] : '';
    blocks.push({ label: m[1], headers, der: base64ToBytes(split ? body.slice(split[0].length) : body) });
  }
  return blocks;
}

const NAME_ATTRS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function name(node: Node): string {
  const parts: string[] = [];
  for (const rdn of children(expect(node, TAG.SEQUENCE, 'a name'))) {
    for (const atv of children(rdn)) {
      const [type, val] = children(atv);
      const id = oid(type);
      parts.push(`${NAME_ATTRS[id] ?? id}=${text(val)}`);
    }
  }
  return parts.join(', ');
}

const SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'SHA1WithRSA',
  '1.2.840.113549.1.1.11': 'SHA256WithRSA',
  '1.2.840.113549.1.1.12': 'SHA384WithRSA',
  '1.2.840.113549.1.1.13': 'SHA512WithRSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.3.2': 'ECDSAWithSHA256',
  '1.2.840.10045.4.3.3': 'ECDSAWithSHA384',
  '1.2.840.10045.4.3.4': 'ECDSAWithSHA512',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

const CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

function publicKey(spki: Node): string {
  const [alg, bits] = children(expect(spki, TAG.SEQUENCE, 'a public key'));
  const [algOid, params] = children(alg);
  const id = oid(algOid);
  if (id === '1.2.840.113549.1.1.1') {
    // BIT STRING: one byte of unused bits, then RSAPublicKey ::= SEQUENCE { modulus, exponent }.
    const rsa = readNode(value(bits).subarray(1));
    const modulus = value(expect(children(rsa)[0], TAG.INTEGER, 'an RSA modulus'));
    const significant = modulus[0] === 0 ? modulus.subarray(1) : modulus;
    return `RSA ${significant.length * 8} bits`;
  }
  if (id === '1.2.840.10045.2.1') return `ECDSA ${params && params.tag === TAG.OID ? (CURVES[oid(params)] ?? oid(params)) : 'unknown curve'}`;
  if (id === '1.3.101.112') return 'Ed25519';
  if (id === '1.3.101.113') return 'Ed448';
  if (id === '1.2.840.10040.4.1') return 'DSA';
  return id;
}

interface Extensions {
  isCa: boolean;
  dnsNames: string[];
}

function extensions(tbsFields: Node[]): Extensions {
  const out: Extensions = { isCa: false, dnsNames: [] };
  const wrapper = tbsFields.find((n) => n.tag === 0xa3);
  if (!wrapper) return out;
  for (const ext of children(children(wrapper)[0])) {
    const parts = children(ext);
    const id = oid(parts[0]);
    const octets = value(expect(parts.at(-1), TAG.OCTET_STRING, 'an extension value'));
    if (id === '2.5.29.19') {
      const bc = children(readNode(octets));
      out.isCa = bc[0]?.tag === TAG.BOOLEAN && value(bc[0])[0] !== 0;
    } else if (id === '2.5.29.17') {
      for (const gn of children(readNode(octets))) {
        if (gn.tag === 0x82) out.dnsNames.push(String.fromCharCode(...value(gn)));
        else if (gn.tag === 0x87) {
          const ip = value(gn);
          out.dnsNames.push(ip.length === 4 ? [...ip].join('.') : `IPv6 ${[...ip].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
        }
      }
    }
  }
  return out;
}

export function summarizeCertificate(der: Uint8Array, chainLength = 0): CertificateSummary {
  const cert = readNode(der);
  const [tbs, sigAlg] = children(expect(cert, TAG.SEQUENCE, 'a certificate'));
  const fields = children(expect(tbs, TAG.SEQUENCE, 'the certificate body'));
  let i = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  const serial = integer(fields[i++]);
  i++; // signature algorithm (repeated in sigAlg)
  const issuer = name(fields[i++]);
  const [nb, na] = children(expect(fields[i++], TAG.SEQUENCE, 'the validity'));
  const subject = name(fields[i++]);
  const key = publicKey(fields[i++]);
  const ext = extensions(fields.slice(i));
  const sigOid = oid(children(sigAlg)[0]);
  return {
    subject,
    issuer,
    serialDecimal: serial.toString(10),
    notBefore: time(nb),
    notAfter: time(na),
    fingerprintSha256: sha256Hex(der.subarray(0, cert.end)),
    signature: SIGNATURES[sigOid] ?? sigOid,
    key,
    isCa: ext.isCa,
    dnsNames: ext.dnsNames,
    chainLength,
  };
}

/** The first CERTIFICATE block of `pem`, summarized; PemError with a readable reason otherwise. */
export function readCertificatePem(pem: string): CertificateSummary {
  if (pem.trim() === '') throw new PemError('Paste the certificate (PEM, starting with -----BEGIN CERTIFICATE-----)');
  let blocks: PemBlock[];
  try {
    blocks = pemBlocks(pem);
  } catch (err) {
    throw new PemError(`This is not a readable PEM certificate: ${(err as Error).message}`);
  }
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) {
    throw new PemError(
      blocks.length > 0 ? `Expected a CERTIFICATE block, found ${blocks.map((b) => b.label).join(', ')}` : 'No PEM block found: include the -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines',
    );
  }
  try {
    return summarizeCertificate(certs[0].der, certs.length - 1);
  } catch (err) {
    if (err instanceof DerError) throw new PemError(`The certificate cannot be read: ${err.message}`);
    throw err;
  }
}

/** What kind of key was pasted (never its contents). */
export function readKeyPem(pem: string): KeySummary {
  if (pem.trim() === '') throw new PemError('Paste the private key (PEM, starting with -----BEGIN PRIVATE KEY-----)');
  const blocks = pemBlocks(pem).filter((b) => b.label !== 'EC PARAMETERS');
  const block = blocks[0];
  if (!block) throw new PemError('No PEM block found: include the -----BEGIN … PRIVATE KEY----- and -----END … PRIVATE KEY----- lines');
  const formats: Record<string, string> = {
    'PRIVATE KEY': 'PKCS#8',
    'ENCRYPTED PRIVATE KEY': 'PKCS#8 (encrypted)',
    'RSA PRIVATE KEY': 'PKCS#1 (RSA)',
    'EC PRIVATE KEY': 'SEC1 (EC)',
  };
  const format = formats[block.label];
  if (!format) throw new PemError(`Expected a private key, found a ${block.label} block`);
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/i.test(block.headers);
  return { format, encrypted };
}
