// Reads what a visitor's TLS ClientHello asks for — the server name, the ALPN protocols and the
// TLS versions offered — from the raw bytes, before any TLS library sees them. Node's TLS server
// decides the version from its own options alone and calls back only with the server name, so
// whatever depends on the zone (a per-zone minimum version, the ACME TLS-ALPN-01 challenge, a
// refused unknown name) is decided from this. Pure: bytes in, a description out.
//
// Layout (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): TLS records of type handshake (22) carry one
// handshake message, type client_hello (1), possibly split over several records.

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface ClientHello {
  /** The SNI host name, lower-cased; null when the visitor sent none. */
  serverName: string | null;
  /** ALPN protocols in the visitor's order; empty when it sent none. */
  alpn: string[];
  /** The versions the visitor offers, highest last. */
  versions: TlsVersion[];
  /**
   * Hex of the key name a resumption ticket offered starts with (TLS 1.2 session_ticket or the
   * first TLS 1.3 pre_shared_key identity): which ticket key sealed it. Null or absent: none.
   */
  ticketKeyName?: string | null;
}

export type HelloParse =
  | { kind: 'hello'; hello: ClientHello; bytes: number }
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string };

/** ClientHellos beyond this are refused: real ones (post-quantum key shares included) are a few KiB. */
export const MAX_CLIENT_HELLO = 32 * 1024;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const EXT_SESSION_TICKET = 35;
const EXT_PRE_SHARED_KEY = 41;
/** OpenSSL's (and so Node's) tickets begin with the 16-byte name of the key that sealed them. */
const TICKET_KEY_NAME_BYTES = 16;

const VERSION_NAMES: ReadonlyMap<number, TlsVersion> = new Map([
  [0x0301, 'TLSv1'],
  [0x0302, 'TLSv1.1'],
  [0x0303, 'TLSv1.2'],
  [0x0304, 'TLSv1.3'],
]);
const VERSION_ORDER: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export function versionRank(version: TlsVersion): number {
  return VERSION_ORDER.indexOf(version);
}

/** The highest version a ClientHello offers; null when it offers none this edge knows. */
export function highestVersion(hello: ClientHello): TlsVersion | null {
  return hello.versions.length === 0 ? null : hello.versions[hello.versions.length - 1]!;
}

const invalid = (reason: string): HelloParse => ({ kind: 'invalid', reason });

/**
 * Parses the ClientHello at the start of `data` (what a visitor has sent so far). `bytes` is how
 * many bytes of `data` the records carrying it take; the caller passes all of `data` on to TLS.
 */
export function parseClientHello(data: Buffer): HelloParse {
  // Reassemble the handshake message from as many records as it spans.
  const parts: Buffer[] = [];
  let gathered = 0;
  let offset = 0;
  let needed = -1;
  for (;;) {
    if (data.length < offset + 5) return data.length > MAX_CLIENT_HELLO ? invalid('too_large') : { kind: 'incomplete' };
    if (data[offset] !== RECORD_HANDSHAKE) return invalid(offset === 0 ? 'not_tls' : 'unexpected_record');
    if (data[offset + 1] !== 0x03) return invalid('not_tls');
    const length = data.readUInt16BE(offset + 3);
    if (length === 0) return invalid('empty_record');
    if (data.length < offset + 5 + length) return offset + 5 + length > MAX_CLIENT_HELLO ? invalid('too_large') : { kind: 'incomplete' };
    parts.push(data.subarray(offset + 5, offset + 5 + length));
    gathered += length;
    offset += 5 + length;
    if (needed < 0 && gathered >= 4) {
      const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('not_client_hello');
      needed = 4 + head.readUIntBE(1, 3);
      if (needed > MAX_CLIENT_HELLO) return invalid('too_large');
    }
    if (needed >= 0 && gathered >= needed) break;
  }
  const message = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  const hello = readClientHelloBody(message.subarray(4, needed));
  return typeof hello === 'string' ? invalid(hello) : { kind: 'hello', hello, bytes: offset };
}

/** A bounds-checked cursor: every read past the end yields -1 / null, never throws. */
class Reader {
  readonly #buf: Buffer;
  #at = 0;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  get left(): number {
    return this.#buf.length - this.#at;
  }
  u8(): number {
    return this.left < 1 ? -1 : this.#buf[this.#at++]!;
  }
  u16(): number {
    if (this.left < 2) return -1;
    const v = this.#buf.readUInt16BE(this.#at);
    this.#at += 2;
    return v;
  }
  bytes(n: number): Buffer | null {
    if (n < 0 || this.left < n) return null;
    const v = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }
}

