// Sync's public face: snapshot building, the edge node that follows the store, its copy of the
// last applied configuration on disk, and the registry upkeep API nodes run.
export { buildSnapshot, SnapshotBuildCache, SnapshotBuilder } from './build-snapshot.ts';
export { ConfigIndex, type ZoneConfig } from './config-index.ts';
export type { BuildSnapshotOptions } from './build-snapshot.ts';
export { startEdgeNode, edgeOptionsFromConfig } from './edge-node.ts';
export type { EdgeNodeOptions, EdgeNodeHandle, LastKnownConfig } from './edge-node.ts';
export type { DegradedState } from './store-health.ts';
export { LastKnownConfigFile, LastKnownConfigError, lastKnownConfigPath } from './last-known-file.ts';
export { runEdgeWorkers, RESTART_BACKOFF, WORKER_HELLO, WORKER_CONFIG, WORKER_STARTED, WORKER_STATUS, WORKER_SHUTDOWN } from './edge-workers.ts';
export type { EdgeWorkersOptions, EdgeWorkersHandle, RestartBackoff, WorkerConfigMessage, WorkerStatusMessage } from './edge-workers.ts';
export { openEdgeStore } from './open-edge-store.ts';
export type { EdgeStore, OpenEdgeStoreOptions } from './open-edge-store.ts';
export { startRegistryJanitor } from './registry-janitor.ts';
export { startTicketRotator } from './ticket-rotator.ts';
export type { TicketRotator, TicketRotatorOptions } from './ticket-rotator.ts';
export type { RegistryJanitor, RegistryJanitorOptions, JanitorRun } from './registry-janitor.ts';
