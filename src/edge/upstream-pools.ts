// One pool of origin connections per peer identity (origin + SNI + SSL mode + client certificate
// fingerprint), so a connection or TLS session made with one certificate is never used for
// another. Pools are made on first use; a pool whose key leaves the snapshot is retired: in-flight
// exchanges finish, idle connections close, the rest are cut at a deadline, and no connection
// outlives its client certificate.
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { AopLevel, SslMode } from '../domain/index.ts';
import { markConnectError } from './classify-upstream-error.ts';
import { ClientCertificateUnusableError } from './errors.ts';
import { poolRetiredChannel, upstreamConnectChannel } from './observe.ts';
import { OriginConnection, type ConnectionOwner, type OriginDial } from './origin-connection.ts';
import type { ExchangeHandler, RequestCtx } from './request-ctx.ts';
import type { OriginTarget, PeerKey, Route } from './snapshot.ts';
import type { ClientIdentity, TrustStore } from './tls-material.ts';

export interface UpstreamTimeouts {
  connectMs: number;
  responseMs: number;
  keepAliveMs: number;
}

export interface UpstreamPoolsOptions {
  timeouts: UpstreamTimeouts;
  trust: TrustStore;
  /** How long a retired pool may keep in-flight requests before it is destroyed. */
  drainTimeoutMs: number;
  /** Tag carried in events so observers can tell edges apart in one process. */
  owner: object;
}

export interface UpstreamConnectEvent {
  owner: object;
  pool: PoolEntry;
  connection: OriginConnection | null;
  /** TLS session resumed (false for plain HTTP). */
  resumed: boolean;
  durationMs: number;
  error: Error | null;
  localPort: number | null;
}

export interface PoolRetiredEvent {
  owner: object;
  pool: PoolEntry;
  reason: 'removed' | 'certificate_expired' | 'closing';
}

export class PoolEntry implements ConnectionOwner {
  readonly key: PeerKey;
  /** The snapshot route key this pool serves (differs from `key` for wildcard-derived routes). */
  readonly templateKey: PeerKey;
  readonly origin: OriginTarget;
  readonly servername: string | null;
  readonly mode: SslMode;
  readonly level: AopLevel;
  readonly identity: ClientIdentity | null;
  readonly createdAt: number;
  retired = false;
  connections = 0;
  resumedConnections = 0;
  readonly #opts: UpstreamPoolsOptions;
  /** Idle connections, most recently used last (reused first: its TLS state is warm). */
  readonly #idle: OriginConnection[] = [];
  readonly #live = new Set<OriginConnection>();
  #dial: OriginDial | null = null;
  /**
   * The origin's latest TLS session, held strongly and handed to each new connection, so new
   * connections resume (the undici connector used before cached them in WeakRefs and forgot them at
   * every GC: 0–35% resumed under load). Per pool, so sessions never cross client certificates.
   */
  #session: Buffer | null = null;
  #deadline: NodeJS.Timeout | null = null;
  #whenEmpty: (() => void) | null = null;
  #empty: Promise<void> | null = null;

  constructor(route: Route, templateKey: PeerKey, opts: UpstreamPoolsOptions) {
    this.key = route.peerKey;
    this.templateKey = templateKey;
    this.origin = route.origin;
    this.servername = route.servername;
    this.mode = route.sslMode;
    this.level = route.identity === null ? 'none' : route.aop.level;
    this.identity = route.identity;
    this.createdAt = Date.now();
    this.#opts = opts;
  }

