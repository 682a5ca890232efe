// Bounded store calls for an edge node's loops (loads, heartbeats, reports): a call that hangs
// on a silently dropped connection counts as a failure after a while instead of holding the loop.
// Against a store that stops answering, also in test/sync/edge-node.test.ts.

/**
 * Store calls by what they do. A call that timed out still holds a store connection until the
 * store's own query timeout drops it, so the same call is not started again before it settles:
 * loops that give up early on a partitioned store do not pile up connections until the pool is
 * exhausted.
 */
export class StoreCalls {
  readonly #pending = new Set<string>();

  run<T>(call: () => Promise<T>, ms: number, what: string): Promise<T> {
    if (this.#pending.has(what)) return Promise.reject(new Error(`store has not answered the previous call yet (${what})`));
    this.#pending.add(what);
    const promise = call();
    promise.then(
      () => this.#pending.delete(what),
      () => this.#pending.delete(what),
    );
    return withTimeout(promise, ms, what);
  }
}

/** A store call that hangs (a silently dropped connection) must not hold the node's loops. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // setImmediate: after a long synchronous stretch (a big snapshot build) an answer that
    // arrived meanwhile is taken in the poll phase first, rather than read as a time-out.
    timer = setTimeout(() => setImmediate(() => reject(new Error(`store did not answer within ${ms} ms (${what})`))), ms);
    timer.unref();
  });
  promise.catch(() => {}); // a late failure after the timeout is not unhandled
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
