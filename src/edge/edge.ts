// The edge: HTTP and HTTPS listeners in front of per-identity origin pools, serving one immutable
// Snapshot that apply() swaps atomically. start() listens, close() drains, destroy() cuts.
// Tested in test/edge/forwarding.test.ts and test/regressions/graceful-close-fresh-connections.test.ts.
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { subscribeEdgeLogs } from './access-log.ts';
import { EdgeCertificates } from './edge-certificates.ts';
import { EdgeMetrics, type VisitorTransportKind } from './metrics.ts';
import { snapshotAppliedChannel } from './observe.ts';
import { RayIds } from './ray-id.ts';
import { adoptTcpConnections, adoptTlsSocket, tlsAdoptionBlocker } from './tcp-handle-transport.ts';
import { chooseAlpn } from './alpn.ts';
import { Http2Visitors } from './http2-session.ts';
import type { Http2VisitorStream } from './http2-stream.ts';
import type { OpenVisitor } from './visitor-side.ts';
import type { VisitorSide } from './request-ctx.ts';
import { FIRST_REQUEST_GRACE_MS, VisitorConnection, type VisitorHost, type VisitorTimeouts } from './visitor-connection.ts';
import { SocketTransport, type VisitorTransport } from './visitor-transport.ts';
import { DEFAULT_VISITOR_POLICY, EMPTY_SNAPSHOT, findRoute, routeForHost, type Route, type Snapshot, type TicketKeys } from './snapshot.ts';
import type { TlsVersion } from './client-hello.ts';
import { ACME_TLS_ALPN, decideHello, type HelloFacts } from './hello-policy.ts';
import { gateTlsConnection, type TlsGateHooks } from './tls-gate.ts';
import { SessionCache } from './session-cache.ts';
import { TrustStore, type ClientIdentity } from './tls-material.ts';
import { UpstreamPools, type UpstreamTimeouts } from './upstream-pools.ts';

interface VisitorTlsServers {
  server: tls.Server;
  capped: tls.Server;
}

export interface ListenAt {
  host: string;
  port: number;
}

export interface EdgeOptions {
  /** Visitor HTTP listener; null for none. */
  httpListen: ListenAt | null;
  /** Visitor HTTPS listener; null for none. */
  httpsListen: ListenAt | null;
  timeouts: UpstreamTimeouts;
  /** Extra PEM bundle trusted for origin certificates in `strict` (besides the system store). */
  originCaPem?: string;
  /** Suffix of ray ids (`…-TAG`), e.g. the node name. */
  nodeTag?: string;
  /** How long retired pools may finish in-flight requests before being destroyed. Default: the response timeout. */
  drainTimeoutMs?: number;
  /** Access and origin-connection logs; omit for none. */
  logger?: Logger;
  /** Prometheus registry for this edge's metrics; omit for none. */
  registry?: Registry;
  /** Bind with SO_REUSEPORT (cluster workers with fixed ports: the kernel spreads connections). */
  reusePort?: boolean;
  /** Idle visitor keep-alive (ms). Default 65 s. */
  visitorKeepAliveMs?: number;
  /**
   * A visitor TLS handshake not complete within this long is cut (ms; nginx's ssl_handshake_timeout).
   * Default 10 s; Node's own is 120 s, which a vanished client would make shutdown wait for.
   */
  visitorHandshakeTimeoutMs?: number;
  /** A visitor that reads nothing of an answer for this long is cut (ms; nginx's send_timeout). Default 60 s. */
  visitorSendTimeoutMs?: number;
  /** Drive plain-HTTP visitor connections as bare TCP handles where the runtime allows (tcp-handle-transport.ts). Default true. */
  tcpHandles?: boolean;
  /** Edge-CA certificates for proxied names without a custom one (default true; see edge-certificates.ts). */
  edgeCaFallback?: boolean;
  /** An upgraded connection (WebSocket) silent both ways this long is cut (ms). Default 100 s, as Cloudflare's. */
  upgradeIdleMs?: number;
  /** close() lets upgraded connections run this long before cutting them (ms). Default: the drain timeout. */
  upgradeShutdownMs?: number;
}

/** How visitor connections are driven per listener (null: none), and why not the fast way when they are not. */
export interface VisitorTransportInfo {
  http: VisitorTransportKind | null;
  /** HTTPS/1.1 visitors (HTTP/2 sessions are node:http2's). */
  https: VisitorTransportKind | null;
  /** Why a listener keeps net.Socket; null when none does. */
  fallbackReason: string | null;
}

