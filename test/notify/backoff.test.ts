import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY, retryDelay } from '../../src/notify/index.ts';

test('delays double from 30 s, stay within ±20 % jitter, and are capped at 1 h', () => {
  const exact = (n: number) => retryDelay(n, { ...DEFAULT_RETRY, jitter: 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(exact), [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
  assert.equal(exact(500), 3_600_000, 'huge attempt counts do not overflow');
  assert.equal(retryDelay(1, DEFAULT_RETRY, () => 0), 24_000);
  assert.equal(retryDelay(1, DEFAULT_RETRY, () => 0.999999), 36_000);
  // Worst case for growth: the longest jittered delay, then the shortest next one.
  for (let n = 1; n < 7; n++) assert.ok(retryDelay(n + 1, DEFAULT_RETRY, () => 0) > retryDelay(n, DEFAULT_RETRY, () => 0.999999), `attempt ${n}`);
});
