// StoreCalls, the edge node's bounded store calls: a call's answer or failure passes through, a
// call that hangs fails after its time, and the same call is not started again before the hung
// one settles (other calls are not held by it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreCalls } from '../../src/sync/store-calls.ts';

test('answers and failures pass through', async () => {
  const calls = new StoreCalls();
  assert.equal(await calls.run(async () => 42, 1_000, 'answer'), 42);
  await assert.rejects(calls.run(async () => Promise.reject(new Error('refused')), 1_000, 'answer'), /refused/);
  assert.equal(await calls.run(async () => 43, 1_000, 'answer'), 43, 'settled calls do not hold the next');
});

test('a hung call times out; the same call waits for it to settle, others do not', async () => {
  const calls = new StoreCalls();
  let release!: () => void;
  let started = 0;
  const hung = () => {
    started++;
    return new Promise<string>((resolve) => (release = () => resolve('late')));
  };
  await assert.rejects(calls.run(hung, 50, 'loading'), /store did not answer within 50 ms \(loading\)/);
  await assert.rejects(calls.run(hung, 50, 'loading'), /has not answered the previous call yet \(loading\)/);
  assert.equal(started, 1, 'not started again');
  assert.equal(await calls.run(async () => 'other', 50, 'reporting'), 'other');
  release();
  await new Promise((r) => setImmediate(r));
  assert.equal(await calls.run(async () => 'again', 50, 'loading'), 'again');
});