function readClientHelloBody(body: Buffer): ClientHello | string {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  if (legacyVersion < 0 || r.bytes(32) === null) return 'truncated';
  if (r.bytes(r.u8()) === null) return 'truncated'; // legacy_session_id
  if (r.bytes(r.u16()) === null) return 'truncated'; // cipher_suites
  if (r.bytes(r.u8()) === null) return 'truncated'; // legacy_compression_methods
  let serverName: string | null = null;
  let alpn: string[] = [];
  let supported: TlsVersion[] | null = null;
  let ticketKeyName: string | null = null;
  if (r.left > 0) {
    const extensions = r.bytes(r.u16());
    if (extensions === null) return 'truncated';
    const e = new Reader(extensions);
    while (e.left > 0) {
      const type = e.u16();
      const data = e.bytes(e.u16());
      if (type < 0 || data === null) return 'truncated';
      if (type === EXT_SERVER_NAME) {
        const name = readServerName(data);
        if (name === undefined) return 'bad_server_name';
        serverName = name;
      } else if (type === EXT_ALPN) {
        const protocols = readAlpn(data);
        if (protocols === null) return 'bad_alpn';
        alpn = protocols;
      } else if (type === EXT_SUPPORTED_VERSIONS) {
        const versions = readSupportedVersions(data);
        if (versions === null) return 'bad_supported_versions';
        supported = versions;
      } else if (type === EXT_SESSION_TICKET) {
        if (data.length >= TICKET_KEY_NAME_BYTES) ticketKeyName = data.subarray(0, TICKET_KEY_NAME_BYTES).toString('hex');
      } else if (type === EXT_PRE_SHARED_KEY) {
        ticketKeyName = firstPskKeyName(data);
      }
    }
  }
  // Without supported_versions a visitor offers every version up to its legacy one (RFC 8446 §4.2.1).
  const hello: ClientHello = { serverName, alpn, versions: supported ?? versionsUpTo(legacyVersion) };
  if (ticketKeyName !== null) hello.ticketKeyName = ticketKeyName;
  return hello;
}

/** The key name of the first PSK identity (RFC 8446 §4.2.11); null when there is none or it is short. */
function firstPskKeyName(data: Buffer): string | null {
  const r = new Reader(data);
  const identities = r.bytes(r.u16());
  if (identities === null) return null;
  const first = new Reader(identities);
  const identity = first.bytes(first.u16());
  return identity === null || identity.length < TICKET_KEY_NAME_BYTES ? null : identity.subarray(0, TICKET_KEY_NAME_BYTES).toString('hex');
}

function versionsUpTo(legacyVersion: number): TlsVersion[] {
  const top = VERSION_NAMES.get(Math.min(legacyVersion, 0x0303));
  return top === undefined ? [] : VERSION_ORDER.slice(0, versionRank(top) + 1);
}

/** The host_name entry of a server_name extension; null when it has none; undefined when malformed. */
function readServerName(data: Buffer): string | null | undefined {
  const r = new Reader(data);
  const list = r.bytes(r.u16());
  if (list === null || r.left !== 0) return undefined;
  const l = new Reader(list);
  while (l.left > 0) {
    const type = l.u8();
    const name = l.bytes(l.u16());
    if (type < 0 || name === null) return undefined;
    if (type === 0) return name.length === 0 ? undefined : name.toString('latin1').toLowerCase();
  }
  return null;
}

function readAlpn(data: Buffer): string[] | null {
  const r = new Reader(data);
  const list = r.bytes(r.u16());
  if (list === null || r.left !== 0) return null;
  const l = new Reader(list);
  const protocols: string[] = [];
  while (l.left > 0) {
    const name = l.bytes(l.u8());
    if (name === null || name.length === 0) return null;
    protocols.push(name.toString('latin1'));
  }
  return protocols;
}

function readSupportedVersions(data: Buffer): TlsVersion[] | null {
  const r = new Reader(data);
  const list = r.bytes(r.u8());
  if (list === null || r.left !== 0 || list.length % 2 !== 0) return null;
  const seen = new Set<TlsVersion>();
  for (let i = 0; i < list.length; i += 2) {
    // GREASE values (RFC 8701) and versions this edge does not know are skipped.
    const name = VERSION_NAMES.get(list.readUInt16BE(i));
    if (name !== undefined) seen.add(name);
  }
  return VERSION_ORDER.filter((v) => seen.has(v));
}
