// The notifier: every tick it (1) plans which alerts are due and records each in the store's
// outbox BEFORE anything is sent (unique dedupe key per certificate, event, policy, webhook),
// cancels pending ones that no longer apply, then (2) claims due deliveries with a lease and
// POSTs them, rescheduling failures with exponential backoff until 24 h have passed.
//
// Exactly once: a row is inserted once (ON CONFLICT DO NOTHING) and claimed by one notifier (a
// conditional UPDATE), whichever node or restart runs it; a claim whose node died is retaken when
// its lease lapses. The one window left is a crash after the receiver answered and before the
// result was recorded: that delivery is sent again when the lease lapses, with the same
// alert_correlation_id, so receivers can drop it.
//
// Lifecycle: start() runs a scan now and every intervalMs (and ~1 s after a config change, e.g.
// an upload); close() stops and waits for the running scan (sends end within the timeout);
// destroy() also aborts the sends in flight, leaving their leases to lapse.
import { channel } from 'node:diagnostics_channel';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { NotFoundError, type AlertAttemptResult, type AlertDelivery, type SecretBox, type Store } from '../store/index.ts';
import { DEFAULT_RETRY, retryDelay, type RetryPolicy } from './backoff.ts';
import { planAlerts } from './plan-alerts.ts';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, postWebhook } from './send-webhook.ts';
import { checkWebhookUrl, webhookAllowList, type WebhookAllowList } from './webhook-allow.ts';

export type NotifyLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface NotifierOptions {
  store: Store;
  /** Opens the webhook secrets (sealed in the store). */
  secretBox: SecretBox;
  logger?: NotifyLogger | false;
  /** The clock for thresholds, schedules and leases; tests move it. Default Date.now. */
  now?: () => number;
  /** Between scans. Default 30 s. */
  intervalMs?: number;
  /** One POST's deadline. Default 10 s. */
  timeoutMs?: number;
  /** How long a claim holds a delivery (must exceed timeoutMs). Default 60 s. */
  leaseMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Jitter source, [0, 1). Default Math.random. */
  random?: () => number;
  /** Default: ORIGINPULL_WEBHOOK_ALLOW read once now (see webhook-allow.ts). */
  allowList?: WebhookAllowList;
  /** Names this notifier in leases. Default host:pid:random. */
  owner?: string;
  /** Deliveries claimed (and sent in parallel) at a time. Default 16. */
  batchSize?: number;
}

export interface ScanResult {
  /** Outbox rows this scan inserted (new alerts). */
  enqueued: number;
  /** Pending deliveries cancelled (certificate deleted or replaced, policy changed…). */
  cancelled: number;
  /** POSTs attempted. */
  attempted: number;
  delivered: number;
  /** Failed attempts rescheduled. */
  retrying: number;
  /** Deliveries given up (24 h passed, URL no longer allowed, secret unreadable). */
  failed: number;
}

export interface Notifier {
  readonly owner: string;
  start(): void;
  /** One full pass (plan, enqueue, cancel, deliver what is due); runs are serialised. */
  scanOnce(): Promise<ScanResult>;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/** `{ id, outcome, attempts, status, error }` after each attempt, for logs and metrics. */
export const deliveryChannel = channel('originpull:notify:delivery');

const CHANGE_DEBOUNCE_MS = 1_000;
const MAX_ROUNDS = 50;

class ExpiryNotifier implements Notifier {
  readonly owner: string;
  readonly #store: Store;
  readonly #box: SecretBox;
  readonly #log: NotifyLogger | null;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  readonly #retry: RetryPolicy;
  readonly #random: () => number;
  readonly #allow: WebhookAllowList;
  readonly #batch: number;
  readonly #abort = new AbortController();
  /** Dedupe keys known to be in the outbox: their payloads need not be built again. */
  readonly #known = new Set<string>();
  #running: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #soon: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #started = false;
  #closed = false;

