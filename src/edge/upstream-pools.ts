// One undici Pool per peer identity (origin + SNI + SSL mode + client certificate fingerprint),
// each with its own connector, so a connection or TLS session made with one certificate is never
// used for another. Pools are made on first use; a pool whose key leaves the snapshot is retired:
// close() lets in-flight requests finish and idle sockets go, destroy() comes at a deadline, and
// no connection outlives its client certificate.
import { createSecureContext, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { Pool, buildConnector } from 'undici';
import type { AopLevel, SslMode } from '../domain/index.ts';
import { markConnectError } from './classify-upstream-error.ts';
import { ClientCertificateUnusableError } from './errors.ts';
import { poolRetiredChannel, upstreamConnectChannel } from './observe.ts';
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

/** Per-connection facts, stamped on the socket for the request path (reused/resumed). */
export class UpstreamConnection {
  readonly id: number;
  readonly resumed: boolean;
  requests = 0;
  constructor(id: number, resumed: boolean) {
    this.id = id;
    this.resumed = resumed;
  }
}

export const CONNECTION = Symbol('originpull.upstreamConnection');

export interface UpstreamConnectEvent {
  owner: object;
  pool: PoolEntry;
  connection: UpstreamConnection | null;
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

let connectionIds = 0;

export class PoolEntry {
  readonly key: PeerKey;
  /** The snapshot route key this pool serves (differs from `key` for wildcard-derived routes). */
  readonly templateKey: PeerKey;
  readonly origin: OriginTarget;
  readonly servername: string | null;
  readonly mode: SslMode;
  readonly level: AopLevel;
  readonly identity: ClientIdentity | null;
  readonly createdAt: number;
  readonly pool: Pool;
  retired = false;
  connections = 0;
  resumedConnections = 0;
  #deadline: NodeJS.Timeout | null = null;

  constructor(route: Route, templateKey: PeerKey, opts: UpstreamPoolsOptions) {
    this.key = route.peerKey;
    this.templateKey = templateKey;
    this.origin = route.origin;
    this.servername = route.servername;
    this.mode = route.sslMode;
    this.level = route.identity === null ? 'none' : route.aop.level;
    this.identity = route.identity;
    this.createdAt = Date.now();
    const t = opts.timeouts;
    this.pool = new Pool(route.origin.url, {
      connect: connectorFor(this, opts),
      keepAliveTimeout: t.keepAliveMs,
      keepAliveMaxTimeout: t.keepAliveMs,
      headersTimeout: t.responseMs,
      bodyTimeout: t.responseMs,
      pipelining: 1,
    });
  }

  /** Stops taking work; in-flight requests finish; destroyed at `deadlineAt` at the latest. */
  retire(deadlineAt: number): void {
    if (this.retired) return;
    this.retired = true;
    this.#deadline = setTimeout(() => this.pool.destroy().catch(noop), Math.max(0, deadlineAt - Date.now()));
    this.#deadline.unref();
    this.pool.close().then(() => this.#clearDeadline(), noop);
  }

  destroy(): Promise<void> {
    this.retired = true;
    this.#clearDeadline();
    return this.pool.destroy().catch(noop);
  }

  #clearDeadline(): void {
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    this.#deadline = null;
  }
}

/**
 * Undici connector for one pool: its TLS identity, plus a log event per new origin connection.
 *
 * The pool keeps the origin's latest TLS session itself. undici's connector caches sessions only
 * through WeakRefs, so any garbage collection forgets them and the next connection pays a full
 * handshake (measured: 0–35% resumed under load). Held strongly here, and handed to each new
 * connection, sessions resume; they stay per pool, so they never cross client certificates.
 */
function connectorFor(entry: PoolEntry, opts: UpstreamPoolsOptions): buildConnector.connector {
  let base: buildConnector.BuildOptions | null = null;
  let session: Buffer | null = null;
  const keepSession = (s: Buffer) => {
    session = s;
  };
  const make = (): buildConnector.BuildOptions => {
    const tls: ConnectionOptions = {};
    if (entry.origin.scheme === 'https') {
      tls.servername = entry.servername ?? undefined;
      tls.minVersion = 'TLSv1.2';
      if (entry.mode === 'strict') {
        tls.rejectUnauthorized = true;
        tls.secureContext = entry.identity === null ? opts.trust.anonymousContext() : entry.identity.strictContext(opts.trust);
      } else {
        tls.rejectUnauthorized = false;
        tls.secureContext = entry.identity === null ? anonymousFullContext() : entry.identity.fullContext();
      }
    }
    // maxCachedSessions 0: undici's weak cache is off; `session` below is ours.
    return { ...(tls as object), timeout: opts.timeouts.connectMs, maxCachedSessions: 0, keepAlive: true } as buildConnector.BuildOptions;
  };
  return function connect(options, callback) {
    const started = performance.now();
    if (base === null) {
      try {
        base = make();
      } catch (err) {
        const error = new ClientCertificateUnusableError(`the client certificate cannot be used: ${(err as Error).message}`, { cause: err });
        publishConnect(opts.owner, entry, null, false, started, error, null);
        callback(markConnectError(error), null);
        return;
      }
    }
    // A connector per connection is cheap next to a handshake, and the only way to pass a session.
    const connector = buildConnector(session === null ? base : ({ ...base, session } as buildConnector.BuildOptions));
    const socket = (connector as unknown as (o: buildConnector.Options, cb: buildConnector.Callback) => Socket | undefined)(options, (err, socket) => {
      if (err !== null) {
        publishConnect(opts.owner, entry, null, false, started, err, null);
        callback(markConnectError(err), null);
        return;
      }
      const resumed = entry.origin.scheme === 'https' && (socket as TLSSocket).isSessionReused();
      const connection = new UpstreamConnection(++connectionIds, resumed);
      (socket as unknown as Record<symbol, UpstreamConnection>)[CONNECTION] = connection;
      entry.connections++;
      if (resumed) entry.resumedConnections++;
      publishConnect(opts.owner, entry, connection, resumed, started, null, (socket as Socket).localPort ?? null);
      callback(null, socket);
    });
    // TLS 1.2 delivers the session during the handshake, TLS 1.3 tickets after it: listen from the start.
    if (entry.origin.scheme === 'https') socket?.on('session', keepSession);
  };
}

function publishConnect(
  owner: object,
  pool: PoolEntry,
  connection: UpstreamConnection | null,
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

function noop(): void {}

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
    entry.retire(Math.min(Date.now() + this.#opts.drainTimeoutMs, expiry));
    entry.pool.close().then(
      () => this.#retired.delete(entry),
      () => this.#retired.delete(entry),
    );
    if (poolRetiredChannel.hasSubscribers) poolRetiredChannel.publish({ owner: this.#opts.owner, pool: entry, reason } satisfies PoolRetiredEvent);
  }

  #ensureSweeper(): void {
    if (this.#sweeper !== null || this.#closed) return;
    // Cheap when nothing is due: one comparison per second.
    this.#sweeper = setInterval(() => this.sweepExpired(), 1000);
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
    for (const entry of this.#retired) waits.push(entry.pool.close().catch(noop));
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
