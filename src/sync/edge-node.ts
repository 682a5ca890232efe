// An edge node: follows the store's change feed, rebuilds the snapshot off the request path and
// swaps it into the Edge, and reports the version it serves (the only source of `active`).
// Store failures never stop it: it keeps serving the last snapshot and says so in health/metrics.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config, ListenAddress } from '../config.ts';
import type { ConfigData } from '../domain/index.ts';
import { Edge, startAdminServer, type AdminServer, type EdgeAddresses, type EdgeOptions, type HealthReport } from '../edge/index.ts';
import type { SecretBox, Store } from '../store/index.ts';
import { buildSnapshot, SnapshotBuildCache } from './build-snapshot.ts';
import { readFileSync } from 'node:fs';

/**
 * Seam for the on-disk snapshot (issue 4): a local copy of the last applied configuration,
 * loaded when the store cannot be reached at start and saved after every successful load.
 */
export interface LastKnownConfig {
  load(): Promise<ConfigData | null>;
  save(data: ConfigData): Promise<void>;
}

export interface EdgeNodeOptions {
  store: Store;
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
    nodeTag: nodeName.split(/[.-]/)[0],
    logger,
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
  readonly #cache = new SnapshotBuildCache();
  readonly #retryMin: number;
  readonly #retryMax: number;
  #admin: AdminServer | null = null;
  #unsubscribe: (() => void) | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
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
  #waiters: { version: number; resolve: () => void }[] = [];

  constructor(o: EdgeNodeOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.name = o.nodeName ?? `${hostname()}-${process.pid}`;
    this.registry = o.registry ?? new Registry();
    if (o.registry === undefined) collectDefaultMetrics({ register: this.registry });
    this.#retryMin = o.retryMs?.min ?? 250;
    this.#retryMax = o.retryMs?.max ?? 5_000;
    this.#retryDelay = this.#retryMin;
    this.edge = new Edge({ ...edgeOptionsFromConfig(o.config, o.logger, this.name), registry: this.registry, ...o.edge });
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
        const data = await this.#o.store.loadConfig();
        this.#storeOk();
        if (!data.pki) throw new Error('the installation is not initialized yet (no PKI in the store)');
        this.#applyData(data);
        return;
      } catch (err) {
        this.#storeFailed(err);
        attempts++;
        if (attempts === 1 && this.#o.lastKnown) {
          const data = await this.#o.lastKnown.load().catch(() => null);
          if (data) {
            this.#log.warn({ version: data.version }, 'store unreachable at start: serving the last known configuration');
            this.#fromLastKnown = true;
            this.#applyData(data, false);
            this.#requestRebuild();
            return;
          }
        }
        if (attempts === 1 || attempts % 20 === 0) this.#log.warn({ err, attempts }, 'waiting for the store and installation before serving');
        await delay(this.#nextRetryDelay());
      }
    }
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
        let data: ConfigData;
        try {
          data = await this.#o.store.loadConfig();
          this.#storeOk();
        } catch (err) {
          this.#storeFailed(err);
          this.#log.warn({ err, version: this.appliedVersion }, 'cannot load the configuration; still serving the last snapshot');
          this.#scheduleRetry();
          return;
        }
        if (this.#closed) return;
        if (data.version === this.appliedVersion && !this.#fromLastKnown) continue;
        try {
          this.#applyData(data);
        } catch (err) {
          this.#log.error({ err, version: data.version }, 'cannot build the snapshot; still serving the previous one');
        }
      }
    } finally {
      this.#building = false;
    }
  }

  #applyData(data: ConfigData, save = true): void {
    const started = performance.now();
    const snapshot = buildSnapshot(data, this.#o.secretBox, { cache: this.#cache });
    const built = performance.now();
    this.edge.apply(snapshot);
    this.#appliedAt = Date.now();
    if (save) this.#fromLastKnown = false;
    this.#log.debug({ version: snapshot.version, buildMs: Math.round(built - started), applyMs: Math.round(performance.now() - built) }, 'snapshot built');
    if (save && this.#o.lastKnown) this.#o.lastKnown.save(data).catch((err) => this.#log.warn({ err }, 'cannot save the last known configuration'));
    for (const w of this.#waiters.filter((w) => snapshot.version >= w.version)) w.resolve();
    this.#waiters = this.#waiters.filter((w) => snapshot.version < w.version);
    if (this.#heartbeat !== null) this.#report();
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
    this.edge.metrics?.setStoreUp(true);
  }

  #storeFailed(err: unknown): void {
    this.#storeConnected = false;
    this.#lastStoreError = err instanceof Error ? err.message : String(err);
    this.edge.metrics?.setStoreUp(false);
  }

  /** Heartbeat: report the applied version, and catch up if a change notification was missed. */
  #beat(): void {
    this.#report();
    if (this.#building) return;
    this.#o.store.currentVersion().then(
      (version) => {
        this.#storeOk();
        if (version !== this.appliedVersion || this.#fromLastKnown) this.#requestRebuild();
      },
      (err) => this.#storeFailed(err),
    );
  }

  /** Reports the applied version now; overlapping reports coalesce into one more. */
  #report(): void {
    if (this.#closed) return;
    if (this.#reporting) {
      this.#reportAgain = true;
      return;
    }
    this.#reporting = true;
    this.#o.store
      .reportEdge({ id: this.id, name: this.name, startedAt: this.startedAt, appliedVersion: this.appliedVersion })
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

  health(): HealthReport {
    const applied = this.appliedVersion;
    return {
      status: applied === 0 && this.#appliedAt === 0 ? 'starting' : this.#storeConnected && !this.#fromLastKnown ? 'ok' : 'degraded',
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
      routes: this.edge.snapshot.exact.size + this.edge.snapshot.wildcards.size,
      problems: this.edge.snapshot.problems,
      pools: this.edge.poolCounts(),
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
    this.#heartbeat = null;
    this.#retryTimer = null;
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
