// An edge node: follows the store's change feed, rebuilds the snapshot off the request path and
// swaps it into the Edge, and reports the version it serves (the only source of `active`).
// Store failures never stop it: it keeps serving the last snapshot and says so in health/metrics.
// Static stability: every applied snapshot's input is saved to local disk (LastKnownConfig),
// and an edge that cannot reach the store at start serves that copy until the store answers.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Config, ListenAddress } from '../config.ts';
import type { ConfigChanges, ConfigData } from '../domain/index.ts';
import { Edge, startAdminServer, type AdminServer, type Snapshot, type EdgeAddresses, type EdgeOptions, type HealthReport } from '../edge/index.ts';
import { SecretKeyMismatchError, verifySecretKey, type EdgeNodeStore, type SecretBox } from '../store/index.ts';
import { SnapshotBuilder } from './build-snapshot.ts';
import { ConfigIndex } from './config-index.ts';
import { readFileSync } from 'node:fs';

/**
 * Seam for the on-disk snapshot: a local copy of the last applied configuration,
 * loaded when the store cannot be reached at start and saved after every successful load.
 */
export interface LastKnownConfig {
  load(): Promise<ConfigData | null>;
  /** `data` may be a function, called when the copy is written (saves may coalesce). */
  save(data: ConfigData | (() => ConfigData)): Promise<void>;
}

export interface EdgeNodeOptions {
  store: EdgeNodeStore;
  secretBox: SecretBox;
  config: Readonly<Config>;
  logger: Logger;
  /** Reported to the store; default `<hostname>-<pid>`. */
  nodeName?: string;
  /** /metrics + /healthz listener; default config.metricsListen; null for none (cluster workers). */
  metricsListen?: ListenAddress | null;
  /** Registry for metrics; default a new one with the process metrics. */
  registry?: Registry;
  lastKnown?: LastKnownConfig;
  /** Overrides of the Edge options derived from the config (tests, workers). */
  edge?: Partial<EdgeOptions>;
  /** Back-off between store retries. */
  retryMs?: { min: number; max: number };
  /**
   * False when the node starts from its last known configuration without having checked the
   * secret key against the store (the store was unreachable): the check then runs before the
   * first load from the store, and a mismatch is fatal (see onFatal). Default true.
   */
  secretKeyVerified?: boolean;
  /** Called once when the node cannot go on (secret key mismatch); it has stopped following the store. */
  onFatal?: (err: Error) => void;
  /** A store call taking longer counts as a failure. Default: loads 15 s, pings max(2 s, 2 heartbeats). */
  storeTimeoutMs?: { load: number; ping: number };
}

/** Why an edge reports `degraded`, and since when. */
export interface DegradedState {
  reason: 'store_unreachable' | 'serving_last_known_config';
  since: string;
  detail: string | null;
}

export interface EdgeNodeHandle {
  readonly id: string;
  readonly name: string;
  readonly edge: Edge;
  readonly appliedVersion: number;
  readonly addresses: EdgeAddresses;
  readonly adminAddress: AddressInfo | null;
  readonly registry: Registry;
  health(): HealthReport;
  /** Why the node reports `degraded` (null when it does not). */
  degraded(): DegradedState | null;
  /** Resolves once a snapshot of at least `version` is applied (rejects after `timeoutMs`). */
  waitForVersion(version: number, timeoutMs?: number): Promise<void>;
  /** Graceful: stop following the store, drain visitors and origin pools. */
  close(): Promise<void>;
  /** Abrupt. */
  destroy(): Promise<void>;
}

