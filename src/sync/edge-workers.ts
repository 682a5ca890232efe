// Edge worker processes (node:cluster): each worker runs its own edge node on the same listen
// addresses (SO_REUSEPORT, so the kernel spreads connections without a hop through this
// process). The primary aggregates their metrics and health on the admin listener and restarts
// a worker that dies.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { edgeEnvAdditions, withEdgeFlags } from '../edge-runtime.ts';
import type { Config, ListenAddress } from '../config.ts';
import { startAdminServer, type AdminServer, type HealthReport } from '../edge/index.ts';

/** Primary ↔ worker messages. */
export const WORKER_HELLO = 'originpull:edge-worker:hello';
export const WORKER_CONFIG = 'originpull:edge-worker:config';
export const WORKER_STARTED = 'originpull:edge-worker:started';
export const WORKER_STATUS = 'originpull:edge-worker:status';
export const WORKER_SHUTDOWN = 'originpull:edge-worker:shutdown';

export interface WorkerConfigMessage {
  type: typeof WORKER_CONFIG;
  config: Config;
  index: number;
  nodeName: string;
  /** Names the worker's last known configuration file (stable across restarts, unlike nodeName). */
  snapshotName: string;
}

export interface WorkerStatusMessage {
  type: typeof WORKER_STATUS | typeof WORKER_STARTED;
  health: HealthReport;
}

export interface EdgeWorkersOptions {
  logger?: Logger;
  /** Aggregated /metrics + /healthz; default config.metricsListen; null for none. */
  metricsListen?: ListenAddress | null;
  /** Base of the node names workers report (`<base>-w<i>`). */
  nodeName?: string;
  /** Base of the workers' last known configuration files (`<base>-w<i>`). Default `edge`. */
  snapshotName?: string;
  /** How long close() waits for workers to drain before killing them. */
  closeTimeoutMs?: number;
  /** Restart delays of a dying worker; defaults in RESTART_BACKOFF. */
  restartBackoff?: Partial<RestartBackoff>;
}

export interface RestartBackoff {
  /** The first restart waits this long, each further one twice as long as the one before… */
  minMs: number;
  /** …up to this. */
  maxMs: number;
  /**
   * A worker that served this long before it died was healthy: its restart is quick again. A
   * worker that keeps dying soon after it starts stays backed off.
   */
  resetAfterMs: number;
}

