// Per-request metrics of the edge: latency histograms (total and origin time) and per-zone request
// and error counters. The request path only bumps slots of arrays allocated up front; prom-client
// sees the numbers at scrape time (a labelled inc() or observe() hashes its labels on every call).
//
// Label sets are bounded whatever visitors send: zones are only the snapshot's own, at most
// MAX_ZONE_LABELS of them (the rest count under `other`, requests that matched no zone under
// `none`), and statuses are classes (`2xx`) except the edge's own 52x codes, which name causes.
import { Counter, type Histogram, type Registry } from 'prom-client';
import type { RequestCtx } from './request-ctx.ts';
import type { Snapshot } from './snapshot.ts';

/** Zones with their own label; more than this share `zone="other"`. */
export const MAX_ZONE_LABELS = 100;
export const OTHER_ZONE = 'other';
export const NO_ZONE = 'none';

/** Bucket upper bounds (seconds) of both latency histograms: from a loopback keep-alive hit to a slow origin. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 100] as const;

/** Status labels: classes, and the codes Cloudflare gives edge-side causes. */
const STATUS_LABELS = ['1xx', '2xx', '3xx', '4xx', '5xx', '520', '521', '522', '523', '524', '525', '526', '527', '530'];
/** Status (0–999) → index in STATUS_LABELS. */
const STATUS_SLOT = new Uint8Array(1000);
for (let status = 0; status < 1000; status++) {
  const own = STATUS_LABELS.indexOf(String(status));
  STATUS_SLOT[status] = own >= 0 ? own : Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
}
const SLOTS = STATUS_LABELS.length;

/** The status label a request is counted under. */
export function statusLabel(status: number): string {
  return STATUS_LABELS[STATUS_SLOT[status % 1000]];
}

/**
 * A histogram over a preallocated array of bucket counts, in the shape prom-client's registry and
 * AggregatorRegistry read from a metric (`get()`): buckets, `_sum` and `_count` are summed across
 * workers by their `le` label, as prom-client's own histograms are.
 */
class BucketHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: string[] = [];
  /** Upper bounds in ms: the request path measures in ms (performance.now()). */
  readonly #boundsMs: Float64Array;
  /** Per bucket, not cumulative; the last slot is +Inf. */
  readonly #counts: Float64Array;
  #sumMs = 0;

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
    this.#boundsMs = Float64Array.from(LATENCY_BUCKETS, (s) => s * 1000);
    this.#counts = new Float64Array(LATENCY_BUCKETS.length + 1);
  }

  observeMs(ms: number): void {
    const bounds = this.#boundsMs;
    // Most requests land in the first buckets: a forward scan ends early.
    let i = 0;
    while (i < bounds.length && ms > bounds[i]) i++;
    this.#counts[i]++;
    this.#sumMs += ms;
  }

  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      cumulative += this.#counts[i];
      values.push({ labels: { le: i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i] : '+Inf' }, value: cumulative, metricName: this.name + '_bucket' });
    }
    values.push({ labels: {}, value: this.#sumMs / 1000, metricName: this.name + '_sum' });
    values.push({ labels: {}, value: cumulative, metricName: this.name + '_count' });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sumMs = 0;
  }
}

/** Requests (first SLOTS entries) and edge errors (the next SLOTS) of one zone label, by status slot. */
const zoneCounts = () => new Float64Array(2 * SLOTS);

export class TrafficMetrics {
  readonly #total = new BucketHistogram('originpull_edge_request_duration_seconds', 'Visitor requests from the head read to the answer handed to the visitor');
  readonly #origin = new BucketHistogram(
    'originpull_edge_origin_duration_seconds',
    "Time from sending a request towards the origin (connecting included) to the origin's response head",
  );
  /** The labelled zones, in the order they got their label. */
  #zones = new Map<string, Float64Array>();
  readonly #other = zoneCounts();
  readonly #none = zoneCounts();

  constructor(registry: Registry) {
    registry.registerMetric(this.#total as unknown as Histogram);
    registry.registerMetric(this.#origin as unknown as Histogram);
    new Counter({
      name: 'originpull_edge_zone_requests_total',
      help: `Visitor requests by zone (at most ${MAX_ZONE_LABELS}, then "${OTHER_ZONE}"; "${NO_ZONE}" when no zone matched) and status class or 52x code`,
      labelNames: ['zone', 'status'],
      registers: [registry],
      collect: this.#collect(0),
    });
    new Counter({
      name: 'originpull_edge_zone_errors_total',
      help: 'Requests that ended in an edge error (its error page, or an answer cut when the origin failed mid-way) by zone and status class or 52x code',
      labelNames: ['zone', 'status'],
      registers: [registry],
      collect: this.#collect(SLOTS),
    });
  }

  #collect(offset: number) {
    const zones = () => this.#zones;
    const other = this.#other;
    const none = this.#none;
    return function (this: Counter<'zone' | 'status'>) {
      this.reset();
      const publish = (zone: string, counts: Float64Array) => {
        for (let slot = 0; slot < SLOTS; slot++) if (counts[offset + slot] > 0) this.inc({ zone, status: STATUS_LABELS[slot] }, counts[offset + slot]);
      };
      for (const [zone, counts] of zones()) publish(zone, counts);
      publish(OTHER_ZONE, other);
      publish(NO_ZONE, none);
    };
  }

  /** Zones that left the snapshot lose their label; new ones get one while there is room. */
  setSnapshot(snapshot: Snapshot): void {
    const names = new Set<string>();
    for (const routes of [snapshot.exact, snapshot.associated, snapshot.wildcards]) for (const route of routes.values()) names.add(route.zoneName);
    const next = new Map<string, Float64Array>();
    for (const [zone, counts] of this.#zones) if (names.has(zone)) next.set(zone, counts);
    // Sorted, so workers that serve the same snapshot label the same zones.
    for (const zone of [...names].sort()) {
      if (next.size >= MAX_ZONE_LABELS) break;
      if (!next.has(zone)) next.set(zone, zoneCounts());
    }
    this.#zones = next;
  }

  /** A finished request. */
  record(ctx: RequestCtx): void {
    const route = ctx.route;
    const counts = route === null ? this.#none : (this.#zones.get(route.zoneName) ?? this.#other);
    const slot = STATUS_SLOT[ctx.status % 1000];
    counts[slot]++;
    if (ctx.error !== null) counts[SLOTS + slot]++;
    // An upgraded connection's duration is how long it stayed open, not a latency.
    if (ctx.status !== 101) this.#total.observeMs(ctx.tEnd - ctx.tStart);
    if (ctx.tHeaders > 0) this.#origin.observeMs(ctx.tHeaders - ctx.tUpstream);
  }
}
