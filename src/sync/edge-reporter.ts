// Reports the version an edge node applied to the store's edge registry, on every heartbeat and
// whenever the node applies a snapshot: those reports are the only source of `active`
// (docs/architecture.md, "One picture", 4). Overlapping reports coalesce into one more, so a burst
// of snapshots costs at most two reports. Tested in test/sync/edge-reporter.test.ts; against a
// real store in test/sync/edge-node.test.ts.
import type { Logger } from 'pino';
import type { EdgeReport } from '../store/index.ts';
import type { StoreCalls } from './store-calls.ts';

/** The store's edge registry, where the reports go. */
export interface EdgeRegistry {
  reportEdge(report: EdgeReport): Promise<void>;
}

/** Told how each report went. */
export interface StoreContact {
  ok(): void;
  failed(err: unknown): void;
}

/** The node being reported. */
export interface ReportedNode {
  readonly id: string;
  readonly name: string;
  readonly startedAt: number;
  readonly appliedVersion: number;
}

export interface EdgeReporterOptions {
  store: EdgeRegistry;
  node: ReportedNode;
  contact: StoreContact;
  /** Shared with the node's other store calls, so a report is never started twice at once. */
  calls: StoreCalls;
  logger: Logger;
  intervalMs: number;
  /** A report taking longer counts as a failure. */
  timeoutMs: number;
  /** False while the node's secret key is unchecked: it might belong to another installation, so it does not report. */
  mayReport: () => boolean;
  /** Runs on every heartbeat after the report is sent. */
  onHeartbeat?: () => void;
}

export class EdgeReporter {
  readonly #o: EdgeReporterOptions;
  #heartbeat: NodeJS.Timeout | null = null;
  #closed = false;
  #reporting = false;
  #reportAgain = false;

  constructor(o: EdgeReporterOptions) {
    this.#o = o;
  }

  /** Reports now, then on every heartbeat. */
  start(): void {
    if (this.#closed || this.#heartbeat !== null) return;
    this.#heartbeat = setInterval(() => this.#beat(), this.#o.intervalMs);
    this.#heartbeat.unref();
    this.report();
  }

  #beat(): void {
    this.report();
    this.#o.onHeartbeat?.();
  }

  /** Reports the applied version now (nothing before start() or after close()). */
  report(): void {
    if (this.#heartbeat === null || !this.#o.mayReport()) return;
    if (this.#reporting) {
      this.#reportAgain = true;
      return;
    }
    this.#reporting = true;
    const n = this.#o.node;
    const report: EdgeReport = { id: n.id, name: n.name, startedAt: n.startedAt, appliedVersion: n.appliedVersion };
    this.#o.calls
      .run(() => this.#o.store.reportEdge(report), this.#o.timeoutMs, 'reporting to the store')
      .then(
        () => this.#o.contact.ok(),
        (err) => {
          this.#o.contact.failed(err);
          this.#o.logger.debug({ err }, 'heartbeat failed');
        },
      )
      .finally(() => {
        this.#reporting = false;
        if (this.#reportAgain) {
          this.#reportAgain = false;
          this.report();
        }
      });
  }

  /** Stops the heartbeat; a report under way still settles, and no other follows it. */
  close(): void {
    this.#closed = true;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }
}
