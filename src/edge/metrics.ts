// Prometheus metrics of one edge, fed by its diagnostics channels (never called from the request
// path) and by collect callbacks at scrape time.
// Tested in test/edge/traffic-metrics.test.ts and test/edge/observability.test.ts.
import diagnostics from 'node:diagnostics_channel';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { OriginError } from './errors.ts';
import type { Http2SessionEvent } from './http2-session.ts';
import { http2SessionChannel, requestChannel, snapshotAppliedChannel, upstreamConnectChannel, upstreamErrorChannel } from './observe.ts';
import type { RequestCtx } from './request-ctx.ts';
import type { Snapshot } from './snapshot.ts';
import { TrafficMetrics } from './traffic-metrics.ts';
import type { UpstreamConnectEvent } from './upstream-pools.ts';
import type { ClientIdentity } from './tls-material.ts';

/** How a listener's visitor connections are driven: bare libuv handles (TCP, or TLS over TCP), or net.Socket. */
export type VisitorTransportKind = 'tcp-handle' | 'tls-handle' | 'socket';

const PROTOCOLS = ['HTTP/1.1', 'HTTP/2', 'HTTP/1.0'] as const;

/** What the metrics read from the edge at scrape time. */
export interface EdgeMetricsSource {
  readonly appliedVersion: number;
  readonly snapshot: Snapshot;
  /** How visitor connections are driven, per listener (null: no such listener). */
  readonly visitorTransportInfo: { readonly http: VisitorTransportKind | null; readonly https: VisitorTransportKind | null };
  identitiesInUse(): Iterable<ClientIdentity>;
  poolCounts(): { active: number; draining: number };
  /** Upgraded connections (WebSockets) open now. */
  readonly openTunnels?: number;
}

