// A tiny DER reader: enough ASN.1 to walk an X.509 certificate in the browser (tag, length,
// children, OIDs, integers, strings and times). Throws DerError on anything malformed.

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export interface Node {
  /** The identifier octet (class + constructed bit + tag number < 31). */
  tag: number;
  /** Offset of the value in `bytes`. */
  start: number;
  /** Offset just past the value. */
  end: number;
  bytes: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8: 0x0c,
  PRINTABLE: 0x13,
  T61: 0x14,
  IA5: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export function readNode(bytes: Uint8Array, offset = 0): Node {
  if (offset + 2 > bytes.length) throw new DerError('truncated DER');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte ASN.1 tags are not supported');
  let len = bytes[offset + 1];
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (p >= bytes.length) throw new DerError('truncated DER');
      len = len * 256 + bytes[p++];
    }
  }
  if (p + len > bytes.length) throw new DerError('truncated DER');
  return { tag, start: p, end: p + len, bytes };
}

export function children(node: Node): Node[] {
  const out: Node[] = [];
  let p = node.start;
  while (p < node.end) {
    const child = readNode(node.bytes, p);
    if (child.end > node.end) throw new DerError('DER child overruns its parent');
    out.push(child);
    p = child.end;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (!node || node.tag !== tag) throw new DerError(`expected ${what}`);
  return node;
}

export function value(node: Node): Uint8Array {
  return node.bytes.subarray(node.start, node.end);
}

export function oid(node: Node): string {
  const v = value(expect(node, TAG.OID, 'an object identifier'));
  if (v.length === 0) throw new DerError('empty object identifier');
  const parts: number[] = [];
  let acc = 0;
  for (const b of v) {
    acc = acc * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

export function unsignedBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function integer(node: Node): bigint {
  return unsignedBigInt(value(expect(node, TAG.INTEGER, 'an integer')));
}

export function text(node: Node): string {
  const v = value(node);
  switch (node.tag) {
    case TAG.BMP: {
      let s = '';
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i] << 8) | v[i + 1]);
      return s;
    }
    case TAG.UTF8:
      return new TextDecoder().decode(v);
    default:
      // PrintableString, IA5String, T61String: bytes as Latin-1 is what OpenSSL prints too.
      return String.fromCharCode(...v);
  }
}

export function time(node: Node): Date {
  const s = String.fromCharCode(...value(node));
  const m =
    node.tag === TAG.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : node.tag === TAG.GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
        : null;
  if (!m) throw new DerError(`unsupported time "${s}"`);
  let year = Number(m[1]);
  if (node.tag === TAG.UTC_TIME) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