export function edgeOptionsFromConfig(config: Readonly<Config>, logger: Logger | undefined, nodeName: string): EdgeOptions {
  let originCaPem: string | undefined;
  if (config.originCaFile) {
    try {
      originCaPem = readFileSync(config.originCaFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the origin CA bundle ${config.originCaFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  return {
    httpListen: config.httpListen,
    httpsListen: config.httpsListen,
    timeouts: config.timeouts,
    originCaPem,
    edgeCaFallback: config.edgeCaFallback,
    nodeTag: nodeName.split(/[.-]/)[0],
    logger,
    tcpHandles: config.edgeTcpHandles,
    upgradeIdleMs: config.timeouts.upgradeIdleMs,
    visitorHandshakeTimeoutMs: config.timeouts.visitorHandshakeMs,
    // Fixed ports are shared with the process that takes over at a restart (src/cli/take-over.ts).
    reusePort: true,
  };
}

class EdgeNode implements EdgeNodeHandle {
  readonly id = randomUUID();
  readonly name: string;
  readonly edge: Edge;
  readonly registry: Registry;
  readonly startedAt = Date.now();
  adminAddress: AddressInfo | null = null;
  readonly #o: EdgeNodeOptions;
  readonly #log: Logger;
  readonly #builder: SnapshotBuilder;
  /** The configuration behind the applied snapshot, when it came from the store (changes apply to it). */
  #index: ConfigIndex | null = null;
  readonly #retryMin: number;
  readonly #retryMax: number;
  #admin: AdminServer | null = null;
  #unsubscribe: (() => void) | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  /** Fires when an AOP certificate reaches its not_before (SnapshotBuilder.nextChangeAt). */
  #boundaryTimer: NodeJS.Timeout | null = null;
  #retryDelay: number;
  #dirty = false;
  #building = false;
  #reporting = false;
  #reportAgain = false;
  #closed = false;
  #appliedAt = 0;
  #storeConnected = false;
  #lastStoreError: string | null = null;
  #lastStoreContact = 0;
  #fromLastKnown = false;
  /** When the current trouble with the store began (null while all is well). */
  #troubleSince: number | null = null;
  #keyVerified: boolean;
  #pinging = false;
  readonly #calls = new StoreCalls();
  readonly #loadTimeoutMs: number;
  /** Heartbeat-sized calls; past it a silent store (dropped connection) counts as unreachable. */
  readonly #pingTimeoutMs: number;
  #waiters: { version: number; resolve: () => void }[] = [];
  readonly #buildSeconds: Histogram<'load'>;

  constructor(o: EdgeNodeOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.name = o.nodeName ?? `${hostname()}-${process.pid}`;
    this.registry = o.registry ?? new Registry();
    if (o.registry === undefined) collectDefaultMetrics({ register: this.registry });
    this.#builder = new SnapshotBuilder(o.secretBox);
    this.#retryMin = o.retryMs?.min ?? 250;
    this.#retryMax = o.retryMs?.max ?? 5_000;
    this.#retryDelay = this.#retryMin;
    this.#keyVerified = o.secretKeyVerified ?? true;
    const beat = Math.max(50, o.config.deployment.heartbeatIntervalMs);
    this.#loadTimeoutMs = o.storeTimeoutMs?.load ?? 15_000;
    this.#pingTimeoutMs = o.storeTimeoutMs?.ping ?? Math.max(2_000, 2 * beat);
    this.edge = new Edge({ ...edgeOptionsFromConfig(o.config, o.logger, this.name), registry: this.registry, ...o.edge });
    this.#registerGauges();
    this.#buildSeconds = new Histogram({
      name: 'originpull_edge_snapshot_build_seconds',
      help: 'Time to build and apply a snapshot on the event loop (visitors wait meanwhile), by load: full (start, store behind) or changes (the zones written to)',
      labelNames: ['load'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
  }

  #registerGauges(): void {
    const degraded = () => (this.degraded() === null ? 0 : 1);
    const lastKnown = () => (this.#fromLastKnown ? 1 : 0);
    const contactAge = () => (this.#lastStoreContact === 0 ? -1 : (Date.now() - this.#lastStoreContact) / 1000);
    new Gauge({
      name: 'originpull_edge_degraded',
      help: '1 while the edge serves without a working store (see /healthz for the reason and since when)',
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        this.set(degraded());
      },
    });
    new Gauge({
      name: 'originpull_edge_serving_last_known',
      help: '1 while the edge serves the configuration saved on its local disk (the store was unreachable at start)',
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        this.set(lastKnown());
      },
    });
    new Gauge({
      name: 'originpull_edge_store_last_contact_age_seconds',
      help: 'Seconds since the edge last heard from the store (-1: never)',
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        this.set(contactAge());
      },
    });
  }

  get appliedVersion(): number {
    return this.edge.appliedVersion;
  }

  get addresses(): EdgeAddresses {
    return this.edge.addresses;
  }

  async start(): Promise<void> {
    // Follow the feed before the first load so no change between the two is missed.
    this.#unsubscribe = this.#o.store.onChange((version) => {
      if (version !== this.appliedVersion) this.#requestRebuild();
    });
    await this.#firstSnapshot();
    if (this.#closed) return;
    const listen = this.#o.metricsListen === undefined ? this.#o.config.metricsListen : this.#o.metricsListen;
    if (listen !== null) {
      this.#admin = await startAdminServer({
        listen,
        metrics: () => this.registry.metrics(),
        metricsContentType: this.registry.contentType,
        health: () => this.health(),
      });
      this.adminAddress = this.#admin.address;
    }
    const addresses = await this.edge.start();
    this.#log.info({ node: this.name, id: this.id, http: addresses.http, https: addresses.https, admin: this.adminAddress, version: this.appliedVersion }, 'edge node started');
    this.#heartbeat = setInterval(() => this.#beat(), Math.max(50, this.#o.config.deployment.heartbeatIntervalMs));
    this.#heartbeat.unref();
    this.#report();
  }

  /** Waits until the installation exists in the store (or a last-known copy is found). */
  async #firstSnapshot(): Promise<void> {
    let attempts = 0;
    while (!this.#closed) {
      try {
        const data = await this.#loadFromStore();
        this.#storeOk();
        if (!data.pki) throw new Error('the installation is not initialized yet (no PKI in the store)');
        this.#applyData(data);
        return;
      } catch (err) {
        // Another installation's store: serving anything would be wrong.
        if (err instanceof SecretKeyMismatchError) throw err;
        this.#storeFailed(err);
        attempts++;
        if (attempts === 1 && (await this.#startFromLastKnown())) return;
        if (attempts === 1 || attempts % 20 === 0) this.#log.warn({ err, attempts }, 'waiting for the store and installation before serving');
        await delay(this.#nextRetryDelay());
      }
    }
  }

  /** Serves the copy saved on local disk, if there is one that opens with this node's key. */
  async #startFromLastKnown(): Promise<boolean> {
    if (!this.#o.lastKnown) return false;
    let data: ConfigData | null;
    try {
      data = await this.#o.lastKnown.load();
    } catch (err) {
      this.#log.warn({ err }, 'cannot read the last known configuration');
      return false;
    }
    if (data === null) return false;
    try {
      this.#applyData(data, false);
    } catch (err) {
      this.#log.error({ err, version: data.version }, 'cannot build the last known configuration; waiting for the store');
      return false;
    }
    this.#fromLastKnown = true;
    this.#troubleSince ??= Date.now();
    this.#log.warn({ version: data.version }, 'store unreachable at start: serving the last known configuration from local disk');
    return true;
  }

  /** Checks the secret key first when the node started without the store; bounded in time. */
  async #loadFromStore(): Promise<ConfigData> {
    await this.#verifyKeyOnce();
    return this.#calls.run(() => this.#o.store.loadConfig(), this.#loadTimeoutMs, 'loading the configuration');
  }

  /**
   * What changed since the applied configuration, or null when everything must be loaded (no
   * index yet, serving the last-known copy, or a store that is behind it).
   */
  async #loadChangesFromStore(): Promise<ConfigChanges | null> {
    if (this.#index === null || this.#fromLastKnown) return null;
    await this.#verifyKeyOnce();
    const since = this.#index.version;
    return this.#calls.run(() => this.#o.store.loadConfigChanges(since), this.#loadTimeoutMs, 'loading configuration changes');
  }

  async #verifyKeyOnce(): Promise<void> {
    if (this.#keyVerified) return;
    await this.#calls.run(() => verifySecretKey(this.#o.store, this.#o.secretBox), this.#pingTimeoutMs, 'checking the secret key against the store');
    this.#keyVerified = true;
  }

  #requestRebuild(): void {
    this.#dirty = true;
    if (!this.#building && !this.#closed) void this.#rebuildLoop();
  }

  /** One build at a time; bursts of changes coalesce into one load of the latest state. */
  async #rebuildLoop(): Promise<void> {
    this.#building = true;
    try {
      while (this.#dirty && !this.#closed) {
        this.#dirty = false;
        let data: ConfigData | ConfigChanges;
        try {
          data = (await this.#loadChangesFromStore()) ?? (await this.#loadFromStore());
          this.#storeOk();
        } catch (err) {
          if (err instanceof SecretKeyMismatchError) return this.#fatal(err);
          this.#storeFailed(err);
          this.#log.warn({ err, version: this.appliedVersion }, 'cannot load the configuration; still serving the last snapshot');
          this.#scheduleRetry();
          return;
        }
        if (this.#closed) return;
        if (data.version === this.appliedVersion && !this.#fromLastKnown) continue;
        try {
          if (isChanges(data)) this.#applyChanges(data);
          else this.#applyData(data);
        } catch (err) {
          this.#index = null; // the next load is a full one
          this.#log.error({ err, version: data.version }, 'cannot build the snapshot; still serving the previous one');
        }
      }
    } finally {
      this.#building = false;
    }
  }

  /** A full load: every zone's routes are built anew. */
  #applyData(data: ConfigData, save = true): void {
    const started = performance.now();
    const index = ConfigIndex.of(data);
    this.#apply(this.#builder.build(index, null), started, save ? index : null);
    this.#index = index;
  }

  /** Changes since the applied version: only the zones they name are rebuilt. */
  #applyChanges(changes: ConfigChanges): void {
    const started = performance.now();
    const index = this.#index!;
    const { zoneIds } = index.apply(changes);
    this.#apply(this.#builder.build(index, zoneIds), started, index, zoneIds.size);
  }

  /** Swaps `snapshot` in; `saved`: the configuration to keep on local disk (null: the last-known copy itself). */
  #apply(snapshot: Snapshot, started: number, saved: ConfigIndex | null, zonesRebuilt?: number): void {
    const save = saved !== null;
    const built = performance.now();
    this.edge.apply(snapshot);
    this.#appliedAt = Date.now();
    if (save && this.#fromLastKnown) {
      this.#fromLastKnown = false;
      this.#log.info({ version: snapshot.version }, 'caught up with the store after serving the last known configuration');
    }
    if (save && this.#storeConnected) this.#troubleSince = null;
    const applied = performance.now();
    this.#buildSeconds.observe({ load: zonesRebuilt === undefined ? 'full' : 'changes' }, (applied - started) / 1000);
    this.#log.debug(
      { version: snapshot.version, zonesRebuilt: zonesRebuilt ?? 'all', buildMs: Math.round(built - started), applyMs: Math.round(applied - built) },
      'snapshot built',
    );
    if (saved !== null && this.#o.lastKnown) this.#o.lastKnown.save(() => saved.toData()).catch((err) => this.#log.warn({ err }, 'cannot save the last known configuration'));
    for (const w of this.#waiters.filter((w) => snapshot.version >= w.version)) w.resolve();
    this.#waiters = this.#waiters.filter((w) => snapshot.version < w.version);
    if (this.#heartbeat !== null) this.#report();
    this.#scheduleBoundary();
  }

  /**
   * A certificate uploaded ahead of its not_before is presented from then on with no config change
   * to announce it: the node rebuilds the zones concerned at that time, off the request path.
   */
  #scheduleBoundary(): void {
    if (this.#boundaryTimer !== null) clearTimeout(this.#boundaryTimer);
    this.#boundaryTimer = null;
    if (this.#closed) return;
    const at = this.#builder.nextChangeAt();
    if (at === null) return;
    // setTimeout's range is about 24 days; a far boundary is re-armed on the way.
    const wait = Math.min(BOUNDARY_MAX_WAIT_MS, Math.max(0, at - Date.now()));
    this.#boundaryTimer = setTimeout(() => {
      this.#boundaryTimer = null;
      this.#crossBoundary();
    }, wait);
    this.#boundaryTimer.unref();
  }

  #crossBoundary(): void {
    const index = this.#index;
    if (this.#closed || index === null) return;
    const now = Date.now();
    const due = this.#builder.dueZones(now);
    if (due.size === 0) return this.#scheduleBoundary();
    const started = performance.now();
    try {
      this.#apply(this.#builder.build(index, due, now), started, null, due.size);
    } catch (err) {
      this.#index = null; // the next load is a full one
      this.#log.error({ err, version: index.version }, 'cannot rebuild the snapshot at a certificate not_before; still serving the previous one');
      this.#requestRebuild();
    }
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== null || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#requestRebuild();
    }, this.#nextRetryDelay());
    this.#retryTimer.unref();
  }

  #nextRetryDelay(): number {
    const d = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryMax, this.#retryDelay * 2);
    return d;
  }

  #storeOk(): void {
    if (!this.#storeConnected && this.#lastStoreError !== null) this.#log.info('store reachable again');
    this.#storeConnected = true;
    this.#lastStoreError = null;
    this.#lastStoreContact = Date.now();
    this.#retryDelay = this.#retryMin;
    if (!this.#fromLastKnown) this.#troubleSince = null;
    this.edge.metrics?.setStoreUp(true);
  }

  #storeFailed(err: unknown): void {
    if (this.#storeConnected) this.#log.warn({ err, version: this.appliedVersion }, 'store unreachable; visitors are served from the applied snapshot');
    this.#storeConnected = false;
    this.#lastStoreError = err instanceof Error ? err.message : String(err);
    this.#troubleSince ??= Date.now();
    this.edge.metrics?.setStoreUp(false);
  }

  #fatal(err: Error): void {
    if (this.#closed) return;
    this.#log.error({ err }, 'edge node stops following the store');
    this.#stopFollowing();
    this.#o.onFatal?.(err);
  }

  /** Heartbeat: report the applied version, and catch up if a change notification was missed. */
  #beat(): void {
    this.#report();
    if (this.#building || this.#pinging) return;
    this.#pinging = true;
    this.#calls.run(() => this.#o.store.currentVersion(), this.#pingTimeoutMs, 'reading the config version')
      .then(
        (version) => {
          this.#storeOk();
          if (version !== this.appliedVersion || this.#fromLastKnown) this.#requestRebuild();
        },
        (err) => this.#storeFailed(err),
      )
      .finally(() => {
        this.#pinging = false;
      });
  }

  /** Reports the applied version now; overlapping reports coalesce into one more. */
  #report(): void {
    // Unverified key: this node might belong to another installation, so it does not report.
    if (this.#closed || !this.#keyVerified) return;
    if (this.#reporting) {
      this.#reportAgain = true;
      return;
    }
    this.#reporting = true;
    const report = { id: this.id, name: this.name, startedAt: this.startedAt, appliedVersion: this.appliedVersion };
    this.#calls.run(
      () => this.#o.store.reportEdge(report),
      this.#pingTimeoutMs,
      'reporting to the store',
    )
      .then(
        () => this.#storeOk(),
        (err) => {
          this.#storeFailed(err);
          this.#log.debug({ err }, 'heartbeat failed');
        },
      )
      .finally(() => {
        this.#reporting = false;
        if (this.#reportAgain) {
          this.#reportAgain = false;
          this.#report();
        }
      });
  }

  /** Null while the node serves the store's latest configuration with the store answering. */
  degraded(): DegradedState | null {
    const since = new Date(this.#troubleSince ?? Date.now()).toISOString();
    if (this.#fromLastKnown) return { reason: 'serving_last_known_config', since, detail: this.#lastStoreError };
    if (!this.#storeConnected) return { reason: 'store_unreachable', since, detail: this.#lastStoreError };
    return null;
  }

  health(): HealthReport {
    const applied = this.appliedVersion;
    const degraded = this.degraded();
    return {
      status: applied === 0 && this.#appliedAt === 0 ? 'starting' : degraded === null ? 'ok' : 'degraded',
      degraded,
      node: { id: this.id, name: this.name, pid: process.pid, startedAt: new Date(this.startedAt).toISOString() },
      appliedVersion: applied,
      appliedAt: this.#appliedAt ? new Date(this.#appliedAt).toISOString() : null,
      servingLastKnownConfig: this.#fromLastKnown,
      store: {
        kind: this.#o.store.kind,
        connected: this.#storeConnected,
        lastContactAt: this.#lastStoreContact ? new Date(this.#lastStoreContact).toISOString() : null,
        lastError: this.#lastStoreError,
      },
      listening: { http: this.addresses.http?.port ?? null, https: this.addresses.https?.port ?? null, admin: this.adminAddress?.port ?? null },
      routes: this.edge.snapshot.exact.size + this.edge.snapshot.associated.size + this.edge.snapshot.wildcards.size,
      problems: this.edge.snapshot.problems,
      pools: this.edge.poolCounts(),
      visitorTransport: this.edge.visitorTransportInfo,
    };
  }

  waitForVersion(version: number, timeoutMs = 10_000): Promise<void> {
    if (this.appliedVersion >= version) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`edge node did not apply version ${version} within ${timeoutMs} ms (at ${this.appliedVersion})`));
      }, timeoutMs);
      const waiter = {
        version,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
  }

  #stopFollowing(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    if (this.#boundaryTimer !== null) clearTimeout(this.#boundaryTimer);
    this.#heartbeat = null;
    this.#retryTimer = null;
    this.#boundaryTimer = null;
  }

  async close(): Promise<void> {
    this.#stopFollowing();
    await Promise.all([this.edge.close(), this.#admin?.close()]);
  }

  async destroy(): Promise<void> {
    this.#stopFollowing();
    this.#admin?.destroy();
    await this.edge.destroy();
  }
}

const BOUNDARY_MAX_WAIT_MS = 3_600_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Store calls by what they do. A call that timed out still holds a store connection until the
 * store's own query timeout drops it, so the same call is not started again before it settles:
 * loops that give up early on a partitioned store do not pile up connections until the pool is
 * exhausted.
 */
class StoreCalls {
  readonly #pending = new Set<string>();

  run<T>(call: () => Promise<T>, ms: number, what: string): Promise<T> {
    if (this.#pending.has(what)) return Promise.reject(new Error(`store has not answered the previous call yet (${what})`));
    this.#pending.add(what);
    const promise = call();
    promise.then(
      () => this.#pending.delete(what),
      () => this.#pending.delete(what),
    );
    return withTimeout(promise, ms, what);
  }
}

/** A store call that hangs (a silently dropped connection) must not hold the node's loops. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // setImmediate: after a long synchronous stretch (a big snapshot build) an answer that
    // arrived meanwhile is taken in the poll phase first, rather than read as a time-out.
    timer = setTimeout(() => setImmediate(() => reject(new Error(`store did not answer within ${ms} ms (${what})`))), ms);
    timer.unref();
  });
  promise.catch(() => {}); // a late failure after the timeout is not unhandled
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts an edge node; resolves once it serves its first snapshot (waiting for the store if needed). */
export async function startEdgeNode(opts: EdgeNodeOptions): Promise<EdgeNodeHandle> {
  const node = new EdgeNode(opts);
  try {
    await node.start();
  } catch (err) {
    await node.destroy().catch(() => {});
    throw err;
  }
  return node;
}

function isChanges(data: ConfigData | ConfigChanges): data is ConfigChanges {
  return 'removedZoneIds' in data;
}
