// Per-request state, one class with every field declared so all requests share one shape. The
// visitor connection creates it from the parsed head; the phases fill it in; logs and metrics
// read it when it is published at the end.
import type { TlsVersion } from './client-hello.ts';
import type { EdgeError } from './errors.ts';
import type { RequestFacts } from './headers.ts';
import type { RequestHead } from './http1/head.ts';
import type { OriginConnection } from './origin-connection.ts';
import type { RayIds } from './ray-id.ts';
import type { PeerKey, Route, Snapshot } from './snapshot.ts';
import type { PoolEntry, UpstreamPools } from './upstream-pools.ts';
import type { VisitorSide } from './visitor-side.ts';

/** What the phases need from the edge that runs them. */
export interface EdgeRuntime {
  readonly snapshot: Snapshot;
  readonly pools: UpstreamPools;
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
  peer: PoolEntry | null = null;
  /** The head sent to the origin, blank line included. */
  upstreamHead = '';
  /** Status sent to the visitor (499 when the visitor left first). */
  status = 0;
  upstreamStatus = 0;
  error: EdgeError | null = null;
  /** The origin connection the request went out on. */
  connection: OriginConnection | null = null;
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
