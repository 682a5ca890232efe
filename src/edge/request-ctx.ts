// Per-request state, one class with every field declared so all requests share one shape. The
// visitor connection creates it from the parsed head; the phases fill it in; logs and metrics
// read it when it is published at the end.
//
// A request's collaborators are typed here by the small interfaces the request needs of them (its
// visitor side, the pool of its peer, the origin connection it went out on, the handler that
// connection reports the answer to), not by the classes that implement them: those classes import
// this module, and it imports none of them, so the edge's modules form no circle and each can be
// tested alone.
// Tested in test/edge/phases.test.ts and test/edge/phases-respond.test.ts.
import type { Socket } from 'node:net';
import type { TlsVersion } from './client-hello.ts';
import type { EdgeError } from './errors.ts';
import type { RequestFacts } from './headers.ts';
import type { RequestHead } from './http1/head.ts';
import type { RayIds } from './ray-id.ts';
import type { ReadBlock } from './read-blocks.ts';
import type { PeerKey, Route, Snapshot } from './snapshot.ts';

/** Where a request body goes: the origin connection carrying the exchange. */
export interface BodySink {
  /** False under back-pressure: the visitor side pauses until resumeBody(). */
  writeBody(chunk: Buffer): boolean;
  endBody(): void;
  /** The body broke: the exchange ends for good. */
  abort(err: Error): void;
}

/**
 * The visitor side of a request, as the phases and the origin connection see it: what an HTTP/1
 * visitor connection (visitor-connection.ts) and an HTTP/2 stream (http2-stream.ts) both offer.
 * The phases answer in HTTP/1.1 head text (status line and fields); an HTTP/2 stream translates
 * it (http2-head.ts), so the HTTP/1 path writes its heads as it always did, without a detour.
 */
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
  /**
   * The origin accepted an upgrade (101, relayed): bytes flow both ways from now on, through the
   * tunnel this returns. Only HTTP/1 visitors ask for one (HTTP/2 requests carrying Upgrade are
   * refused in http2-head.ts).
   */
  startTunnel(ctx: RequestCtx, origin: Socket): OriginTunnelSide;
}

/** An upgraded connection (upgrade-tunnel.ts), as the origin connection feeds it. */
export interface OriginTunnelSide {
  fromOrigin(chunk: Buffer, block: ReadBlock): void;
  /** The origin drained: read more from the visitor. */
  originDrained(): void;
  /** The origin shut its sending side. */
  originEnd(): void;
  originClosed(): void;
}

/** The origin connection a request went out on (origin-connection.ts), as the request sees it. */
export interface OriginLink {
  /** For logs: which connection of the process. */
  readonly id: number;
  /** The TLS session was resumed. */
  readonly resumed: boolean;
  /** Ends the exchange for good (the visitor left mid-upload, or its body broke). */
  abort(err: Error): void;
  /** The visitor drained: read more of the answer. */
  resume(): void;
}

/**
 * Where the origin side reports an exchange (the phases' respond step implements it): the shape of
 * undici's dispatcher handler, with the request first. The pool and the origin connection get it
 * at dispatch and import no phase, so either can be driven against a handler of a test's own.
 */
export interface ExchangeHandler {
  /**
   * The origin's head (never a 1xx): `fields` are its header lines, already filtered, cf-ray
   * included. `chunked`: the body passes on in chunks; `untilClose`: the visitor's answer ends
   * with its connection; `noBody`: none follows (HEAD, 204, 304).
   */
  onHeaders(ctx: RequestCtx, statusCode: number, reason: string, fields: string, chunked: boolean, untilClose: boolean, noBody: boolean): void;
  /** A piece of the body, read into `block` (lent to the visitor's write); false under back-pressure (wait for the visitor's drain). */
  onData(ctx: RequestCtx, chunk: Buffer, block: ReadBlock): boolean;
  /** The origin switched protocols (101) to `protocol`; `fields` as for onHeaders. */
  onUpgrade(ctx: RequestCtx, fields: string, protocol: string): void;
  /** The answer is complete. */
  onComplete(ctx: RequestCtx): void;
  /** The exchange failed (connect, TLS, timeout, a broken answer); the handler may retry it. */
  onError(ctx: RequestCtx, err: Error): void;
}