  /**
   * Sends the request on an idle connection, or on a new one. A retry always dials: the idle
   * connection it replaces went stale, and its neighbours in the idle list have usually been
   * closed by the same origin restart or reload.
   */
  dispatch(ctx: RequestCtx, handler: ExchangeHandler): void {
    const now = ctx.tStart;
    let conn: OriginConnection | undefined;
    while (ctx.attempts === 0 && (conn = this.#idle.pop()) !== undefined) {
      if (conn.usable && now - conn.idleSince < conn.idleLimitMs) {
        conn.send(ctx, handler);
        return;
      }
      conn.close();
    }
    this.#dialFor(ctx, handler, false);
  }

  /**
   * An upgrade request always gets a connection of its own, with the same identity and TLS rules
   * (and TLS session) as the pool's: switched, it is a tunnel, never pooled. It counts among the
   * pool's live connections, so a retired pool's deadline cuts it too.
   */
  dispatchUpgrade(ctx: RequestCtx, handler: ExchangeHandler): void {
    this.#dialFor(ctx, handler, true);
  }

  #dialFor(ctx: RequestCtx, handler: ExchangeHandler, forUpgrade: boolean): void {
    let dial: OriginDial;
    try {
      dial = this.#dial ??= this.#makeDial();
    } catch (err) {
      const error = new ClientCertificateUnusableError(`the client certificate cannot be used: ${(err as Error).message}`, { cause: err });
      publishConnect(this.#opts.owner, this, null, false, performance.now(), error, null);
      handler.onError(ctx, markConnectError(error));
      return;
    }
    const session = this.#session;
    const fresh = new OriginConnection(session === null || dial.tls === null ? dial : { ...dial, tls: { ...dial.tls, session } }, this, ctx, handler, forUpgrade);
    this.#live.add(fresh);
  }

  #makeDial(): OriginDial {
    const t = this.#opts.timeouts;
    let options: ConnectionOptions | null = null;
    if (this.origin.scheme === 'https') {
      options = { servername: this.servername ?? undefined, minVersion: 'TLSv1.2' };
      if (this.mode === 'strict') {
        options.rejectUnauthorized = true;
        options.secureContext = this.identity === null ? this.#opts.trust.anonymousContext() : this.identity.strictContext(this.#opts.trust);
      } else {
        options.rejectUnauthorized = false;
        options.secureContext = this.identity === null ? anonymousFullContext() : this.identity.fullContext();
      }
    }
    return { host: this.origin.host, port: this.origin.port, tls: options, connectMs: t.connectMs, responseMs: t.responseMs };
  }

  // ── ConnectionOwner ──

