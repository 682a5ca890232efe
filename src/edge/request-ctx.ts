// Per-request state, one class with every field declared so all requests share one shape. The
// context is also the undici dispatch handler (legacy callback form, which undici calls without
// an adapter), so forwarding a request allocates no handler or closures of its own.
import { ServerResponse, type IncomingMessage } from 'node:http';
import diagnostics from 'node:diagnostics_channel';
import type { Dispatcher } from 'undici';
import type { EdgeError } from './errors.ts';
import type { RayIds } from './ray-id.ts';
import type { PeerKey, Route, Snapshot } from './snapshot.ts';
import { CONNECTION, type PoolEntry, type UpstreamConnection, type UpstreamPools } from './upstream-pools.ts';
import { respondData, respondEnd, respondHeaders, respondUpstreamError } from './phases.ts';

/** What the phases need from the edge that runs them. */
export interface EdgeRuntime {
  readonly snapshot: Snapshot;
  readonly pools: UpstreamPools;
  readonly rayIds: RayIds;
  /** A wildcard route made concrete for `hostname` (cached per snapshot). */
  derivedRoute(template: Route, hostname: string): Route;
}

/**
 * The visitor response, created by Node's server (the `ServerResponse` server option) with a
 * declared field for its RequestCtx: every response has one shape, and the phases reach the
 * context with a plain property load rather than a symbol property added per request.
 */
export class EdgeResponse extends ServerResponse {
  ctx: RequestCtx | null = null;
}

export class RequestCtx implements Dispatcher.DispatchHandler {
  readonly edge: EdgeRuntime;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly scheme: 'http' | 'https';
  readonly rayId: string;
  /** performance.now() at arrival; the other t* fields are relative to the same clock. */
  readonly tStart: number;
  readonly clientIp: string;
  /** Host header as sent (filled while building upstream headers). */
  host = '';
  /** Visitor sent a body (filled while building upstream headers). */
  hasBody = false;
  hostname = '';
  route: Route | null = null;
  /** Key of the snapshot route (the wildcard template's for derived routes): decides pool retention. */
  templateKey: PeerKey = '';
  peer: PoolEntry | null = null;
  upstreamHeaders: string[] | null = null;
  /** Status sent to the visitor (499 when the visitor left first). */
  status = 0;
  upstreamStatus = 0;
  error: EdgeError | null = null;
  connection: UpstreamConnection | null = null;
  /** The origin connection had served a request before this one. */
  reused = false;
  attempts = 0;
  tUpstream = 0;
  tHeaders = 0;
  tEnd = 0;
  bytesOut = 0;
  /** The visitor socket is corked until the end of this turn (see respondData). */
  corked = false;
  abortUpstream: ((err?: Error) => void) | null = null;
  resumeUpstream: (() => void) | null = null;
  /** The visitor side is settled (response ended, error page sent, or visitor gone). */
  done = false;
  visitorGone = false;
  upstreamDone = false;
  /** The visitor left; the origin's answer is read and discarded to keep the connection pooled. */
  draining = false;
  drainTimer: NodeJS.Timeout | null = null;
  discarded = 0;

  constructor(edge: EdgeRuntime, req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https', rayId: string, clientIp: string) {
    this.edge = edge;
    this.req = req;
    this.res = res;
    this.scheme = scheme;
    this.rayId = rayId;
    this.tStart = performance.now();
    this.clientIp = clientIp;
  }

  // ── undici handler (legacy form: undici's native callbacks, no wrapping) ──

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.visitorGone) {
      abort(new Error('visitor closed the connection'));
      return;
    }
    // undici publishes sendHeaders synchronously right after this call; see below.
    noteConnecting(this);
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    return respondHeaders(this, statusCode, headers, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return respondData(this, chunk);
  }

  onComplete(_trailers: string[] | null): void {
    respondEnd(this);
  }

  onError(err: Error): void {
    respondUpstreamError(this, err);
  }

  /** Resets per-attempt state before a retry on a fresh connection. */
  resetAttempt(): void {
    this.peer = null;
    this.connection = null;
    this.reused = false;
    this.abortUpstream = null;
    this.resumeUpstream = null;
    this.upstreamDone = false;
    this.error = null;
  }
}

// Which origin connection a request went out on: undici names the socket only in its
// `sendHeaders` diagnostics message, published synchronously right after onConnect. The
// connector stamped the socket with its UpstreamConnection, giving reused/resumed per request.
let connecting: RequestCtx | null = null;
function noteConnecting(ctx: RequestCtx): void {
  connecting = ctx;
}
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const ctx = connecting;
  if (ctx === null) return;
  connecting = null;
  const socket = (message as { socket?: Record<symbol, UpstreamConnection | undefined> }).socket;
  const connection = socket?.[CONNECTION];
  if (connection !== undefined) {
    ctx.connection = connection;
    ctx.reused = connection.requests++ > 0;
  }
});