export class EdgeMetrics {
  readonly registry: Registry;
  readonly #owner: object;
  /**
   * Requests by status (a slot per three-digit status), counted here and handed to prom-client at
   * scrape time: a labelled inc() hashes its labels on every call, once per request.
   */
  readonly #requestsByStatus = new Float64Array(1000);
  readonly #traffic: TrafficMetrics;
  /** Requests by visitor protocol, in the order of PROTOCOLS (counted here, handed over at scrape time). */
  readonly #requestsByProtocol = new Float64Array(PROTOCOLS.length);
  readonly #http2Sessions: Counter<'reason'>;
  readonly #http2Resets: Counter;
  readonly #originErrors: Counter<'status' | 'code'>;
  readonly #handshakes: Counter<'result'>;
  readonly #storeUp: Gauge;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(owner: object, source: EdgeMetricsSource, registry: Registry) {
    this.registry = registry;
    this.#owner = owner;
    const byStatus = this.#requestsByStatus;
    new Counter({
      name: 'originpull_edge_requests_total',
      help: 'Visitor requests by response status',
      labelNames: ['status'],
      registers: [registry],
      collect() {
        this.reset();
        for (let status = 0; status < byStatus.length; status++) if (byStatus[status] > 0) this.inc({ status: String(status) }, byStatus[status]);
      },
    });
    this.#originErrors = new Counter({
      name: 'originpull_edge_origin_errors_total',
      help: 'Origin failures by the status shown to the visitor (52x) and cause',
      labelNames: ['status', 'code'],
      registers: [registry],
    });
    this.#handshakes = new Counter({
      name: 'originpull_edge_upstream_handshakes_total',
      help: 'New origin connections: full TLS handshakes, resumed TLS sessions, plain HTTP, failures',
      labelNames: ['result'],
      registers: [registry],
    });
    new Gauge({
      name: 'originpull_edge_config_version',
      help: 'Config version of the snapshot this edge serves',
      registers: [registry],
      aggregator: 'min',
      collect() {
        this.set(source.appliedVersion);
      },
    });
    new Gauge({
      name: 'originpull_edge_client_certificate_expiry_seconds',
      help: 'Seconds until each client certificate the edge presents to origins expires (negative: expired)',
      labelNames: ['cert_id', 'fingerprint', 'level'],
      registers: [registry],
      aggregator: 'min',
      collect() {
        this.reset();
        const now = Date.now();
        for (const id of source.identitiesInUse()) {
          this.set({ cert_id: id.certId, fingerprint: id.fingerprint, level: id.kind }, Math.round((id.notAfter - now) / 1000));
        }
      },
    });
    new Gauge({
      name: 'originpull_edge_upstream_pools',
      help: 'Origin connection pools (one per origin + SNI + mode + client certificate)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const counts = source.poolCounts();
        this.set({ state: 'active' }, counts.active);
        this.set({ state: 'draining' }, counts.draining);
      },
    });
    this.#storeUp = new Gauge({
      name: 'originpull_edge_store_up',
      help: '1 when the last contact with the store succeeded; 0 while serving the last snapshot without it',
      registers: [registry],
      aggregator: 'min',
    });
    this.#storeUp.set(1);
    new Gauge({
      name: 'originpull_edge_visitor_transport',
      help: 'How visitor connections are driven, per listener: 1 for the one in use (tcp-handle, tls-handle: bare libuv/TLS handles; socket: net.Socket)',
      labelNames: ['listener', 'transport'],
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.reset();
        const { http, https } = source.visitorTransportInfo;
        if (http !== null) this.set({ listener: 'http', transport: http }, 1);
        if (https !== null) this.set({ listener: 'https', transport: https }, 1);
      },
    });
    const byProtocol = this.#requestsByProtocol;
    new Counter({
      name: 'originpull_edge_visitor_protocol_requests_total',
      help: 'Visitor requests by the protocol the visitor spoke (HTTP/1.0, HTTP/1.1, HTTP/2)',
      labelNames: ['protocol'],
      registers: [registry],
      collect() {
        this.reset();
        for (let i = 0; i < PROTOCOLS.length; i++) if (byProtocol[i] > 0) this.inc({ protocol: PROTOCOLS[i] }, byProtocol[i]);
      },
    });
    this.#http2Sessions = new Counter({
      name: 'originpull_edge_http2_sessions_closed_total',
      help: 'Visitor HTTP/2 connections that ended, by why: closed (by either side), shutdown (GOAWAY from the edge closing), reset_flood (GOAWAY ENHANCE_YOUR_CALM for rapid resets)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.#http2Resets = new Counter({
      name: 'originpull_edge_http2_visitor_resets_total',
      help: 'HTTP/2 streams the visitor reset while the edge was still answering them',
      registers: [registry],
    });
    new Gauge({
      name: 'originpull_edge_upgraded_connections',
      help: 'Upgraded visitor connections (WebSockets) open now, each relayed to its own origin connection',
      registers: [registry],
      collect() {
        this.set(source.openTunnels ?? 0);
      },
    });
    this.#traffic = new TrafficMetrics(registry);
    this.#traffic.setSnapshot(source.snapshot);

    this.#subscribe(requestChannel.name as string, (msg) => {
      const ctx = msg as RequestCtx;
      if (ctx.edge !== owner) return;
      // Statuses are three digits (the head parser); 0 never reaches here.
      this.#requestsByStatus[ctx.status % 1000]++;
      this.#requestsByProtocol[ctx.protocol === 'HTTP/1.1' ? 0 : ctx.protocol === 'HTTP/2' ? 1 : 2]++;
      this.#traffic.record(ctx);
    });
    this.#subscribe(snapshotAppliedChannel.name as string, (msg) => {
      if ((msg as { owner: object }).owner === owner) this.#traffic.setSnapshot(source.snapshot);
    });
    this.#subscribe(http2SessionChannel.name as string, (msg) => {
      const e = msg as Http2SessionEvent;
      if (e.owner !== owner) return;
      this.#http2Sessions.inc({ reason: e.reason });
      if (e.resets > 0) this.#http2Resets.inc(e.resets);
    });
    this.#subscribe(upstreamErrorChannel.name as string, (msg) => {
      const { ctx, error } = msg as { ctx: RequestCtx; error: OriginError };
      if (ctx.edge !== owner) return;
      this.#originErrors.inc({ status: String(error.status), code: error.code });
    });
    this.#subscribe(upstreamConnectChannel.name as string, (msg) => {
      const e = msg as UpstreamConnectEvent;
      if (e.owner !== this.#owner) return;
      const result = e.error !== null ? 'failed' : e.pool.origin.scheme === 'http' ? 'plain' : e.resumed ? 'resumed' : 'full';
      this.#handshakes.inc({ result });
    });
  }

  setStoreUp(up: boolean): void {
    this.#storeUp.set(up ? 1 : 0);
  }

  #subscribe(name: string, fn: (msg: unknown) => void): void {
    diagnostics.subscribe(name, fn);
    this.#unsubscribe.push(() => diagnostics.unsubscribe(name, fn));
  }

  close(): void {
    for (const un of this.#unsubscribe.splice(0)) un();
  }
}
