// The visitor side of a request, as the phases and the origin connection see it: what an HTTP/1
// visitor connection (visitor-connection.ts) and an HTTP/2 stream (http2-stream.ts) both offer.
// The phases answer in HTTP/1.1 head text (status line and fields); an HTTP/2 stream translates
// it (http2-head.ts), so the HTTP/1 path writes its heads as it always did, without a detour.
import type { ReadBlock } from './read-blocks.ts';
import type { RequestCtx } from './request-ctx.ts';

/** Where a request body goes: the origin connection carrying the exchange. */
export interface BodySink {
  /** False under back-pressure: the visitor side pauses until resumeBody(). */
  writeBody(chunk: Buffer): boolean;
  endBody(): void;
  /** The body broke: the exchange ends for good. */
  abort(err: Error): void;
}

export interface VisitorSide {
  /** An HTTP/2 stream (false: an HTTP/1 connection). */
  readonly http2: boolean;
  /** No further request will be read on this connection. */
  readonly closing: boolean;
  /** Part of the current request's body is still unread. */
  readonly bodyPending: boolean;
  /** The request has a body (its framing is on `ctx`): it is held until pipeBody. */
  expectBody(ctx: RequestCtx): void;
  /** The origin connection is ready for the body (answer 100-continue first when asked). */
  pipeBody(sink: BodySink, expectContinue: boolean): void;
  /** The origin connection drained: read more of the body. */
  resumeBody(): void;
  /** A head without a body (HTTP/1.1 text, blank line included). */
  writeHead(head: string): void;
  /** A head and the first body bytes; `block` is lent while the write points into it. False under back-pressure. */
  writeHeadAndBody(head: string, body: Buffer, block: ReadBlock | null): boolean;
  /** More of the body; false under back-pressure (wait for onDrain). */
  write(chunk: Buffer, block: ReadBlock): boolean;
  /** Calls `fn` once the visitor has taken what was written (the send timeout runs meanwhile). */
  onDrain(fn: () => void): void;
  /** The response is complete (`ctx.trailers` holds the origin's trailer section, if kept). */
  responseFinished(ctx: RequestCtx): void;
  /** Cuts the answer: the only honest signal once a head was sent. */
  destroy(): void;
}

/** An open visitor connection as the edge holds it: an HTTP/1 connection or an HTTP/2 session. */
export interface OpenVisitor {
  /** Called by the edge's sweep: past its deadline (idle, or a visitor reading nothing), it is cut. */
  expire(now: number): void;
  /** Edge shutdown: what is under way finishes, nothing new is read, then it closes. */
  shutdown(): void;
  destroy(): void;
}