  connected(conn: OriginConnection, socket: Socket, error: Error | null, started: number): void {
    if (error === null) {
      this.connections++;
      if (conn.resumed) this.resumedConnections++;
    }
    publishConnect(this.#opts.owner, this, error === null ? conn : null, conn.resumed, started, error, socket.localPort ?? null);
  }

  released(conn: OriginConnection, reusable: boolean): void {
    if (reusable && !this.retired && !conn.forUpgrade) {
      const limit = this.#opts.timeouts.keepAliveMs;
      if (conn.idleLimitMs > limit) conn.idleLimitMs = limit;
      this.#idle.push(conn);
    } else {
      conn.close();
    }
  }

  closed(conn: OriginConnection): void {
    this.#live.delete(conn);
    const i = this.#idle.lastIndexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    if (this.#live.size === 0 && this.#whenEmpty !== null) this.#whenEmpty();
  }

  keepSession(session: Buffer): void {
    this.#session = session;
  }

  /** Closes connections idle past their keep-alive limit; fails exchanges the origin left silent too long. */
  sweep(now: number): void {
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const conn = this.#idle[i];
      if (now - conn.idleSince >= conn.idleLimitMs) conn.close();
    }
    for (const conn of this.#live) conn.expire(now);
  }

  /** Stops taking work; in-flight exchanges finish; cut at `deadlineAt` at the latest. */
  retire(deadlineAt: number): Promise<void> {
    if (!this.retired) {
      this.retired = true;
      this.#deadline = setTimeout(() => void this.destroy(), Math.max(0, deadlineAt - Date.now()));
      this.#deadline.unref();
    }
    for (const conn of this.#idle.splice(0)) conn.close();
    return this.#drained().then(() => this.#clearDeadline());
  }

  /** Cuts every connection now. */
  destroy(): Promise<void> {
    this.retired = true;
    this.#clearDeadline();
    for (const conn of [...this.#live]) conn.abort(new Error('the origin pool was destroyed'));
    return this.#drained();
  }

  #drained(): Promise<void> {
    if (this.#live.size === 0) return Promise.resolve();
    this.#empty ??= new Promise<void>((resolve) => (this.#whenEmpty = resolve));
    return this.#empty;
  }

  #clearDeadline(): void {
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    this.#deadline = null;
  }
}

function publishConnect(
  owner: object,
  pool: PoolEntry,
  connection: OriginConnection | null,
  resumed: boolean,
  started: number,
  error: Error | null,
  localPort: number | null,
): void {
  if (!upstreamConnectChannel.hasSubscribers) return;
  const event: UpstreamConnectEvent = { owner, pool, connection, resumed, durationMs: performance.now() - started, error, localPort };
  upstreamConnectChannel.publish(event);
}

let anonymousFull: SecureContext | null = null;
function anonymousFullContext(): SecureContext {
  anonymousFull ??= createSecureContext({ minVersion: 'TLSv1.2' });
  return anonymousFull;
}

export class UpstreamPools {
  readonly #pools = new Map<PeerKey, PoolEntry>();
  readonly #retired = new Set<PoolEntry>();
  readonly #opts: UpstreamPoolsOptions;
  /** Earliest client-certificate expiry among live pools (ms); Infinity when none. */
  #nextExpiry = Infinity;
  #sweeper: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: UpstreamPoolsOptions) {
    this.#opts = opts;
  }

  /** The pool for a route; `templateKey` is the snapshot route's key when `route` was derived from a wildcard. */
  get(route: Route, templateKey: PeerKey): PoolEntry {
    const entry = this.#pools.get(route.peerKey);
    if (entry !== undefined) return entry;
    return this.#create(route, templateKey);
  }

  #create(route: Route, templateKey: PeerKey): PoolEntry {
    const entry = new PoolEntry(route, templateKey, this.#opts);
    this.#pools.set(entry.key, entry);
    const notAfter = entry.identity?.notAfter ?? Infinity;
    // A pool made after its certificate expired gains nothing from being recycled at expiry.
    if (notAfter > entry.createdAt && notAfter < this.#nextExpiry) this.#nextExpiry = notAfter;
    this.#ensureSweeper();
    return entry;
  }

  /** Retires every pool whose route key is not in `keep` (after a snapshot swap). */
  retainOnly(keep: ReadonlySet<PeerKey>): number {
    let retired = 0;
    for (const entry of this.#pools.values()) {
      if (keep.has(entry.templateKey)) continue;
      this.#retire(entry, 'removed');
      retired++;
    }
    return retired;
  }

  /** Retires pools whose client certificate has expired since they were made. */
  sweepExpired(now = Date.now()): number {
    if (now < this.#nextExpiry) return 0;
    let retired = 0;
    let next = Infinity;
    for (const entry of this.#pools.values()) {
      const notAfter = entry.identity?.notAfter ?? Infinity;
      if (notAfter <= entry.createdAt) continue;
      if (notAfter <= now) {
        this.#retire(entry, 'certificate_expired');
        retired++;
      } else if (notAfter < next) {
        next = notAfter;
      }
    }
    this.#nextExpiry = next;
    return retired;
  }

  #retire(entry: PoolEntry, reason: PoolRetiredEvent['reason']): void {
    this.#pools.delete(entry.key);
    this.#retired.add(entry);
    const notAfter = entry.identity?.notAfter ?? Infinity;
    const expiry = notAfter > entry.createdAt ? notAfter : Infinity;
    void entry.retire(Math.min(Date.now() + this.#opts.drainTimeoutMs, expiry)).then(() => this.#retired.delete(entry));
    if (poolRetiredChannel.hasSubscribers) poolRetiredChannel.publish({ owner: this.#opts.owner, pool: entry, reason } satisfies PoolRetiredEvent);
  }

  #ensureSweeper(): void {
    if (this.#sweeper !== null || this.#closed) return;
    // Cheap when nothing is due: a comparison, and a look at each pool's connections. Often enough
    // that a response timeout fires at most a quarter late.
    const every = Math.min(1_000, Math.max(10, Math.floor(this.#opts.timeouts.responseMs / 4)));
    this.#sweeper = setInterval(() => {
      this.sweepExpired();
      const now = performance.now();
      for (const entry of this.#pools.values()) entry.sweep(now);
      for (const entry of this.#retired) entry.sweep(now);
    }, every);
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#pools.size;
  }

  get retiredCount(): number {
    return this.#retired.size;
  }

  entries(): IterableIterator<PoolEntry> {
    return this.#pools.values();
  }

  /** Graceful: every pool finishes in-flight work (destroyed at the drain deadline). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    const waits: Promise<unknown>[] = [];
    for (const entry of [...this.#pools.values()]) {
      this.#retire(entry, 'closing');
    }
    for (const entry of this.#retired) waits.push(entry.retire(0));
    await Promise.all(waits);
  }

  async destroy(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    const all = [...this.#pools.values(), ...this.#retired];
    this.#pools.clear();
    this.#retired.clear();
    await Promise.all(all.map((e) => e.destroy()));
  }
}
