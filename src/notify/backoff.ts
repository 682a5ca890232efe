// Retry schedule for failed deliveries: exponential with jitter, capped, given up after a day.

export interface RetryPolicy {
  /** Delay after the first failed attempt. Default 30 s. */
  firstDelayMs: number;
  /** Cap on one delay. Default 1 h. */
  maxDelayMs: number;
  /** From enqueueing: a failure past this marks the delivery failed. Default 24 h. */
  giveUpAfterMs: number;
  /** ± fraction of each delay, so receivers coming back are not hit by every node at once. Default 0.2. */
  jitter: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  firstDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  giveUpAfterMs: 86_400_000,
  jitter: 0.2,
});

/**
 * Delay before attempt `failed + 1`, after `failed` (≥ 1) attempts failed: firstDelayMs × 2^(failed−1),
 * capped, times a factor in [1 − jitter, 1 + jitter]. With jitter ≤ 0.2 each delay is longer
 * than the one before until the cap.
 */
export function retryDelay(failed: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(Math.max(failed - 1, 0), 40));
  const factor = 1 - policy.jitter + 2 * policy.jitter * random();
  return Math.round(exp * factor);
}