export interface EdgeAddresses {
  http: AddressInfo | null;
  https: AddressInfo | null;
}

const MAX_DERIVED = 50_000;
const SWITCHED_OFF = 'switched off (ORIGINPULL_EDGE_TCP_HANDLES=0)';
/** Visitor socket write buffer before back-pressure: a 64 KiB answer flows without a pause. */
const VISITOR_HIGH_WATER = 64 * 1024;

export class Edge implements VisitorHost {
  readonly pools: UpstreamPools;
  readonly rayIds: RayIds;
  readonly certificates: EdgeCertificates;
  readonly metrics: EdgeMetrics | null;
  readonly #opts: EdgeOptions;
  #snapshot: Snapshot = EMPTY_SNAPSHOT;
  #derived = new Map<string, Route>();
  #http: net.Server | null = null;
  /** Accepts HTTPS visitors and reads their ClientHello (tls-gate.ts) before #tls handshakes. */
  #https: net.Server | null = null;
  /** Never listens: the gate hands it the sockets it lets through. */
  #tls: tls.Server | null = null;
  #tlsOptions: tls.TlsOptions | null = null;
  /** The visitor TLS servers sealing tickets with the current key (#tls is its `server`). */
  #currentServers: VisitorTlsServers | null = null;
  /** By hex key name: twins holding the ring's other keys (next, previous), which resume the tickets they sealed. */
  #previousServers = new Map<string, VisitorTlsServers>();
  #ticketRing: TicketKeys | null = null;
  /** TLS 1.2 session IDs, shared by this process's visitor TLS servers. */
  #sessions: SessionCache | null = null;
  /** HTTP/1 connections and HTTP/2 sessions. */
  readonly #visitors = new Set<OpenVisitor>();
  #http2: Http2Visitors | null = null;
  /** What each HTTPS visitor connection negotiated: a request's zone may allow less (phases.ts). */
  readonly #tlsVersions = new WeakMap<VisitorConnection, TlsVersion>();
  /**
   * Visitor TLS sockets still in their handshake, by peer address: not yet visitors, so close()
   * cuts them. (The TLS socket the server makes of a TCP one is told apart by its peer.)
   */
  readonly #handshaking = new Map<string, net.Socket>();
  /** Expires idle visitor connections: one timer for all, not one per socket (see #sweep). */
  #sweeper: NodeJS.Timeout | null = null;
  #allClosed: (() => void) | null = null;
  #unsubscribeLogs: (() => void) | null = null;
  #state: 'new' | 'started' | 'closing' | 'closed' = 'new';
  #transport: VisitorTransportInfo = { http: null, https: null, fallbackReason: null };
  /** HTTPS/1.1 visitors are driven through their TLS handle (tcp-handle-transport.ts). */
  #tlsHandles = false;
  readonly #visitorTimeouts: VisitorTimeouts;
  #tunnels = 0;

