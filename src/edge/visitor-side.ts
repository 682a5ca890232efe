// What the edge holds of an open visitor connection, HTTP/1 or HTTP/2 (the visitor side of one
// request, VisitorSide, is in request-ctx.ts with the request's other collaborators).
// Tested in test/regressions/graceful-close-fresh-connections.test.ts and http2-vanished-visitor.test.ts.

/** An open visitor connection as the edge holds it: an HTTP/1 connection or an HTTP/2 session. */
export interface OpenVisitor {
  /** Called by the edge's sweep: past its deadline (idle, or a visitor reading nothing), it is cut. */
  expire(now: number): void;
  /** Edge shutdown: what is under way finishes, nothing new is read, then it closes. */
  shutdown(): void;
  destroy(): void;
}
