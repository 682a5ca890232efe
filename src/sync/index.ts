// Sync's public face: snapshot building and the edge node that follows the store.
export { buildSnapshot, SnapshotBuildCache } from './build-snapshot.ts';
export type { BuildSnapshotOptions } from './build-snapshot.ts';
export { startEdgeNode, edgeOptionsFromConfig } from './edge-node.ts';
export type { EdgeNodeOptions, EdgeNodeHandle, LastKnownConfig } from './edge-node.ts';
export { runEdgeWorkers, WORKER_HELLO, WORKER_CONFIG, WORKER_STARTED, WORKER_STATUS, WORKER_SHUTDOWN } from './edge-workers.ts';
export type { EdgeWorkersOptions, EdgeWorkersHandle, WorkerConfigMessage, WorkerStatusMessage } from './edge-workers.ts';
export { openEdgeStore } from './open-edge-store.ts';
export type { EdgeStore } from './open-edge-store.ts';
