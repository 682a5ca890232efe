// Entry of an edge worker process, forked by runEdgeWorkers (node:cluster). It asks the primary
// for the configuration over IPC (so secrets never sit in the environment), then runs one edge
// node on the shared listen addresses until told to stop.
// Tested in test/sync/edge-workers.test.ts and test/e2e/session-tickets.test.ts.
import cluster from 'node:cluster';
import { AggregatorRegistry, Registry, collectDefaultMetrics } from 'prom-client';
import {
  LastKnownConfigFile,
  lastKnownConfigPath,
  openEdgeStore,
  startEdgeNode,
  WORKER_CONFIG,
  WORKER_HELLO,
  WORKER_SHUTDOWN,
  WORKER_STARTED,
  WORKER_STATUS,
  type EdgeNodeHandle,
  type WorkerConfigMessage,
} from '../sync/index.ts';
import { applyEdgeRuntimeV8Flags } from '../edge-runtime.ts';
import { createLogger } from './logger.ts';
import { exitAfterLogs } from './shutdown.ts';

const send = (msg: object) => {
  if (process.connected) process.send!(msg);
};

async function run(msg: WorkerConfigMessage): Promise<void> {
  applyEdgeRuntimeV8Flags();
  const { config } = msg;
  const logger = createLogger(config.logLevel, 'edge', { worker: msg.index });
  const stopping = new AbortController();
  let node: EdgeNodeHandle | null = null;
  let stopped = false;
  const stop = async (code: number) => {
    if (stopped) return;
    stopped = true;
    stopping.abort();
    try {
      await node?.close();
    } catch (err) {
      logger.error({ err }, 'error while closing the edge node');
    }
    exitAfterLogs(logger, code);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === WORKER_SHUTDOWN) void stop(0);
  });
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGINT', () => void stop(0));
  // A hang-up sent to the whole process group (a closed terminal) is the primary's to handle (reload.ts).
  process.on('SIGHUP', () => {});
  // The primary is gone: nobody will restart or stop us.
  process.once('disconnect', () => void stop(0));

  const lastKnown = new LastKnownConfigFile(lastKnownConfigPath(config.dataDir, msg.snapshotName));
  const { store, secretBox, secretKeyVerified } = await openEdgeStore(config, logger, { signal: stopping.signal, lastKnown });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Answers the primary's metric requests (prom-client's cluster protocol) from this registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  node = await startEdgeNode({
    store,
    secretBox,
    config,
    logger,
    nodeName: msg.nodeName,
    metricsListen: null,
    registry,
    edge: { reusePort: true },
    lastKnown,
    secretKeyVerified,
    // The store belongs to another installation: exit; the primary logs it and restarts with back-off.
    onFatal: (err) => {
      process.stderr.write(`originpull edge worker: ${err.message}\n`);
      void stop(1);
    },
  });
  send({ type: WORKER_STARTED, health: node.health() });
  setInterval(() => send({ type: WORKER_STATUS, health: node!.health() }), Math.max(250, config.deployment.heartbeatIntervalMs)).unref();
}

// Also imported by a serving command before it starts (src/cli/main.ts), only to put this module
// in the compile cache before any worker is forked: there it does nothing.
if (cluster.isWorker) {
  process.once('message', (msg: { type?: string }) => {
    if (msg?.type !== WORKER_CONFIG) return;
    run(msg as WorkerConfigMessage).catch((err: Error) => {
      process.stderr.write(`originpull edge worker: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
  });
  send({ type: WORKER_HELLO });
} else if (typeof process.send !== 'function' && process.argv[1] === import.meta.filename) {
  process.stderr.write('originpull: edge-worker.ts is started by `originpull serve` / `originpull edge`, not directly\n');
  process.exit(2);
}
