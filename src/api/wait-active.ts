// `?wait=active` (an originpull extension on uploads and PUT …/hostnames): instead of answering
// `pending_deployment` at once, hold the answer until every live edge reports the change (or the
// status is otherwise settled), at most the deployment deadline; the answer carries whatever
// status was reached.
//
// Waiting costs no polling per request: one hub per API instance follows the store's edge-report
// signal (Store.onEdgeReport: this process's reports at once, other nodes' through the change
// feed) while anyone waits, re-reads the edges once per signal, and re-checks the waiters only
// when what the edges serve changed. At most `deployment.maxWaiters` requests wait at once; one
// more is refused before it writes anything (429 with Retry-After), so the cap never turns a
// stored change into an error.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeploymentView } from '../domain/index.ts';
import type { ApiContext } from './context.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { deploymentView } from './status.ts';

type Settled = (view: DeploymentView) => Promise<boolean>;

interface Waiter {
  settled: Settled;
  done: () => void;
}

/** Seconds a refused waiter is told to wait: about one deployment on a healthy installation. */
const RETRY_AFTER_S = 1;

class DeploymentWaiters {
  readonly #ctx: ApiContext;
  readonly #waiters = new Set<Waiter>();
  /** Requests holding a slot (from before their write until their answer). */
  #slots = 0;
  #unsubscribe: (() => void) | null = null;
  #checking = false;
  #again = false;
  /** What the edges served at the last check of the waiters (skip re-checks while unchanged). */
  #seen = '';

  constructor(ctx: ApiContext) {
    this.#ctx = ctx;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  /** Takes a slot or throws the 429; `release` gives it back (once). */
  reserve(): () => void {
    const max = this.#ctx.config.deployment.maxWaiters;
    if (this.#slots >= max) {
      throw new ApiError(
        API_ERRORS.tooManyWaiters,
        `${max} requests are already waiting with ?wait=active, the most this API node holds at once; nothing was changed. Retry shortly, or send the request without ?wait=active and read the status`,
        { headers: { 'retry-after': String(RETRY_AFTER_S) } },
      );
    }
    this.#slots++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#slots--;
    };
  }

  wait(settled: Settled): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.closing.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        ctx.closing.removeEventListener('abort', finish);
        if (!this.#waiters.delete(waiter)) return;
        if (this.#waiters.size === 0) this.#stop();
        resolve();
      };
      const waiter: Waiter = { settled, done: finish };
      // Past the deadline by the wall clock, so the answer reads timed out rather than pending
      // (a timer may fire a little before Date.now() says the time has come).
      const until = Date.now() + ctx.config.deployment.deadlineMs;
      const expire = (): void => {
        const left = until - Date.now();
        if (left >= 0) timer = setTimeout(expire, left + 1);
        else finish();
      };
      let timer = setTimeout(expire, ctx.config.deployment.deadlineMs + 1);
      ctx.closing.addEventListener('abort', finish);
      this.#waiters.add(waiter);
      if (this.#unsubscribe === null) this.#unsubscribe = ctx.store.onEdgeReport(() => void this.#check(false));
      // The edges may have applied it already, before this request subscribed.
      void this.#check(true);
    });
  }

  #stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#seen = '';
  }

  /** One read of the edges for all waiters; overlapping signals coalesce into one more. */
  async #check(force: boolean): Promise<void> {
    if (this.#checking) {
      this.#again = true;
      if (force) this.#seen = '';
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#again = false;
        if (this.#waiters.size === 0) break;
        let view: DeploymentView;
        try {
          view = await deploymentView(this.#ctx);
        } catch {
          continue; // the store is unreachable: the next signal (or the deadline) decides
        }
        const seen = `${view.deployedVersion}|${view.liveEdges.map((e) => `${e.id}:${e.appliedVersion}`).join(',')}`;
        if (!force && seen === this.#seen) continue;
        this.#seen = seen;
        force = false;
        await Promise.all(
          [...this.#waiters].map(async (w) => {
            try {
              if (await w.settled(view)) w.done();
            } catch {
              // A failed read keeps it waiting: the next signal or its deadline ends it.
            }
          }),
        );
      } while (this.#again && this.#waiters.size > 0);
    } finally {
      this.#checking = false;
    }
  }
}

const hubs = new WeakMap<ApiContext, DeploymentWaiters>();

function hub(ctx: ApiContext): DeploymentWaiters {
  let h = hubs.get(ctx);
  if (h === undefined) hubs.set(ctx, (h = new DeploymentWaiters(ctx)));
  return h;
}

/** Waits until `settled` holds (re-checked when the edges report), the deadline passes or the server closes. */
export function waitUntilSettled(ctx: ApiContext, settled: Settled): Promise<void> {
  return hub(ctx).wait(settled);
}

/** Requests waiting right now (tests, health). */
export function waitingRequests(ctx: ApiContext): number {
  return hub(ctx).waiting;
}

const RELEASE = Symbol('originpull.waitSlot');

/**
 * Reserves a waiting slot for every write that asks `?wait=active`, before its handler runs (and
 * so before it stores anything), and gives it back when the answer is sent or the client leaves.
 */
export function installWaitActive(app: FastifyInstance, ctx: ApiContext): void {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    if (request.method === 'GET' || (request.query as { wait?: unknown } | undefined)?.wait !== 'active') return;
    (request as unknown as Record<symbol, () => void>)[RELEASE] = hub(ctx).reserve();
  });
  const release = async (request: FastifyRequest): Promise<void> => {
    (request as unknown as Record<symbol, (() => void) | undefined>)[RELEASE]?.();
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
}