export const RESTART_BACKOFF: Readonly<RestartBackoff> = { minMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export interface EdgeWorkersHandle {
  readonly size: number;
  readonly adminAddress: AddressInfo | null;
  /** Latest health reported by each worker. */
  health(): HealthReport;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('../cli/edge-worker.ts', import.meta.url));

/** One worker's place: its index stays, the process in it is replaced when it dies. */
interface Slot {
  index: number;
  worker: Worker | null;
  health: HealthReport | null;
  /** True once the current worker said it listens. */
  listening: boolean;
  /** When the current worker began to listen. */
  listeningSince: number;
  /** Restarts since the worker last ran healthily for resetAfterMs. */
  restarts: number;
}

/** Forks `n` edge workers and resolves once every one of them listens. */
export async function runEdgeWorkers(config: Readonly<Config>, n: number, opts: EdgeWorkersOptions = {}): Promise<EdgeWorkersHandle> {
  const supervisor = new EdgeWorkerSupervisor(config, n, opts);
  await supervisor.start();
  return supervisor;
}

/** The primary's side of the edge workers: forks them, restarts the dead ones, stops them. */
export class EdgeWorkerSupervisor implements EdgeWorkersHandle {
  readonly size: number;
  readonly #config: Readonly<Config>;
  readonly #opts: EdgeWorkersOptions;
  readonly #log: Logger;
  readonly #baseName: string;
  readonly #backoff: RestartBackoff;
  readonly #workerEnv: NodeJS.ProcessEnv;
  readonly #aggregator = new AggregatorRegistry();
  readonly #slots: Slot[];
  #admin: AdminServer | null = null;
  #closing = false;
  // Until every first worker listens, a worker dying before it listens is a failed start; later
  // it is one more death to restart (a replacement can die before it listens, too).
  #starting = true;
  #listening = 0;
  readonly #started: PromiseWithResolvers<void> = Promise.withResolvers();

  constructor(config: Readonly<Config>, n: number, opts: EdgeWorkersOptions = {}) {
    if (!cluster.isPrimary) throw new Error('runEdgeWorkers must be called from the primary process');
    this.size = n;
    this.#config = config;
    this.#opts = opts;
    this.#log = opts.logger ?? pino({ level: config.logLevel, name: 'edge-workers' });
    this.#baseName = opts.nodeName ?? `${hostname()}-${process.pid}`;
    this.#backoff = { ...RESTART_BACKOFF, ...opts.restartBackoff };
    this.#workerEnv = edgeEnvAdditions(process.env);
    this.#slots = Array.from({ length: n }, (_, index) => ({ index, worker: null, health: null, listening: false, listeningSince: 0, restarts: 0 }));
  }

  get adminAddress(): AddressInfo | null {
    return this.#admin?.address ?? null;
  }

  /** Forks every worker; resolves once all of them listen, then opens the aggregated admin listener. */
  async start(): Promise<void> {
    // Workers run the same Node with the same flags, minus the test runner's own, plus the edge's
    // memory bounds (src/edge-runtime.ts).
    const execArgv = withEdgeFlags(process.execArgv.filter((a) => !a.startsWith('--test')), process.env.NODE_OPTIONS);
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], execArgv });
    for (const slot of this.#slots) this.#fork(slot);
    try {
      await this.#started.promise;
    } catch (err) {
      this.#closing = true;
      this.#killAll();
      throw err;
    }
    const listen = this.#opts.metricsListen === undefined ? this.#config.metricsListen : this.#opts.metricsListen;
    if (listen !== null) {
      this.#admin = await startAdminServer({
        listen,
        metrics: () => this.#aggregator.clusterMetrics(),
        metricsContentType: this.#aggregator.contentType,
        health: () => this.health(),
      });
    }
    this.#log.info({ workers: this.size, admin: this.adminAddress }, 'edge workers started');
  }

  #fork(slot: Slot): void {
    const worker = cluster.fork({ ...this.#workerEnv, ORIGINPULL_EDGE_WORKER: String(slot.index) });
    slot.worker = worker;
    slot.listening = false;
    worker.on('message', (msg: { type?: string }) => this.#onMessage(slot, worker, msg));
    worker.on('exit', (code, signal) => this.#onExit(slot, code, signal));
  }

  #onMessage(slot: Slot, worker: Worker, msg: { type?: string }): void {
    if (msg?.type === WORKER_HELLO) {
      worker.send(this.#configFor(slot));
    } else if (msg?.type === WORKER_STARTED || msg?.type === WORKER_STATUS) {
      slot.health = (msg as WorkerStatusMessage).health;
      if (msg.type === WORKER_STARTED && !slot.listening) this.#onListening(slot);
    }
  }

  /** What a worker asked for at its start: the configuration over IPC, so secrets never sit in its environment. */
  #configFor(slot: Slot): WorkerConfigMessage {
    return {
      type: WORKER_CONFIG,
      config: { ...this.#config },
      index: slot.index,
      nodeName: `${this.#baseName}-w${slot.index}`,
      snapshotName: `${this.#opts.snapshotName ?? 'edge'}-w${slot.index}`,
    };
  }

  #onListening(slot: Slot): void {
    slot.listening = true;
    slot.listeningSince = Date.now();
    if (++this.#listening === this.size) {
      this.#starting = false;
      this.#started.resolve();
    }
  }

  #onExit(slot: Slot, code: number | null, signal: string | null): void {
    const listened = slot.listening;
    slot.worker = null;
    slot.health = null;
    slot.listening = false;
    if (this.#closing) return;
    if (this.#starting && !listened) {
      this.#started.reject(new Error(`edge worker ${slot.index} exited before it started (code ${code}, signal ${signal}); see its log`));
      return;
    }
    if (listened) this.#listening--;
    if (listened && Date.now() - slot.listeningSince >= this.#backoff.resetAfterMs) slot.restarts = 0;
    const wait = this.#restartDelay(slot);
    this.#log.error({ worker: slot.index, code, signal, restartInMs: wait }, 'edge worker died; restarting');
    setTimeout(() => {
      if (!this.#closing) this.#fork(slot);
    }, wait).unref();
  }

  /** Twice the slot's previous delay, from minMs up to maxMs; counts the restart. */
  #restartDelay(slot: Slot): number {
    const { minMs, maxMs } = this.#backoff;
    return Math.min(maxMs, minMs * 2 ** Math.min(slot.restarts++, 16));
  }

  /** Latest health reported by each worker. */
  health(): HealthReport {
    const workers = this.#slots.map((s) => ({ index: s.index, pid: s.worker?.process.pid ?? null, health: s.health }));
    const statuses = workers.map((w) => w.health?.status ?? 'starting');
    const status = statuses.every((s) => s === 'ok') ? 'ok' : statuses.some((s) => s === 'ok' || s === 'degraded') ? 'degraded' : 'starting';
    return { status, workers };
  }

  /** Graceful: asks every worker to drain and stop, and kills those still running after closeTimeoutMs. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const s of this.#slots) if (s.worker?.isConnected()) s.worker.send({ type: WORKER_SHUTDOWN });
    await Promise.all([this.#waitExit(this.#opts.closeTimeoutMs ?? this.#config.timeouts.responseMs + 5_000), this.#admin?.close()]);
  }

  async destroy(): Promise<void> {
    this.#closing = true;
    this.#admin?.destroy();
    this.#killAll();
    await this.#waitExit(2_000);
  }

  #killAll(): void {
    for (const s of this.#slots) s.worker?.process.kill('SIGKILL');
  }

  /** Resolves once every worker has exited; one still running after `timeoutMs` is killed. */
  #waitExit(timeoutMs: number): Promise<unknown> {
    return Promise.all(
      this.#slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            const w = s.worker;
            if (w === null || w.isDead()) return resolve();
            const timer = setTimeout(() => {
              w.process.kill('SIGKILL');
              resolve();
            }, timeoutMs);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}