  constructor(opts: NotifierOptions) {
    this.#store = opts.store;
    this.#box = opts.secretBox;
    this.#log = opts.logger || null;
    this.#now = opts.now ?? Date.now;
    this.#intervalMs = opts.intervalMs ?? 30_000;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.#leaseMs = opts.leaseMs ?? 60_000;
    if (this.#leaseMs <= this.#timeoutMs) throw new Error(`notifier: leaseMs (${this.#leaseMs}) must exceed timeoutMs (${this.#timeoutMs})`);
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#random = opts.random ?? Math.random;
    this.#allow = opts.allowList ?? webhookAllowList();
    this.#batch = opts.batchSize ?? 16;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#unsubscribe = this.#store.onChange(() => this.#scanSoon());
    this.#schedule(0);
  }

  scanOnce(): Promise<ScanResult> {
    if (this.#closed) return Promise.reject(new Error('the notifier is closed'));
    const run = this.#running.then(() => this.#scan());
    this.#running = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    this.#stop();
    await this.#running;
  }

  async destroy(): Promise<void> {
    this.#stop();
    this.#abort.abort();
    await this.#running;
  }

  #stop(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#soon) clearTimeout(this.#soon);
    this.#timer = this.#soon = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#tick().finally(() => {
        if (!this.#timer) this.#schedule(this.#intervalMs);
      });
    }, ms);
    this.#timer.unref();
  }

  /** A certificate was uploaded, replaced or deleted: look soon rather than at the next tick. */
  #scanSoon(): void {
    if (this.#soon || this.#closed) return;
    this.#soon = setTimeout(() => {
      this.#soon = null;
      void this.#tick();
    }, CHANGE_DEBOUNCE_MS);
    this.#soon.unref();
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.scanOnce();
    } catch (err) {
      if (!this.#closed) this.#log?.error({ err }, 'alert scan failed; retrying at the next tick');
    }
  }

  async #scan(): Promise<ScanResult> {
    const result: ScanResult = { enqueued: 0, cancelled: 0, attempted: 0, delivered: 0, retrying: 0, failed: 0 };
    await this.#reconcile(result);
    await this.#deliverDue(result);
    return result;
  }

  async #reconcile(result: ScanResult): Promise<void> {
    const store = this.#store;
    const now = this.#now();
    const [policies, pending] = await Promise.all([store.listAlertPolicies(), store.listAlertDeliveries({ status: 'pending', limit: 100_000 })]);
    if (!policies.some((p) => p.enabled) && pending.length === 0) return;
    let config;
    try {
      config = await store.loadConfig();
    } catch (err) {
      if (err instanceof NotFoundError) return; // installation not initialised yet: nothing uploaded
      throw err;
    }
    const accounts = new Map((await store.listAccounts()).map((a) => [a.id, a]));
    // Every live pack, not only the served ones the config holds: a first order that fails alerts too.
    const certificatePacks = await store.listLiveCertificatePacks();
    const plan = planAlerts({ config: { ...config, certificatePacks }, accounts, policies, now, giveUpAfterMs: this.#retry.giveUpAfterMs, known: (k) => this.#known.has(k) });
    if (plan.deliveries.length > 0) {
      result.enqueued = await store.enqueueAlertDeliveries(plan.deliveries);
      for (const d of plan.deliveries) this.#known.add(d.dedupeKey);
      if (result.enqueued > 0) this.#log?.info({ enqueued: result.enqueued }, 'certificate alerts recorded');
    }
    const byReason = new Map<string, string[]>();
    for (const d of pending) {
      if (d.leaseUntil !== null && d.leaseUntil > now) continue; // being sent: its sender decides
      const reason = plan.cancelReason(d);
      if (reason === null) continue;
      let ids = byReason.get(reason);
      if (!ids) byReason.set(reason, (ids = []));
      ids.push(d.id);
    }
    for (const [reason, ids] of byReason) {
      const n = await store.cancelAlertDeliveries(ids, reason, now);
      result.cancelled += n;
      if (n > 0) this.#log?.info({ cancelled: n, reason }, 'pending certificate alerts cancelled');
    }
  }

  async #deliverDue(result: ScanResult): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS && !this.#abort.signal.aborted; round++) {
      const claimed = await this.#store.claimAlertDeliveries({ owner: this.owner, now: this.#now(), leaseMs: this.#leaseMs, limit: this.#batch });
      if (claimed.length === 0) return;
      const outcomes = await Promise.all(claimed.map((d) => this.#attempt(d)));
      for (const outcome of outcomes) {
        if (outcome === 'aborted') continue;
        result.attempted++;
        if (outcome === 'delivered') result.delivered++;
        else if (outcome === 'retry') result.retrying++;
        else if (outcome === 'failed') result.failed++;
      }
    }
  }

  async #attempt(d: AlertDelivery): Promise<AlertAttemptResult['outcome'] | 'aborted'> {
    const webhook = await this.#store.getAlertWebhook(d.accountId, d.webhookId);
    if (!webhook) return this.#finish(d, { outcome: 'cancelled', at: this.#now(), httpStatus: null, error: 'cancelled: the webhook was deleted' });
    const target = checkWebhookUrl(webhook.url, this.#allow);
    if (!target.ok) return this.#finish(d, { outcome: 'failed', at: this.#now(), httpStatus: null, error: `not sent: ${target.message}` });
    let secret: string | null = null;
    if (webhook.secretSealed !== null) {
      try {
        secret = this.#box.open(webhook.secretSealed);
      } catch {
        const error = "not sent: the webhook's secret cannot be opened with this installation's secret key";
        return this.#finish(d, { outcome: 'failed', at: this.#now(), httpStatus: null, error });
      }
    }
    const res = await postWebhook({ url: target.url, secret, body: d.payload, timeoutMs: this.#timeoutMs, signal: this.#abort.signal, lookup: target.lookup });
    if (!res.ok && res.aborted) return 'aborted'; // destroy(): the lease lapses and another attempt follows
    const at = this.#now();
    if (res.ok) return this.#finish(d, { outcome: 'delivered', at, httpStatus: res.status });
    // The name now resolves to an address the installation does not send to: not retried.
    if (res.addressDenied) return this.#finish(d, { outcome: 'failed', at, httpStatus: null, error: res.error });
    const next = at + retryDelay(d.attempts, this.#retry, this.#random);
    if (next > d.giveUpAt) {
      const error = `gave up after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}: ${res.error}`;
      return this.#finish(d, { outcome: 'failed', at, httpStatus: res.status, error });
    }
    return this.#finish(d, { outcome: 'retry', at, httpStatus: res.status, error: res.error, nextAttemptAt: next });
  }

  async #finish(d: AlertDelivery, result: AlertAttemptResult): Promise<AlertAttemptResult['outcome']> {
    const recorded = await this.#store.finishAlertDelivery(d.id, this.owner, result);
    const status = result.httpStatus;
    const error = result.outcome === 'delivered' ? null : result.error;
    if (!recorded) this.#log?.warn({ delivery: d.id }, 'alert delivery: the lease was lost before the result was recorded');
    else if (result.outcome === 'delivered') this.#log?.info({ delivery: d.id, webhook: d.webhookId, attempts: d.attempts }, 'certificate alert delivered');
    else this.#log?.warn({ delivery: d.id, webhook: d.webhookId, attempts: d.attempts, outcome: result.outcome, error }, 'certificate alert not delivered');
    if (deliveryChannel.hasSubscribers) deliveryChannel.publish({ id: d.id, outcome: result.outcome, attempts: d.attempts, status, error });
    return result.outcome;
  }
}

/** A notifier, not running yet: call start(), or drive it with scanOnce() (tests). */
export function createNotifier(opts: NotifierOptions): Notifier {
  return new ExpiryNotifier(opts);
}

/** A running notifier: what `originpull serve`/`api` wire in; close() it on shutdown. */
export function startNotifier(opts: NotifierOptions): Notifier {
  const notifier = createNotifier(opts);
  notifier.start();
  return notifier;
}
