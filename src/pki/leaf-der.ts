// Server certificates built with node:crypto alone: a small DER encoder for the one certificate
// shape the edge issues to visitors (what signPublicKey makes with usage 'server'), and a reader
// for the two fields it needs from its CA. The edge imports this file rather than the pki index:
// @peculiar/x509 behind the index costs an edge process megabytes of RSS. So this file imports
// node built-ins only; everything else keeps using certificates.ts.
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

// ---- DER writing (X.690): definite lengths, low tag numbers only.

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.from([tag, n]);
  else {
    const size: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) size.unshift(rest % 256);
    head = Buffer.from([tag, 0x80 | size.length, ...size]);
  }
  return Buffer.concat([head, body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(TAG.sequence, ...items);
/** Context-specific [n], constructed: EXPLICIT tagging. */
const explicit = (n: number, item: Buffer): Buffer => tlv(0xa0 | n, item);
const octetString = (bytes: Buffer): Buffer => tlv(TAG.octetString, bytes);
/** A BIT STRING of whole bytes (keys, signatures). */
const bitString = (bytes: Buffer): Buffer => tlv(TAG.bitString, Buffer.from([0]), bytes);
const TRUE = Buffer.from([TAG.boolean, 1, 0xff]);
const NULL = Buffer.from([TAG.null, 0]);

function objectId(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const values = [40 * arcs[0] + arcs[1], ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const value of values) {
    const base128 = [value & 0x7f];
    for (let rest = value >>> 7; rest > 0; rest >>>= 7) base128.unshift(0x80 | (rest & 0x7f));
    bytes.push(...base128);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

/** A non-negative INTEGER from big-endian bytes: minimal, with a 0 in front when the top bit is set. */
function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const minimal = bytes.subarray(i);
  return tlv(TAG.integer, minimal[0] & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

/** RFC 5280 4.1.2.5: UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime (YYYYMMDDHHMMSSZ) from 2050. */
function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 1950 && year <= 9999)) throw new RangeError(`certificate date out of range: ${date.toISOString()}`);
  const digits = date.toISOString().slice(0, 19).replace(/\D/g, '');
  return year < 2050 ? tlv(TAG.utcTime, Buffer.from(digits.slice(2) + 'Z', 'latin1')) : tlv(TAG.generalizedTime, Buffer.from(digits + 'Z', 'latin1'));
}

// ---- DER reading: just enough to walk a certificate.

interface Node {
  tag: number;
  /** Where the header starts. */
  offset: number;
  /** Where the contents start and end. */
  start: number;
  end: number;
}

function readNode(der: Buffer, offset: number, limit = der.length): Node {
  if (offset + 2 > limit) throw new Error('DER: truncated');
  const tag = der[offset];
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not supported');
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const size = length & 0x7f;
    if (size === 0 || size > 4 || start + size > limit) throw new Error('DER: bad length');
    length = 0;
    for (let i = 0; i < size; i++) length = length * 256 + der[start++];
  }
  const end = start + length;
  if (end > limit) throw new Error('DER: truncated');
  return { tag, offset, start, end };
}

function childrenOf(der: Buffer, parent: Node): Node[] {
  const out: Node[] = [];
  for (let at = parent.start; at < parent.end; at = out[out.length - 1].end) out.push(readNode(der, at, parent.end));
  return out;
}

function expectTag(node: Node | undefined, tag: number, what: string): Node {
  if (node?.tag !== tag) throw new Error(`DER: ${what} not found`);
  return node;
}

// ---- Certificates.

const OID = {
  commonName: objectId('2.5.4.3'),
  basicConstraints: objectId('2.5.29.19'),
  keyUsage: objectId('2.5.29.15'),
  extKeyUsage: objectId('2.5.29.37'),
  subjectAltName: objectId('2.5.29.17'),
  subjectKeyIdentifier: objectId('2.5.29.14'),
  authorityKeyIdentifier: objectId('2.5.29.35'),
  serverAuth: objectId('1.3.6.1.5.5.7.3.1'),
  sha256WithRSAEncryption: objectId('1.2.840.113549.1.1.11'),
  ecdsaWithSHA256: objectId('1.2.840.10045.4.3.2'),
  ecdsaWithSHA384: objectId('1.2.840.10045.4.3.3'),
};

function extension(oid: Buffer, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid, TRUE, octetString(value)) : sequence(oid, octetString(value));
}

