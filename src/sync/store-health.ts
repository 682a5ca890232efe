// What an edge node knows about its store's availability: whether the last call got through,
// the last error, when the store last answered, whether the node serves its last-known copy from
// local disk, and since when it has been in trouble. It backs off the node's retries while the
// store fails, and puts all of it on the node's /healthz and /metrics (`degraded`,
// `serving_last_known`). It never calls the store: the node's loops tell it how their calls went.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';

/** Why an edge reports `degraded`, and since when. */
export interface DegradedState {
  reason: 'store_unreachable' | 'serving_last_known_config';
  since: string;
  detail: string | null;
}

/** The edge whose serving the store's availability concerns. */
export interface ServingEdge {
  readonly appliedVersion: number;
  readonly metrics: { setStoreUp(up: boolean): void } | null;
}

export interface StoreHealthOptions {
  edge: ServingEdge;
  logger: Logger;
  /** Where the gauges go. */
  registry: Registry;
  /** Back-off between store retries: the first waits `min`, each further one twice as long, up to `max`. */
  retryMs: { min: number; max: number };
}

/** The store part of the node's /healthz. */
export interface StoreContactReport {
  connected: boolean;
  lastContactAt: string | null;
  lastError: string | null;
}

export class StoreHealth {
  readonly #edge: ServingEdge;
  readonly #log: Logger;
  readonly #retryMin: number;
  readonly #retryMax: number;
  #retryDelay: number;
  #retryTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #connected = false;
  #lastError: string | null = null;
  #lastContact = 0;
  #servingLastKnown = false;
  /** When the current trouble with the store began (null while all is well). */
  #troubleSince: number | null = null;

  constructor(o: StoreHealthOptions) {
    this.#edge = o.edge;
    this.#log = o.logger;
    this.#retryMin = o.retryMs.min;
    this.#retryMax = o.retryMs.max;
    this.#retryDelay = this.#retryMin;
    this.#registerGauges(o.registry);
  }

  #registerGauges(registry: Registry): void {
    const degraded = () => (this.degraded() === null ? 0 : 1);
    const lastKnown = () => (this.#servingLastKnown ? 1 : 0);
    const contactAge = () => (this.#lastContact === 0 ? -1 : (Date.now() - this.#lastContact) / 1000);
    new Gauge({
      name: 'originpull_edge_degraded',
      help: '1 while the edge serves without a working store (see /healthz for the reason and since when)',
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.set(degraded());
      },
    });
    new Gauge({
      name: 'originpull_edge_serving_last_known',
      help: '1 while the edge serves the configuration saved on its local disk (the store was unreachable at start)',
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.set(lastKnown());
      },
    });
    new Gauge({
      name: 'originpull_edge_store_last_contact_age_seconds',
      help: 'Seconds since the edge last heard from the store (-1: never)',
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.set(contactAge());
      },
    });
  }

  /** True while the applied snapshot comes from the copy on local disk, not from the store. */
  get servingLastKnown(): boolean {
    return this.#servingLastKnown;
  }

  /** A store call got through. */
  ok(): void {
    if (!this.#connected && this.#lastError !== null) this.#log.info('store reachable again');
    this.#connected = true;
    this.#lastError = null;
    this.#lastContact = Date.now();
    this.#retryDelay = this.#retryMin;
    if (!this.#servingLastKnown) this.#troubleSince = null;
    this.#edge.metrics?.setStoreUp(true);
  }

  /** A store call failed or timed out. */
  failed(err: unknown): void {
    if (this.#connected) this.#log.warn({ err, version: this.#edge.appliedVersion }, 'store unreachable; visitors are served from the applied snapshot');
    this.#connected = false;
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#troubleSince ??= Date.now();
    this.#edge.metrics?.setStoreUp(false);
  }

  /** The node applied its last-known copy because the store could not be reached at start. */
  servingFromLastKnown(): void {
    this.#servingLastKnown = true;
    this.#troubleSince ??= Date.now();
  }

  /** The node applied a configuration loaded from the store. */
  appliedFromStore(version: number): void {
    if (this.#servingLastKnown) {
      this.#servingLastKnown = false;
      this.#log.info({ version }, 'caught up with the store after serving the last known configuration');
    }
    if (this.#connected) this.#troubleSince = null;
  }

  /** Null while the node serves the store's latest configuration with the store answering. */
  degraded(): DegradedState | null {
    const since = new Date(this.#troubleSince ?? Date.now()).toISOString();
    if (this.#servingLastKnown) return { reason: 'serving_last_known_config', since, detail: this.#lastError };
    if (!this.#connected) return { reason: 'store_unreachable', since, detail: this.#lastError };
    return null;
  }

  report(): StoreContactReport {
    return {
      connected: this.#connected,
      lastContactAt: this.#lastContact ? new Date(this.#lastContact).toISOString() : null,
      lastError: this.#lastError,
    };
  }

  /** How long to wait before the next try; each call backs off further until the store answers (ok()). */
  nextRetryDelay(): number {
    const d = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryMax, this.#retryDelay * 2);
    return d;
  }

  /** Runs `retry` after the next back-off delay, unless a retry is already pending or health is closed. */
  retryLater(retry: () => void): void {
    if (this.#retryTimer !== null || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      retry();
    }, this.nextRetryDelay());
    this.#retryTimer.unref();
  }

  /** Cancels a pending retry; none is scheduled after. */
  close(): void {
    this.#closed = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}