/** The pool of one peer identity (upstream-pools.ts): where a request's exchange goes out. */
export interface PeerPool {
  dispatch(ctx: RequestCtx, handler: ExchangeHandler): void;
  /** An upgrade: always on a connection of its own. */
  dispatchUpgrade(ctx: RequestCtx, handler: ExchangeHandler): void;
}

/** The pools by peer identity (upstream-pools.ts). */
export interface PeerPools {
  get(route: Route, templateKey: PeerKey): PeerPool;
}

/** What the phases need from the edge that runs them. */
export interface EdgeRuntime {
  readonly snapshot: Snapshot;
  readonly pools: PeerPools;
  readonly rayIds: RayIds;
  /** A wildcard route made concrete for `hostname` (cached per snapshot). */
  derivedRoute(template: Route, hostname: string): Route;
  /** The port this edge listens on for `scheme` (redirect targets); 0 when it does not. */
  listenerPort(scheme: 'http' | 'https'): number;
  /** The TLS version a visitor connection negotiated; null when not known (plain HTTP, other transports). */
  visitorTlsVersion?(visitor: VisitorSide): TlsVersion | null;
}

export class RequestCtx implements RequestFacts {
  readonly edge: EdgeRuntime;
  readonly visitor: VisitorSide;
  readonly head: RequestHead;
  readonly method: string;
  readonly target: string;
  /** The visitor's HTTP minor version (0 or 1). */
  readonly minor: number;
  readonly scheme: 'http' | 'https';
  readonly rayId: string;
  /** performance.now() at arrival; the other t* fields are relative to the same clock. */
  readonly tStart: number;
  readonly clientIp: string;
  /** The visitor's protocol as the access log names it. */
  readonly protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
  /** Chunked answers reach the visitor side decoded (HTTP/1.0 visitors and HTTP/2 streams). */
  readonly decodeChunked: boolean;
  /** The origin's trailer section (latin1, as sent) is kept in `trailers` rather than dropped (HTTP/2 streams). */
  readonly keepTrailers: boolean;
  trailers = '';
  // RequestFacts, filled while building the upstream head.
  host = '';
  hasBody = false;
  contentLength = -1;
  chunked = false;
  closeAfter = false;
  expectContinue = false;
  wantsJson = false;
  upgrade = '';
  hostname = '';
  route: Route | null = null;
  /** Key of the snapshot route (the wildcard template's for derived routes): decides pool retention. */
  templateKey: PeerKey = '';
  peer: PeerPool | null = null;
  /** The head sent to the origin, blank line included. */
  upstreamHead = '';
  /** Status sent to the visitor (499 when the visitor left first). */
  status = 0;
  upstreamStatus = 0;
  error: EdgeError | null = null;
  /** The origin connection the request went out on. */
  connection: OriginLink | null = null;
  /** The origin connection had served a request before this one. */
  reused = false;
  attempts = 0;
  tUpstream = 0;
  tHeaders = 0;
  tEnd = 0;
  /** Bytes of this request read from the visitor: its head (blank line included) and body as framed. */
  bytesIn = 0;
  /** Bytes of the answer handed to the visitor connection: head and body (or error page) as framed. */
  bytesOut = 0;
  /** The visitor head, written together with the first body bytes (one write for small answers). */
  pendingHead = '';
  headersSent = false;
  /** The visitor side is settled (response ended, error page sent, or visitor gone). */
  done = false;
  visitorGone = false;
  upstreamDone = false;
  /** The visitor left; the origin's answer is read and discarded to keep the connection pooled. */
  draining = false;
  drainTimer: NodeJS.Timeout | null = null;
  discarded = 0;

  constructor(edge: EdgeRuntime, visitor: VisitorSide, head: RequestHead, scheme: 'http' | 'https', rayId: string, clientIp: string) {
    this.edge = edge;
    this.visitor = visitor;
    this.head = head;
    this.method = head.method;
    this.target = head.target;
    this.minor = head.minor;
    this.scheme = scheme;
    this.rayId = rayId;
    this.tStart = performance.now();
    this.clientIp = clientIp;
    const http2 = visitor.http2;
    this.protocol = http2 ? 'HTTP/2' : head.minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    this.decodeChunked = http2 || head.minor === 0;
    this.keepTrailers = http2;
  }

  /** Resets per-attempt state before a retry on a fresh connection. */
  resetAttempt(): void {
    this.peer = null;
    this.connection = null;
    this.reused = false;
    this.upstreamDone = false;
    this.error = null;
  }
}