/** The CA certificate's subject (exact DER: a leaf's issuer must match it byte for byte) and its subjectKeyIdentifier. */
export function readCaFields(certDer: Buffer): { subject: Buffer; keyId: Buffer | null } {
  const cert = expectTag(readNode(certDer, 0), TAG.sequence, 'Certificate');
  const tbs = expectTag(childrenOf(certDer, cert)[0], TAG.sequence, 'tbsCertificate');
  const fields = childrenOf(certDer, tbs);
  // [0] version (absent in v1), serialNumber, signature, issuer, validity, subject, ...
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = expectTag(fields[first + 4], TAG.sequence, 'subject');
  let keyId: Buffer | null = null;
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions !== undefined) {
    const list = expectTag(childrenOf(certDer, extensions)[0], TAG.sequence, 'extensions');
    for (const ext of childrenOf(certDer, list)) {
      const parts = childrenOf(certDer, ext);
      const oid = expectTag(parts[0], TAG.oid, 'extension id');
      if (!certDer.subarray(oid.offset, oid.end).equals(OID.subjectKeyIdentifier)) continue;
      const value = expectTag(parts[parts.length - 1], TAG.octetString, 'extension value');
      const id = expectTag(readNode(certDer, value.start, value.end), TAG.octetString, 'key identifier');
      keyId = Buffer.from(certDer.subarray(id.start, id.end));
    }
  }
  return { subject: Buffer.from(certDer.subarray(subject.offset, subject.end)), keyId };
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, as @peculiar/x509 computes it. */
function keyIdentifier(spki: Buffer): Buffer {
  const info = expectTag(readNode(spki, 0), TAG.sequence, 'SubjectPublicKeyInfo');
  const key = expectTag(childrenOf(spki, info)[1], TAG.bitString, 'subjectPublicKey');
  return createHash('sha1').update(spki.subarray(key.start + 1, key.end)).digest();
}

/** 16 random bytes, top bit clear and first byte non-zero: a positive, unique serial, as RFC 5280 asks. */
export function randomSerialBytes(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes;
}

/** The signature AlgorithmIdentifier and hash for a CA key; the same choices as keys.ts's algorithmFor. */
function signatureAlgorithm(key: KeyObject): { id: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'rsa') return { id: sequence(OID.sha256WithRSAEncryption, NULL), hash: 'sha256' };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return { id: sequence(OID.ecdsaWithSHA256), hash: 'sha256' };
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return { id: sequence(OID.ecdsaWithSHA384), hash: 'sha384' };
  throw new Error(`unsupported CA key: ${key.asymmetricKeyType ?? 'unknown'} ${curve ?? ''}`.trim());
}

function toPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

export interface ServerLeafOptions {
  /** Host name, or a wildcard such as `*.example.com`: the subject CN and the one dNSName. */
  name: string;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** A CA read once (subject, key identifier, signing key), so that each leaf costs one signature. */
export class LeafIssuer {
  readonly #issuer: Buffer;
  readonly #authorityKeyId: Buffer | null;
  readonly #key: KeyObject;
  readonly #algorithm: Buffer;
  readonly #hash: string;

  constructor(ca: { certPem: string; keyPem: string }) {
    const { subject, keyId } = readCaFields(new X509Certificate(ca.certPem).raw);
    this.#issuer = subject;
    this.#authorityKeyId = keyId;
    this.#key = createPrivateKey(ca.keyPem);
    const algorithm = signatureAlgorithm(this.#key);
    this.#algorithm = algorithm.id;
    this.#hash = algorithm.hash;
  }

  /**
   * A TLS server certificate (PEM): v3, CA:FALSE (critical), keyUsage digitalSignature +
   * keyEncipherment (critical), extKeyUsage serverAuth, subjectAltName, subject and authority key ids.
   */
  issueServerLeaf(opts: ServerLeafOptions): string {
    // dNSName is an IA5String: a host name must already be ASCII (A-labels).
    if (!/^[\x21-\x7e]+$/.test(opts.name)) throw new TypeError(`not an ASCII host name: ${JSON.stringify(opts.name)}`);
    const name = Buffer.from(opts.name, 'latin1');
    const spki = opts.publicKey.export({ type: 'spki', format: 'der' });
    const extensions = [
      extension(OID.basicConstraints, true, sequence()),
      // Bits 0 (digitalSignature) and 2 (keyEncipherment); 5 unused bits.
      extension(OID.keyUsage, true, Buffer.from([TAG.bitString, 2, 5, 0xa0])),
      extension(OID.extKeyUsage, false, sequence(OID.serverAuth)),
      extension(OID.subjectAltName, false, sequence(tlv(0x82, name))),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    ];
    if (this.#authorityKeyId !== null) extensions.push(extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, this.#authorityKeyId))));
    const tbs = sequence(
      explicit(0, unsignedInteger(Buffer.from([2]))),
      unsignedInteger(randomSerialBytes()),
      this.#algorithm,
      this.#issuer,
      sequence(time(opts.notBefore), time(opts.notAfter)),
      sequence(tlv(TAG.set, sequence(OID.commonName, tlv(TAG.utf8String, name)))),
      spki,
      explicit(3, sequence(...extensions)),
    );
    // An EC key signs in DER (r, s) form, which is what X.509 carries; RSA uses PKCS#1 v1.5.
    const signature = sign(this.#hash, tbs, this.#key);
    return toPem(sequence(tbs, this.#algorithm, bitString(signature)));
  }
}
