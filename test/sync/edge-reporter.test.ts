// EdgeReporter, which tells the store's edge registry what version the node applied: nothing
// before start() or after close(), one report at once with later ones coalescing into one more
// carrying the latest version, none while the secret key is unchecked (the heartbeat still runs),
// and each outcome passed on to the store contact. The registry is a fake whose answers the test
// releases; the reporter and its bounded calls are real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { EdgeReport } from '../../src/store/index.ts';
import { EdgeReporter, type EdgeReporterOptions } from '../../src/sync/edge-reporter.ts';
import { StoreCalls } from '../../src/sync/store-calls.ts';

function harness(over: Partial<EdgeReporterOptions> = {}) {
  const reports: EdgeReport[] = [];
  const pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const contact: string[] = [];
  const node = { id: 'n1', name: 'edge-a', startedAt: 1_000, appliedVersion: 3 };
  const reporter = new EdgeReporter({
    store: {
      reportEdge: (report) => {
        reports.push(report);
        return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
      },
    },
    node,
    contact: { ok: () => void contact.push('ok'), failed: (err) => void contact.push(`failed: ${(err as Error).message}`) },
    calls: new StoreCalls(),
    logger: pino({ level: 'silent' }),
    intervalMs: 60_000,
    timeoutMs: 5_000,
    mayReport: () => true,
    ...over,
  });
  const settle = () => new Promise((r) => setImmediate(r));
  return { reporter, reports, pending, contact, node, settle };
}

test('reports only between start() and close(), with the applied version', async () => {
  const { reporter, reports, pending, contact, node, settle } = harness();
  reporter.report();
  assert.equal(reports.length, 0, 'before start');
  reporter.start();
  assert.deepEqual(reports, [{ id: 'n1', name: 'edge-a', startedAt: 1_000, appliedVersion: 3 }]);
  pending.shift()!.resolve();
  await settle();
  assert.deepEqual(contact, ['ok']);
  node.appliedVersion = 4;
  reporter.report();
  assert.equal(reports.at(-1)!.appliedVersion, 4);
  pending.shift()!.reject(new Error('refused'));
  await settle();
  assert.deepEqual(contact, ['ok', 'failed: refused']);
  reporter.close();
  reporter.report();
  assert.equal(reports.length, 2, 'after close');
});

test('reports overlapping one under way coalesce into one more, with the latest version', async () => {
  const { reporter, reports, pending, node, settle } = harness();
  reporter.start();
  for (let v = 4; v <= 8; v++) {
    node.appliedVersion = v;
    reporter.report();
  }
  assert.equal(reports.length, 1);
  pending.shift()!.resolve();
  await settle();
  assert.deepEqual(reports.map((r) => r.appliedVersion), [3, 8]);
  pending.shift()!.resolve();
  await settle();
  assert.equal(reports.length, 2);
  reporter.close();
});

test('a report under way at close() settles, and the one it held back is not sent', async () => {
  const { reporter, reports, pending, settle } = harness();
  reporter.start();
  reporter.report();
  reporter.close();
  pending.shift()!.resolve();
  await settle();
  assert.equal(reports.length, 1);
});

test('while the key is unchecked nothing is reported; the heartbeat still runs', async () => {
  let verified = false;
  let beats = 0;
  const { reporter, reports, pending } = harness({ intervalMs: 20, mayReport: () => verified, onHeartbeat: () => beats++ });
  reporter.start();
  await until('two heartbeats', () => beats >= 2);
  assert.equal(reports.length, 0);
  verified = true;
  await until('a report', () => reports.length > 0);
  const seen = beats;
  await until('more heartbeats', () => beats >= seen + 2);
  assert.equal(reports.length, 1, 'one report under way, the next ones wait for it');
  reporter.close();
  const closedAt = beats;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(beats, closedAt, 'no heartbeat after close');
  pending.shift()!.resolve();
});

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`no ${what} within 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
