// How many streams a visitor may reset while the edge is working on them (HTTP/2's rapid reset,
// CVE-2023-44487): each reset stream costs an origin exchange begun for nothing. A token bucket:
// `burst` resets at once, refilled at `perSecond`; a connection that spends it all is sent away.
// Pure (the caller passes the clock): tested in test/edge/http2-limits.test.ts.

export class ResetBudget {
  readonly burst: number;
  readonly perSecond: number;
  #tokens: number;
  #at = -1;

  constructor(burst: number, perSecond: number) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.#tokens = burst;
  }

  /** One reset at `nowMs`; false once the budget is spent. */
  spend(nowMs: number): boolean {
    if (this.#at >= 0) this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#at) * this.perSecond) / 1000);
    this.#at = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
