// StoreHealth, the edge node's account of its store's availability, driven as the node's loops
// drive it (a fake edge collaborator records the store_up metric): never reached reads as
// unreachable, a failure keeps the time the trouble began, the last-known copy stays degraded
// until a configuration from the store is applied, retries back off and reset once the store
// answers, and one retry is pending at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { StoreHealth, type ServingEdge } from '../../src/sync/store-health.ts';

function harness(retryMs = { min: 10, max: 80 }) {
  const ups: boolean[] = [];
  const logs: string[] = [];
  const edge: ServingEdge = { appliedVersion: 7, metrics: { setStoreUp: (up) => void ups.push(up) } };
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line).msg) });
  const registry = new Registry();
  const health = new StoreHealth({ edge, logger, registry, retryMs });
  const gauge = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await registry.metrics())?.[1]);
  return { health, ups, logs, gauge };
}

test('before the store first answers: unreachable, never contacted', async () => {
  const { health, gauge } = harness();
  assert.equal(health.degraded()?.reason, 'store_unreachable');
  assert.deepEqual(health.report(), { connected: false, lastContactAt: null, lastError: null });
  assert.equal(await gauge('originpull_edge_degraded'), 1);
  assert.equal(await gauge('originpull_edge_store_last_contact_age_seconds'), -1);
  health.ok();
  assert.equal(health.degraded(), null);
  assert.equal(health.report().connected, true);
  assert.ok(health.report().lastContactAt !== null);
  assert.equal(await gauge('originpull_edge_degraded'), 0);
  assert.ok((await gauge('originpull_edge_store_last_contact_age_seconds')) >= 0);
});

test('failures: degraded since the first one, with the last error; an answer clears it', async () => {
  const { health, ups, logs } = harness();
  health.ok();
  const before = Date.now();
  health.failed(new Error('connection reset'));
  const since = health.degraded()!.since;
  assert.ok(Date.parse(since) >= before - 1);
  await new Promise((r) => setTimeout(r, 20));
  health.failed('still down');
  assert.deepEqual(health.degraded(), { reason: 'store_unreachable', since, detail: 'still down' });
  assert.deepEqual(health.report(), { connected: false, lastContactAt: health.report().lastContactAt, lastError: 'still down' });
  assert.equal(logs.filter((m) => m.startsWith('store unreachable')).length, 1, 'one warning per outage');
  health.ok();
  assert.equal(health.degraded(), null);
  assert.equal(health.report().lastError, null);
  assert.deepEqual(ups, [true, false, false, true]);
  assert.ok(logs.includes('store reachable again'));
});

test('serving the last-known copy: degraded until a configuration from the store is applied', async () => {
  const { health, logs, gauge } = harness();
  health.failed(new Error('refused'));
  const since = health.degraded()!.since;
  health.servingFromLastKnown();
  assert.equal(health.servingLastKnown, true);
  assert.deepEqual(health.degraded(), { reason: 'serving_last_known_config', since, detail: 'refused' });
  assert.equal(await gauge('originpull_edge_serving_last_known'), 1);
  // The store answers, but the node still serves the copy from disk.
  health.ok();
  assert.deepEqual(health.degraded(), { reason: 'serving_last_known_config', since, detail: null });
  health.appliedFromStore(9);
  assert.equal(health.servingLastKnown, false);
  assert.equal(health.degraded(), null);
  assert.equal(await gauge('originpull_edge_serving_last_known'), 0);
  assert.ok(logs.includes('caught up with the store after serving the last known configuration'));
});

test('a configuration from the store applied while the store is failing again stays degraded, since the first failure', async () => {
  const { health } = harness();
  health.failed(new Error('down'));
  health.servingFromLastKnown();
  const since = health.degraded()!.since;
  await new Promise((r) => setTimeout(r, 20));
  health.appliedFromStore(9);
  assert.deepEqual(health.degraded(), { reason: 'store_unreachable', since, detail: 'down' });
});

test('retries back off up to the maximum and start over once the store answers', () => {
  const { health } = harness({ min: 10, max: 50 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => health.nextRetryDelay()), [10, 20, 40, 50, 50]);
  health.ok();
  assert.equal(health.nextRetryDelay(), 10);
});

test('one retry pending at a time, none after close()', async () => {
  const { health } = harness({ min: 30, max: 30 });
  let runs = 0;
  health.retryLater(() => runs++);
  health.retryLater(() => runs++);
  const deadline = Date.now() + 5_000;
  while (runs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(runs, 1);
  health.retryLater(() => runs++);
  health.close();
  health.retryLater(() => runs++);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(runs, 1);
});
