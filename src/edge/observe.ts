// Observation points of the edge. The request path only publishes (and only when someone
// listens); logs and metrics subscribe from outside the path (STYLE rule 13).
// Tested in test/edge/observability.test.ts and test/edge/access-log.test.ts.
import diagnostics from 'node:diagnostics_channel';

/** A finished request: the message is the RequestCtx itself (no copy). */
export const requestChannel = diagnostics.channel('originpull:edge:request');
/** A failed origin exchange: { ctx, error } with the classified OriginError. */
export const upstreamErrorChannel = diagnostics.channel('originpull:edge:upstream-error');
/** A new origin connection (or a failed attempt): UpstreamConnectEvent. */
export const upstreamConnectChannel = diagnostics.channel('originpull:edge:upstream-connect');
/** A pool was retired (identity changed, removed, or its certificate expired): PoolRetiredEvent. */
export const poolRetiredChannel = diagnostics.channel('originpull:edge:pool-retired');
/** A snapshot was applied: SnapshotAppliedEvent. */
export const snapshotAppliedChannel = diagnostics.channel('originpull:edge:snapshot-applied');
/** A visitor HTTP/2 session ended: Http2SessionEvent (why, streams it carried, resets it made). */
export const http2SessionChannel = diagnostics.channel('originpull:edge:http2-session');
