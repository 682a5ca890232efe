// An edge node: follows the store's change feed, rebuilds the snapshot off the request path and
// swaps it into the Edge, and reports the version it serves (the only source of `active`).
// Store failures never stop it: it keeps serving the last snapshot and says so in health/metrics.
// Static stability: every applied snapshot's input is saved to local disk (LastKnownConfig),
// and an edge that cannot reach the store at start serves that copy until the store answers.
// The node runs the rebuild loop; what it knows of the store's availability is StoreHealth's
// (store-health.ts), and the reports of its version go through EdgeReporter (edge-reporter.ts).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Config, ListenAddress } from '../config.ts';
import type { ConfigChanges, ConfigData } from '../domain/index.ts';
import { Edge, startAdminServer, type AdminServer, type Snapshot, type EdgeAddresses, type EdgeOptions, type HealthReport } from '../edge/index.ts';
import { SecretKeyMismatchError, verifySecretKey, type EdgeNodeStore, type SecretBox } from '../store/index.ts';
import { SnapshotBuilder } from './build-snapshot.ts';
import { ConfigIndex } from './config-index.ts';
import { EdgeReporter } from './edge-reporter.ts';
import { StoreCalls } from './store-calls.ts';
import { StoreHealth, type DegradedState } from './store-health.ts';
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
  readonly #health: StoreHealth;
  readonly #reporter: EdgeReporter;
  #admin: AdminServer | null = null;
  #unsubscribe: (() => void) | null = null;
  /** Fires when an AOP certificate reaches its not_before (SnapshotBuilder.nextChangeAt). */
  #boundaryTimer: NodeJS.Timeout | null = null;
  #dirty = false;
  #building = false;
  #closed = false;
  #appliedAt = 0;
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
    this.#keyVerified = o.secretKeyVerified ?? true;
    const beat = Math.max(50, o.config.deployment.heartbeatIntervalMs);
    this.#loadTimeoutMs = o.storeTimeoutMs?.load ?? 15_000;
    this.#pingTimeoutMs = o.storeTimeoutMs?.ping ?? Math.max(2_000, 2 * beat);
    this.edge = new Edge({ ...edgeOptionsFromConfig(o.config, o.logger, this.name), registry: this.registry, ...o.edge });
    this.#health = new StoreHealth({ edge: this.edge, logger: o.logger, registry: this.registry, retryMs: { min: o.retryMs?.min ?? 250, max: o.retryMs?.max ?? 5_000 } });
    this.#reporter = new EdgeReporter({
      store: o.store,
      node: this,
      contact: this.#health,
      calls: this.#calls,
      logger: o.logger,
      intervalMs: beat,
      timeoutMs: this.#pingTimeoutMs,
      mayReport: () => this.#keyVerified,
      onHeartbeat: () => this.#checkVersion(),
    });
    this.#buildSeconds = new Histogram({
      name: 'originpull_edge_snapshot_build_seconds',
      help: 'Time to build and apply a snapshot on the event loop (visitors wait meanwhile), by load: full (start, store behind) or changes (the zones written to)',
      labelNames: ['load'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
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
    this.#reporter.start();
  }

  /** Waits until the installation exists in the store (or a last-known copy is found). */
  async #firstSnapshot(): Promise<void> {
    let attempts = 0;
    while (!this.#closed) {
      try {
        const data = await this.#loadFromStore();
        this.#health.ok();
        if (!data.pki) throw new Error('the installation is not initialized yet (no PKI in the store)');
        this.#applyData(data);
        return;
      } catch (err) {
        // Another installation's store: serving anything would be wrong.
        if (err instanceof SecretKeyMismatchError) throw err;
        this.#health.failed(err);
        attempts++;
        if (attempts === 1 && (await this.#startFromLastKnown())) return;
        if (attempts === 1 || attempts % 20 === 0) this.#log.warn({ err, attempts }, 'waiting for the store and installation before serving');
        await delay(this.#health.nextRetryDelay());
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
    this.#health.servingFromLastKnown();
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
    if (this.#index === null || this.#health.servingLastKnown) return null;
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
          this.#health.ok();
        } catch (err) {
          if (err instanceof SecretKeyMismatchError) return this.#fatal(err);
          this.#health.failed(err);
          this.#log.warn({ err, version: this.appliedVersion }, 'cannot load the configuration; still serving the last snapshot');
          this.#health.retryLater(() => this.#requestRebuild());
          return;
        }
        if (this.#closed) return;
        if (data.version === this.appliedVersion && !this.#health.servingLastKnown) continue;
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
    if (save) this.#health.appliedFromStore(snapshot.version);
    const applied = performance.now();
    this.#buildSeconds.observe({ load: zonesRebuilt === undefined ? 'full' : 'changes' }, (applied - started) / 1000);
    this.#log.debug(
      { version: snapshot.version, zonesRebuilt: zonesRebuilt ?? 'all', buildMs: Math.round(built - started), applyMs: Math.round(applied - built) },
      'snapshot built',
    );
    if (saved !== null && this.#o.lastKnown) this.#o.lastKnown.save(() => saved.toData()).catch((err) => this.#log.warn({ err }, 'cannot save the last known configuration'));
    for (const w of this.#waiters.filter((w) => snapshot.version >= w.version)) w.resolve();
    this.#waiters = this.#waiters.filter((w) => snapshot.version < w.version);
    this.#reporter.report();
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

  #fatal(err: Error): void {
    if (this.#closed) return;
    this.#log.error({ err }, 'edge node stops following the store');
    this.#stopFollowing();
    this.#o.onFatal?.(err);
  }

  /** On each heartbeat: catch up if a change notification was missed. */
  #checkVersion(): void {
    if (this.#building || this.#pinging) return;
    this.#pinging = true;
    this.#calls.run(() => this.#o.store.currentVersion(), this.#pingTimeoutMs, 'reading the config version')
      .then(
        (version) => {
          this.#health.ok();
          if (version !== this.appliedVersion || this.#health.servingLastKnown) this.#requestRebuild();
        },
        (err) => this.#health.failed(err),
      )
      .finally(() => {
        this.#pinging = false;
      });
  }

  degraded(): DegradedState | null {
    return this.#health.degraded();
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
      servingLastKnownConfig: this.#health.servingLastKnown,
      store: { kind: this.#o.store.kind, ...this.#health.report() },
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
    this.#reporter.close();
    this.#health.close();
    if (this.#boundaryTimer !== null) clearTimeout(this.#boundaryTimer);
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
