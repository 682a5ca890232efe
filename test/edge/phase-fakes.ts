// Fakes of the phases' collaborators (phases.ts), for unit tests without sockets: a visitor side
// that records what is written to it, pools that record what is dispatched, and an edge runtime
// over a real Snapshot. The phases themselves, the snapshot and its routes are the real ones.
import type { TlsVersion } from '../../src/edge/client-hello.ts';
import { parseRequestHead } from '../../src/edge/http1/head.ts';
import { RayIds } from '../../src/edge/ray-id.ts';
import type { ReadBlock } from '../../src/edge/read-blocks.ts';
import { RequestCtx, type BodySink, type EdgeRuntime, type ExchangeHandler, type OriginLink, type OriginTunnelSide, type PeerPool, type PeerPools, type VisitorSide } from '../../src/edge/request-ctx.ts';
import { routeForHost, type PeerKey, type Route, type Snapshot } from '../../src/edge/snapshot.ts';

/** A visitor side that keeps every head and body write, and answers writes with `accepting`. */
export class FakeVisitor implements VisitorSide {
  readonly http2: boolean;
  closing = false;
  bodyPending = false;
  /** What write() and writeHeadAndBody() return: false plays a visitor under back-pressure. */
  accepting = true;
  readonly heads: string[] = [];
  readonly bodies: Buffer[] = [];
  readonly drainWaiters: (() => void)[] = [];
  expectedBodies = 0;
  finished = 0;
  destroyed = false;

  constructor(http2 = false) {
    this.http2 = http2;
  }

  expectBody(): void {
    this.expectedBodies++;
  }

  pipeBody(_sink: BodySink, _expectContinue: boolean): void {}

  resumeBody(): void {}

  writeHead(head: string): void {
    this.heads.push(head);
  }

  writeHeadAndBody(head: string, body: Buffer, _block: ReadBlock | null): boolean {
    this.heads.push(head);
    this.bodies.push(Buffer.from(body));
    return this.accepting;
  }

  write(chunk: Buffer, _block: ReadBlock): boolean {
    this.bodies.push(Buffer.from(chunk));
    return this.accepting;
  }

  onDrain(fn: () => void): void {
    this.drainWaiters.push(fn);
  }

  responseFinished(): void {
    this.finished++;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** Tunnels asked for (the origin accepted an upgrade); a tunnel that drops what it is fed. */
  tunnels = 0;
  startTunnel(): OriginTunnelSide {
    this.tunnels++;
    return { fromOrigin() {}, originDrained() {}, originEnd() {}, originClosed() {} };
  }

  /** The only head written (fails the test when there is not exactly one). */
  get head(): string {
    if (this.heads.length !== 1) throw new Error(`expected one head, got ${this.heads.length}: ${JSON.stringify(this.heads)}`);
    return this.heads[0];
  }

  get body(): string {
    return Buffer.concat(this.bodies).toString();
  }
}

/** One field of an HTTP/1.1 head text ('' when absent); names compared in lower case. */
export function field(head: string, name: string): string {
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return '';
}

export interface Dispatched {
  ctx: RequestCtx;
  handler: ExchangeHandler;
  upgrade: boolean;
}

export class FakePool implements PeerPool {
  readonly route: Route;
  readonly templateKey: PeerKey;
  readonly dispatched: Dispatched[] = [];

  constructor(route: Route, templateKey: PeerKey) {
    this.route = route;
    this.templateKey = templateKey;
  }

  dispatch(ctx: RequestCtx, handler: ExchangeHandler): void {
    this.dispatched.push({ ctx, handler, upgrade: false });
  }

  dispatchUpgrade(ctx: RequestCtx, handler: ExchangeHandler): void {
    this.dispatched.push({ ctx, handler, upgrade: true });
  }
}

/** One pool per peer key, as UpstreamPools keeps them. */
export class FakePools implements PeerPools {
  readonly byKey = new Map<PeerKey, FakePool>();

  get(route: Route, templateKey: PeerKey): FakePool {
    let pool = this.byKey.get(route.peerKey);
    if (pool === undefined) this.byKey.set(route.peerKey, (pool = new FakePool(route, templateKey)));
    return pool;
  }
}

export class FakeEdge implements EdgeRuntime {
  snapshot: Snapshot;
  readonly pools = new FakePools();
  readonly rayIds = new RayIds('TEST');
  /** What visitorTlsVersion answers for every visitor connection. */
  tlsVersion: TlsVersion | null = null;
  ports = { http: 80, https: 443 };

  constructor(snapshot: Snapshot) {
    this.snapshot = snapshot;
  }

  derivedRoute(template: Route, hostname: string): Route {
    return routeForHost(template, hostname);
  }

  listenerPort(scheme: 'http' | 'https'): number {
    return this.ports[scheme];
  }

  visitorTlsVersion(): TlsVersion | null {
    return this.tlsVersion;
  }
}

/** A request as the visitor side would make it: `head` is the request line and fields, no blank line. */
export function requestOf(edge: FakeEdge, head: string, opts: { scheme?: 'http' | 'https'; visitor?: FakeVisitor } = {}): RequestCtx {
  return new RequestCtx(edge, opts.visitor ?? new FakeVisitor(), parseRequestHead(head), opts.scheme ?? 'http', edge.rayIds.next(), '203.0.113.7');
}

/** An origin connection that only says what was asked of it. */
export class FakeLink implements OriginLink {
  readonly id = 1;
  readonly resumed = false;
  aborted: Error | null = null;
  resumes = 0;

  abort(err: Error): void {
    this.aborted = err;
  }

  resume(): void {
    this.resumes++;
  }
}
