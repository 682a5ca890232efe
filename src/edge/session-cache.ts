// TLS 1.2 session-ID resumption for visitors. Node's TLS server keeps no session cache of its own
// (OpenSSL's internal store is off): it asks 'newSession' / 'resumeSession' listeners. This is that
// cache, one per process, so a visitor resuming by session ID must reach the same worker; session
// tickets (shared keys, edge.ts) resume on any worker and any edge node.

export interface SessionCacheOptions {
  /** Sessions kept (oldest dropped first). */
  maxEntries?: number;
  /** A session older than this is not resumed. */
  ttlMs: number;
  now?: () => number;
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

  /** For tls.Server 'newSession'. */
  readonly onNewSession = (id: Buffer, data: Buffer, done: () => void): void => {
    this.set(id, data);
    done();
  };

  /** For tls.Server 'resumeSession'. */
  readonly onResumeSession = (id: Buffer, done: (err: Error | null, data: Buffer | null) => void): void => {
    done(null, this.get(id));
  };
}
