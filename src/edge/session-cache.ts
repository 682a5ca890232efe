// TLS 1.2 session-ID resumption for visitors. Node's TLS server keeps no session cache of its own
// (OpenSSL's internal store is off): it asks 'newSession' / 'resumeSession' listeners. This is that
// cache, one per process, so a visitor resuming by session ID must reach the same worker; session
// tickets (shared keys, edge.ts) resume on any worker and any edge node.
// Tested in test/edge/client-hello-tickets.test.ts and test/e2e/session-tickets.test.ts.

export interface SessionCacheOptions {
  /** Sessions kept (oldest dropped first). */
  maxEntries?: number;
  /** A session older than this is not resumed. */
  ttlMs: number;
  now?: () => number;
}

const TLS12 = 0x0303;

/**
 * The protocol version in a DER SSL_SESSION (OpenSSL's ASN.1: SEQUENCE { INTEGER 1, INTEGER
 * ssl_version, ... }); null when the bytes do not look like one.
 */
export function sessionVersion(der: Buffer): number | null {
  if (der.length < 2 || der[0] !== 0x30) return null;
  const lenByte = der[1]!;
  // Short or long definite length: skip the length octets.
  const at = lenByte < 0x80 ? 2 : 2 + (lenByte & 0x7f);
  if (der.length < at + 7) return null;
  if (der[at] !== 0x02 || der[at + 1] !== 0x01 || der[at + 2] !== 0x01 || der[at + 3] !== 0x02 || der[at + 4] !== 0x02) return null;
  return der.readUInt16BE(at + 5);
}

interface Entry {
  data: Buffer;
  expires: number;
}

export class SessionCache {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Insertion order is age order: Map iteration drops the oldest first. */
  readonly #entries = new Map<string, Entry>();

  constructor(o: SessionCacheOptions) {
    this.#max = o.maxEntries ?? 20_000;
    this.#ttlMs = o.ttlMs;
    this.#now = o.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  set(id: Buffer, data: Buffer): void {
    const key = id.toString('hex');
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { data, expires: this.#now() + this.#ttlMs });
  }

  get(id: Buffer): Buffer | null {
    const key = id.toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry.data;
  }

  /**
   * For tls.Server 'newSession'. OpenSSL reports every TLS 1.3 ticket here too, but a TLS 1.3
   * visitor resumes by ticket, never by session ID: only TLS 1.2 sessions are kept.
   */
  readonly onNewSession = (id: Buffer, data: Buffer, done: () => void): void => {
    if (sessionVersion(data) === TLS12) this.set(id, data);
    done();
  };

  /** For tls.Server 'resumeSession'. */
  readonly onResumeSession = (id: Buffer, done: (err: Error | null, data: Buffer | null) => void): void => {
    done(null, this.get(id));
  };
}
