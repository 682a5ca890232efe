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

interface Slot {
  index: number;
  worker: Worker | null;
  health: HealthReport | null;
  /** Restarts since the worker last ran healthily for resetAfterMs. */
  restarts: number;
}

/** Forks `n` edge workers and resolves once every one of them listens. */
export async function runEdgeWorkers(config: Readonly<Config>, n: number, opts: EdgeWorkersOptions = {}): Promise<EdgeWorkersHandle> {
  if (!cluster.isPrimary) throw new Error('runEdgeWorkers must be called from the primary process');
  const logger = opts.logger ?? pino({ level: config.logLevel, name: 'edge-workers' });
  const baseName = opts.nodeName ?? `${hostname()}-${process.pid}`;
  // Workers run the same Node with the same flags, minus the test runner's own, plus the edge's
  // memory bounds (src/edge-runtime.ts).
  const execArgv = withEdgeFlags(process.execArgv.filter((a) => !a.startsWith('--test')), process.env.NODE_OPTIONS);
  const workerEnv = edgeEnvAdditions(process.env);
  cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], execArgv });
  const aggregator = new AggregatorRegistry();
  const backoff: RestartBackoff = { ...RESTART_BACKOFF, ...opts.restartBackoff };
  const slots: Slot[] = Array.from({ length: n }, (_, index) => ({ index, worker: null, health: null, restarts: 0 }));
  let closing = false;
  // Until every first worker listens, a worker dying before it listens is a failed start; later
  // it is one more death to restart (a replacement can die before it listens, too).
  let starting = true;
  let started = 0;
  let resolveStarted!: () => void;
  let rejectStarted!: (err: Error) => void;
  const allStarted = new Promise<void>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });

  const fork = (slot: Slot) => {
    const worker = cluster.fork({ ...workerEnv, ORIGINPULL_EDGE_WORKER: String(slot.index) });
    slot.worker = worker;
    let workerStarted = false;
    let startedAt = 0;
    worker.on('message', (msg: { type?: string }) => {
      if (msg?.type === WORKER_HELLO) {
        const message: WorkerConfigMessage = {
          type: WORKER_CONFIG,
          config: { ...config },
          index: slot.index,
          nodeName: `${baseName}-w${slot.index}`,
          snapshotName: `${opts.snapshotName ?? 'edge'}-w${slot.index}`,
        };
        worker.send(message);
      } else if (msg?.type === WORKER_STARTED || msg?.type === WORKER_STATUS) {
        slot.health = (msg as WorkerStatusMessage).health;
        if (msg.type === WORKER_STARTED && !workerStarted) {
          workerStarted = true;
          startedAt = Date.now();
          if (++started === n) {
            starting = false;
            resolveStarted();
          }
        }
      }
    });
    worker.on('exit', (code, signal) => {
      slot.worker = null;
      slot.health = null;
      if (closing) return;
      if (starting && !workerStarted) {
        rejectStarted(new Error(`edge worker ${slot.index} exited before it started (code ${code}, signal ${signal}); see its log`));
        return;
      }
      if (workerStarted) started--;
      if (workerStarted && Date.now() - startedAt >= backoff.resetAfterMs) slot.restarts = 0;
      const wait = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(slot.restarts++, 16));
      logger.error({ worker: slot.index, code, signal, restartInMs: wait }, 'edge worker died; restarting');
      setTimeout(() => {
        if (!closing) fork(slot);
      }, wait).unref();
    });
  };
  for (const slot of slots) fork(slot);

  const health = (): HealthReport => {
    const workers = slots.map((s) => ({ index: s.index, pid: s.worker?.process.pid ?? null, health: s.health }));
    const statuses = workers.map((w) => w.health?.status ?? 'starting');
    const status = statuses.every((s) => s === 'ok') ? 'ok' : statuses.some((s) => s === 'ok' || s === 'degraded') ? 'degraded' : 'starting';
    return { status, workers };
  };

  const killAll = () => {
    for (const s of slots) s.worker?.process.kill('SIGKILL');
  };

  try {
    await allStarted;
  } catch (err) {
    closing = true;
    killAll();
    throw err;
  }

  const listen = opts.metricsListen === undefined ? config.metricsListen : opts.metricsListen;
  let admin: AdminServer | null = null;
  if (listen !== null) {
    admin = await startAdminServer({
      listen,
      metrics: () => aggregator.clusterMetrics(),
      metricsContentType: aggregator.contentType,
      health,
    });
  }
  logger.info({ workers: n, admin: admin?.address ?? null }, 'edge workers started');

  const waitExit = (timeoutMs: number) =>
    Promise.all(
      slots.map(
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

  return {
    size: n,
    adminAddress: admin?.address ?? null,
    health,
    async close() {
      closing = true;
      for (const s of slots) if (s.worker?.isConnected()) s.worker.send({ type: WORKER_SHUTDOWN });
      await Promise.all([waitExit(opts.closeTimeoutMs ?? config.timeouts.responseMs + 5_000), admin?.close()]);
    },
    async destroy() {
      closing = true;
      admin?.destroy();
      killAll();
      await waitExit(2_000);
    },
  };
}