  constructor(opts: EdgeOptions) {
    this.#opts = opts;
    this.#visitorTimeouts = Object.freeze({
      keepAliveMs: opts.visitorKeepAliveMs ?? 65_000,
      sendMs: opts.visitorSendTimeoutMs ?? 60_000,
      upgradeIdleMs: opts.upgradeIdleMs ?? 100_000,
      upgradeShutdownMs: opts.upgradeShutdownMs ?? opts.drainTimeoutMs ?? opts.timeouts.responseMs,
    });
    this.rayIds = new RayIds(opts.nodeTag ?? 'EDGE');
    this.pools = new UpstreamPools({
      timeouts: opts.timeouts,
      trust: new TrustStore(opts.originCaPem),
      drainTimeoutMs: opts.drainTimeoutMs ?? opts.timeouts.responseMs,
      owner: this,
    });
    this.certificates = new EdgeCertificates({
      fallback: opts.edgeCaFallback,
      onError: (err, servername) => opts.logger?.warn({ err, servername }, 'cannot issue an edge certificate; serving the default one'),
    });
    this.metrics = opts.registry ? new EdgeMetrics(this, this, opts.registry) : null;
    if (opts.logger) this.#unsubscribeLogs = subscribeEdgeLogs(this, opts.logger);
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  get appliedVersion(): number {
    return this.#snapshot.version;
  }

  /** Atomic swap: new requests see `snapshot` at once; pools whose identity left it drain. */
  apply(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    if (this.#currentServers !== null && (snapshot.ticketKeys ?? null) !== this.#ticketRing) this.#applyTicketKeys(snapshot.ticketKeys ?? null);
    this.#derived = new Map();
    this.certificates.setSnapshot(snapshot);
    const retiredPools = this.pools.retainOnly(snapshot.peerKeys);
    if (snapshotAppliedChannel.hasSubscribers) {
      snapshotAppliedChannel.publish({ owner: this, version: snapshot.version, routes: snapshot.exact.size + snapshot.associated.size + snapshot.wildcards.size, problems: snapshot.problems, retiredPools });
    }
  }

  derivedRoute(template: Route, hostname: string): Route {
    let route = this.#derived.get(hostname);
    if (route === undefined) {
      route = routeForHost(template, hostname);
      if (this.#derived.size >= MAX_DERIVED) this.#derived.clear();
      this.#derived.set(hostname, route);
    }
    return route;
  }

  visitorTlsVersion(visitor: VisitorSide): TlsVersion | null {
    // An HTTP/2 stream knows its connection's version (http2-session.ts); an HTTP/1 connection is looked up.
    if (visitor.http2) return (visitor as Http2VisitorStream).tlsVersion;
    return this.#tlsVersions.get(visitor as VisitorConnection) ?? null;
  }

  listenerPort(scheme: 'http' | 'https'): number {
    const server = scheme === 'http' ? this.#http : this.#https;
    return (server?.address() as AddressInfo | null)?.port ?? 0;
  }

  identitiesInUse(): Iterable<ClientIdentity> {
    return this.#snapshot.identities;
  }

  get visitorTransportInfo(): VisitorTransportInfo {
    return this.#transport;
  }

  poolCounts(): { active: number; draining: number } {
    return { active: this.pools.size, draining: this.pools.retiredCount };
  }

  get closing(): boolean {
    return this.#state !== 'started';
  }

  /** Upgraded connections (WebSockets) open now. */
  get openTunnels(): number {
    return this.#tunnels;
  }

  tunnelOpened(): void {
    this.#tunnels++;
  }

  tunnelClosed(): void {
    this.#tunnels--;
  }

  forget(conn: OpenVisitor): void {
    this.#visitors.delete(conn);
    if (this.#visitors.size === 0) this.#allClosed?.();
  }

  /** An HTTP/2 session (http2-session.ts) joins the visitors the sweep and shutdown see. */
  adopt(visitor: OpenVisitor): void {
    this.#visitors.add(visitor);
  }

  #accept(transport: VisitorTransport, scheme: 'http' | 'https', tlsVersion: TlsVersion | null = null): void {
    const conn = new VisitorConnection(transport, this, scheme, this.#visitorTimeouts);
    if (tlsVersion !== null) this.#tlsVersions.set(conn, tlsVersion);
    this.#visitors.add(conn);
    if (this.#state !== 'started') conn.shutdown();
  }

  /**
   * Idle visitor connections go when their deadline passes. A socket timer each would be created
   * and destroyed with every connection and re-armed on every read and write; a sweep a few
   * times per keep-alive period costs one pass over the open connections.
   */
  readonly #sweep = (): void => {
    const now = performance.now();
    for (const conn of this.#visitors) conn.expire(now);
  };

  readonly #helloFacts: HelloFacts = {
    servesName: (host) => this.certificates.servesName(host),
    hasAcmeTlsAlpn: (host) => this.#snapshot.acmeTlsAlpn.has(host.toLowerCase()),
    tlsVersions: (host) => ((host === null ? undefined : findRoute(this.#snapshot, host))?.policy ?? DEFAULT_VISITOR_POLICY).tls,
  };

  /**
   * ACME TLS-ALPN-01: the CA's handshake gets the challenge certificate for its name and nothing
   * else (RFC 8737: the connection carries no application data). Never listens, as #tls.
   */
  #acmeTlsServer(handshakeTimeout: number): tls.Server {
    const server = tls.createServer({
      ALPNProtocols: [ACME_TLS_ALPN],
      minVersion: 'TLSv1.2',
      handshakeTimeout,
      SNICallback: (servername, cb) => {
        const context = this.#snapshot.acmeTlsAlpn.get(servername.toLowerCase());
        if (context === undefined) cb(new Error(`no ACME challenge for ${servername}`));
        else cb(null, context);
      },
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => socket.end());
    server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
    return server;
  }

  /**
   * A visitor TLS server and its twin capped at TLS 1.2 (for zones with tls_1_3 off: Node's TLS
   * server picks the version from its own options, whatever context the SNI callback returns; and
   * for visitors that offer nothing above TLS 1.2).
   */
  #visitorServers(ticketKey: Buffer | null): VisitorTlsServers {
    const options = this.#tlsOptions!;
    const server = tls.createServer(options);
    const capped = tls.createServer({ ...options, maxVersion: 'TLSv1.2' });
    for (const s of [server, capped]) {
      s.on('secureConnection', (socket: tls.TLSSocket) => {
        this.#handshaking.delete(peerKey(socket));
        if (socket.alpnProtocol === 'h2') (this.#http2 ??= new Http2Visitors(this, this.#visitorTimeouts)).accept(socket);
        else this.#accept(this.#tlsTransport(socket), 'https', socket.getProtocol() as TlsVersion | null);
      });
      s.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
      if (ticketKey !== null) s.setTicketKeys(ticketKey);
    }
    // TLS 1.2 session IDs are kept and resumed by the capped twin only, which every hello that
    // cannot reach TLS 1.3 is handed to. On a server with these listeners every handshake calls
    // out to them (TLS 1.3 ones three times: a compatibility session ID to look up, two tickets
    // to store), for sessions TLS 1.3 never resumes by ID.
    capped.on('newSession', this.#sessions!.onNewSession);
    capped.on('resumeSession', this.#sessions!.onResumeSession);
    return { server, capped };
  }

  #tlsTransport(socket: tls.TLSSocket): VisitorTransport {
    return (this.#tlsHandles ? adoptTlsSocket(socket) : null) ?? new SocketTransport(socket, true);
  }

  /** The ring's sealing key seals new tickets; a twin per other key (next, previous) resumes what it sealed. */
  #applyTicketKeys(ring: TicketKeys | null): void {
    this.#ticketRing = ring;
    if (ring === null) return;
    const current = this.#currentServers!;
    current.server.setTicketKeys(ring.sealing);
    current.capped.setTicketKeys(ring.sealing);
    const previous = new Map<string, VisitorTlsServers>();
    for (const key of ring.accepted) {
      const name = key.subarray(0, 16).toString('hex');
      previous.set(name, this.#previousServers.get(name) ?? this.#visitorServers(key));
    }
    this.#previousServers = previous;
  }

  /** Listens on the configured addresses. Apply a snapshot first (its edge CA signs the HTTPS certificates). */
  async start(): Promise<EdgeAddresses> {
    if (this.#state !== 'new') throw new Error(`edge cannot start: it is ${this.#state}`);
    this.#state = 'started';
    const { keepAliveMs, sendMs, upgradeIdleMs } = this.#visitorTimeouts;
    this.#sweeper = setInterval(this.#sweep, Math.min(1_000, Math.ceil(Math.min(keepAliveMs, sendMs, upgradeIdleMs) / 4)));
    this.#sweeper.unref();
    const addresses: EdgeAddresses = { http: null, https: null };
    // Half-open: a visitor that shuts its sending side after pipelined requests still gets the answers.
    if (this.#opts.httpListen) {
      // Connections are adopted as bare TCP handles (tcp-handle-transport.ts); the listener below
      // only serves where that is not possible.
      this.#http = net.createServer({ allowHalfOpen: true, noDelay: true, highWaterMark: VISITOR_HIGH_WATER }, (socket) => this.#accept(new SocketTransport(socket, false), 'http'));
      addresses.http = await this.#listen(this.#http, this.#opts.httpListen);
      const adoption =
        this.#opts.tcpHandles === false
          ? { adopted: false as const, reason: SWITCHED_OFF }
          : adoptTcpConnections(this.#http, (transport) => this.#accept(transport, 'http'));
      this.#transport.http = adoption.adopted ? 'tcp-handle' : 'socket';
      if (!adoption.adopted) this.#transport.fallbackReason = adoption.reason;
      if (!adoption.adopted) this.#opts.logger?.info({ reason: adoption.reason }, 'plain-HTTP visitor connections use net.Socket, not bare TCP handles');
    }
    if (this.#opts.httpsListen) {
      const blocker = this.#opts.tcpHandles === false ? SWITCHED_OFF : tlsAdoptionBlocker();
      this.#tlsHandles = blocker === null;
      this.#transport.https = blocker === null ? 'tls-handle' : 'socket';
      if (blocker !== null) this.#transport.fallbackReason ??= blocker;
      const fallback = await this.certificates.ready();
      const handshakeTimeout = this.#opts.visitorHandshakeTimeoutMs ?? 10_000;
      const tlsOptions: tls.TlsOptions = {
        allowHalfOpen: true,
        noDelay: true,
        highWaterMark: VISITOR_HIGH_WATER,
        key: fallback.keyPem,
        cert: fallback.certPem,
        SNICallback: this.certificates.sniCallback,
        minVersion: 'TLSv1.2',
        // h2 where the visitor offers it and the zone of its SNI name allows it, else http/1.1.
        ALPNCallback: ({ servername, protocols }) => chooseAlpn(this.#snapshot, servername, protocols),
        handshakeTimeout,
      };
      const ring = this.#snapshot.ticketKeys ?? null;
      // Sessions last one rotation period; their key stays accepted about as long again (the twins below).
      if (ring !== null) tlsOptions.sessionTimeout = Math.max(1, Math.ceil(ring.rotateEveryMs / 1000));
      // Node's default session ID context hashes the process's argv, which differs between edge
      // nodes (names, ports): OpenSSL would then refuse another node's tickets. One installation, one context.
      tlsOptions.sessionIdContext = 'originpull edge';
      this.#tlsOptions = tlsOptions;
      this.#sessions = new SessionCache({ ttlMs: (tlsOptions.sessionTimeout ?? 300) * 1000 });
      const current = this.#visitorServers(ring?.sealing ?? this.certificates.ticketKeys());
      this.#tls = current.server;
      this.#currentServers = current;
      this.#applyTicketKeys(ring);
      const acmeServer = this.#acmeTlsServer(handshakeTimeout);
      const gate: TlsGateHooks = {
        decide: (hello) => decideHello(hello, this.#helloFacts),
        handOff: (socket, decision, hello) => {
          if (decision?.kind === 'acme_tls_alpn') {
            acmeServer.emit('connection', socket);
            return;
          }
          // A ticket sealed with another key of the ring (previous, or next: sealed by a node that
          // applied a rotation first) goes to the twin holding that key (Node's server takes one
          // ticket key), so it resumes there; anything else handshakes on the sealing key.
          const name = hello?.ticketKeyName;
          const servers = (name == null ? undefined : this.#previousServers.get(name)) ?? this.#currentServers!;
          const upTo12 = decision?.kind === 'tls12' || (hello !== null && !hello.versions.includes('TLSv1.3'));
          (upTo12 ? servers.capped : servers.server).emit('connection', socket);
        },
      };
      this.#https = net.createServer({ allowHalfOpen: true, noDelay: true, highWaterMark: VISITOR_HIGH_WATER }, (socket) => {
        const key = peerKey(socket);
        this.#handshaking.set(key, socket);
        socket.once('close', () => {
          if (this.#handshaking.get(key) === socket) this.#handshaking.delete(key);
        });
        gateTlsConnection(socket, handshakeTimeout, gate);
      });
      addresses.https = await this.#listen(this.#https, this.#opts.httpsListen);
    }
    return addresses;
  }

  #listen(server: net.Server, at: ListenAt): Promise<AddressInfo> {
    const reuse = this.#opts.reusePort === true && at.port !== 0;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: at.host, port: at.port, ...(reuse ? { reusePort: true, exclusive: true } : {}) }, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  get addresses(): EdgeAddresses {
    return {
      http: (this.#http?.address() as AddressInfo | null) ?? null,
      https: (this.#https?.address() as AddressInfo | null) ?? null,
    };
  }

  /** Graceful: stop accepting, let in-flight requests finish, then close origin pools. */
  async close(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    this.#state = 'closing';
    const servers = [this.#http, this.#https].filter((s): s is net.Server => s !== null);
    const stopped = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const conn of this.#visitors) conn.shutdown();
    // A handshake in progress has a request behind it, or a client that vanished: it gets the
    // first-request grace, not the whole handshake timeout.
    const cut = setTimeout(() => {
      for (const socket of this.#handshaking.values()) socket.destroy();
    }, FIRST_REQUEST_GRACE_MS);
    // Handshakes finishing during the grace add visitors: count them once the listeners are done.
    const drained = stopped.then(() => (this.#visitors.size === 0 ? undefined : new Promise<void>((resolve) => (this.#allClosed = resolve))));
    await Promise.all([stopped, drained]);
    clearTimeout(cut);
    await this.pools.close();
    this.#stopObservers();
    this.#state = 'closed';
  }

  /** Abrupt: cut visitor and origin connections now. */
  async destroy(): Promise<void> {
    this.#state = 'closed';
    for (const s of [this.#http, this.#https]) s?.close();
    for (const conn of [...this.#visitors]) conn.destroy();
    await this.pools.destroy();
    this.#stopObservers();
  }

  #stopObservers(): void {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
    this.#unsubscribeLogs?.();
    this.#unsubscribeLogs = null;
    this.metrics?.close();
  }
}

function peerKey(socket: net.Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
