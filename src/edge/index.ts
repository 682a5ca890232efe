// The edge's public face. It never imports store/ or api/: it serves a Snapshot built elsewhere.
export { Edge } from './edge.ts';
export type { EdgeOptions, EdgeAddresses, ListenAt, VisitorTransportInfo } from './edge.ts';
export { DEFAULT_VISITOR_POLICY, EMPTY_SNAPSHOT, findRoute, nearestWildcard, originTarget, peerKeyOf, routeForHost } from './snapshot.ts';
export type { AcmeHttpAnswer, AopPick, EdgeCaMaterial, OriginTarget, PeerKey, Route, Snapshot, VisitorPolicy } from './snapshot.ts';
export { ClientIdentity, ServerIdentity, TrustStore, splitPemCertificates } from './tls-material.ts';
export type { ClientIdentityInit, ServerIdentityInit, VisitorCertificateSource, VisitorCertificateTable } from './tls-material.ts';
export { selectVisitorCertificate } from './edge-certificates.ts';
export { LayeredMap } from './layered-map.ts';
export {
  EdgeError,
  NotProxiedHostError,
  UnknownHostError,
  BadRequestError,
  OriginError,
  OriginRefusedError,
  OriginConnectTimeoutError,
  OriginUnreachableError,
  OriginResponseTimeoutError,
  OriginHandshakeError,
  OriginCertificateError,
  ClientCertificateUnusableError,
} from './errors.ts';
export { classifyUpstreamError, markConnectError } from './classify-upstream-error.ts';
export { renderErrorPage } from './error-page.ts';
export { EdgeMetrics } from './metrics.ts';
export { startAdminServer } from './admin-server.ts';
export type { AdminServer, AdminServerOptions, HealthReport } from './admin-server.ts';
export {
  requestChannel,
  upstreamErrorChannel,
  upstreamConnectChannel,
  poolRetiredChannel,
  snapshotAppliedChannel,
} from './observe.ts';
export type { UpstreamConnectEvent, PoolRetiredEvent, UpstreamTimeouts } from './upstream-pools.ts';
export type { TicketKeys } from './snapshot.ts';
