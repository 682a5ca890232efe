// The pure decisions behind HTTP/2 to visitors: which protocol ALPN picks for a name (the zone's
// `http2` setting, read from the snapshot), and the reset budget that bounds rapid resets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseAlpn } from '../../src/edge/alpn.ts';
import { ResetBudget } from '../../src/edge/reset-budget.ts';
import { EMPTY_SNAPSHOT, type Route, type Snapshot } from '../../src/edge/index.ts';

function snapshotWith(routes: Record<string, boolean>, wildcards: Record<string, boolean> = {}): Snapshot {
  const route = (name: string, http2: boolean) => ({ name, http2 }) as unknown as Route;
  return {
    ...EMPTY_SNAPSHOT,
    exact: new Map(Object.entries(routes).map(([n, on]) => [n, route(n, on)])),
    wildcards: new Map(Object.entries(wildcards).map(([n, on]) => [n, route(n, on)])),
  };
}

test('h2 when offered and the zone of the SNI name allows it, else http/1.1', () => {
  const snap = snapshotWith({ 'on.example': true, 'off.example': false }, { '*.off.example': false });
  assert.equal(chooseAlpn(snap, 'on.example', ['h2', 'http/1.1']), 'h2');
  assert.equal(chooseAlpn(snap, 'ON.example.', ['http/1.1', 'h2']), 'h2');
  assert.equal(chooseAlpn(snap, 'on.example', ['http/1.1']), 'http/1.1');
  assert.equal(chooseAlpn(snap, 'off.example', ['h2', 'http/1.1']), 'http/1.1');
  assert.equal(chooseAlpn(snap, 'a.off.example', ['h2', 'http/1.1']), 'http/1.1');
  // Only h2 offered for a zone that refuses it: no protocol in common, the handshake fails.
  assert.equal(chooseAlpn(snap, 'off.example', ['h2']), undefined);
  // Names no zone covers, and no SNI at all: the default (on).
  assert.equal(chooseAlpn(snap, 'unknown.example', ['h2', 'http/1.1']), 'h2');
  assert.equal(chooseAlpn(snap, undefined, ['h2']), 'h2');
  assert.equal(chooseAlpn(snap, 'on.example', ['spdy/3']), undefined);
});

test('the reset budget: a burst at once, then the refill rate; idle time refills up to the burst only', () => {
  const budget = new ResetBudget(5, 10);
  let t = 1_000;
  for (let i = 0; i < 5; i++) assert.equal(budget.spend(t), true, `burst ${i}`);
  assert.equal(budget.spend(t), false);
  // 10 per second: one more every 100 ms.
  t += 100;
  assert.equal(budget.spend(t), true);
  assert.equal(budget.spend(t), false);
  t += 60_000;
  let allowed = 0;
  while (budget.spend(t)) allowed++;
  assert.equal(allowed, 5);
});
