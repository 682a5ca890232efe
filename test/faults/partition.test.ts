// Partitions between the nodes and PostgreSQL: five episodes of a blackhole (nothing passes,
// nothing is closed), each healed with the stalled connections left dead, as a real partition or
// fail-over leaves them. Under steady load no visitor request fails and no process exits; while
// the store is gone every API call answers 503 naming the store, with Retry-After, within the
// store's timeouts; after each heal a change goes through and reaches every edge within the
// normal bound, without a restart, and the API's pool is not exhausted. Connections cut with an
// RST get the same 503 from the API and cost visitors nothing. A node cut off mid-write does not
// keep the config lock: the server ends its session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { probePostgres } from '../scale/harness.ts';
import { Cluster, eventually, sleep, type ApiAnswer } from './cluster.ts';

const QUERY_TIMEOUT_MS = 2_000;
const BLACKHOLE_MS = 6_000;
/** An API call while the store is gone: one connect or query timeout, plus a loaded machine. */
const UNAVAILABLE_BOUND_MS = QUERY_TIMEOUT_MS + 5_000;
/** From a heal to a change applied by every edge: stale connections time out once, then a load. */
const PROPAGATION_BOUND_MS = 12_000;

const unreachable = await probePostgres();
let c: Cluster | undefined;

before(async () => {
  if (unreachable) return;
  c = await Cluster.start({
    edges: [
      { name: 'part-w0', workers: 0 },
      { name: 'part-w2', workers: 2 },
    ],
    env: { ORIGINPULL_STORE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS), ORIGINPULL_STORE_STATEMENT_TIMEOUT_MS: '1500' },
  });
});

after(async () => {
  await c?.close();
});

function assertUnavailable(answer: ApiAnswer, what: string): void {
  assert.equal(answer.status, 503, `${what}: ${JSON.stringify(answer)}`);
  const [error] = answer.body!.errors;
  assert.equal(error.code, 1161, what);
  assert.match(error.message, /PostgreSQL/, `${what}: the message names the store`);
  assert.ok(Number(answer.retryAfter) > 0, `${what}: Retry-After ${answer.retryAfter}`);
  assert.ok(answer.ms < UNAVAILABLE_BOUND_MS, `${what}: answered after ${answer.ms} ms`);
}

/** A read and a write through the API, a few of each at once. */
function apiCalls(): Promise<ApiAnswer[]> {
  return Promise.all([
    c!.changeSetting(),
    c!.changeSetting(),
    c!.call('GET', `/zones/${c!.zoneId}`),
    c!.call('GET', `/zones/${c!.zoneId}/dns_records`),
    c!.call('GET', '/zones'),
  ]);
}

test('five partitions healed with stale connections left dead: no request fails, no node exits, changes propagate again', { skip: unreachable ?? false }, async (t) => {
  const load = c!.load();
  await sleep(1_000);
  const listening = await c!.listeners();
  assert.ok(listening >= 3, `change-feed connections before: ${listening}`);
  t.diagnostic(`change-feed connections: ${listening}`);
  const propagation: number[] = [];
  for (let episode = 1; episode <= 5; episode++) {
    const started = Date.now();
    c!.forwarder.blackhole();
    const during = await apiCalls();
    during.forEach((a, i) => assertUnavailable(a, `episode ${episode}, call ${i}`));
    await sleep(Math.max(0, BLACKHOLE_MS - (Date.now() - started)));
    c!.forwarder.heal();
    const healed = Date.now();
    // The first calls may each meet a connection left dead and answer 503 after the query
    // timeout; none hangs, and a write goes through within the bound.
    const answers: ApiAnswer[] = [];
    await eventually(
      `episode ${episode}: a write after the heal`,
      async () => {
        const a = await c!.changeSetting();
        answers.push(a);
        return a.status;
      },
      (status) => status === 200,
      PROPAGATION_BOUND_MS,
      100,
    );
    for (const a of answers) if (a.status !== 200) assertUnavailable(a, `episode ${episode}, after the heal`);
    await c!.applied(await c!.version(), PROPAGATION_BOUND_MS);
    propagation.push(Date.now() - healed);
    assert.deepEqual(c!.exits(), [], `episode ${episode}`);
  }
  t.diagnostic(`heal → change applied by every edge: ${propagation.join(', ')} ms`);

  // The pool is not exhausted: more calls at once than it has connections, all answered.
  const many = await Promise.all(Array.from({ length: 25 }, () => c!.call('GET', `/zones/${c!.zoneId}/dns_records`)));
  assert.deepEqual(many.map((a) => a.status), many.map(() => 200));
  // Every node listens for changes again, on a live connection, and a change reaches the edges
  // as quickly as ever.
  await eventually('every change feed listens again', () => c!.listeners(), (n) => n === listening, 4 * QUERY_TIMEOUT_MS, 200);
  const write = await c!.changeSetting();
  assert.equal(write.status, 200, JSON.stringify(write));
  const settled = await c!.applied(await c!.version(), 5_000);
  t.diagnostic(`a change after the dust settled: applied by every edge in ${settled} ms`);

  const { sent, ok, failures } = await load.stop();
  assert.deepEqual(c!.exits(), []);
  assert.ok(sent > 500, `load ran (${sent} requests)`);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
  assert.equal(ok, sent);
});

test('connections cut with an RST, new ones refused: the API answers 503 with Retry-After, edges serve on, all recover', { skip: unreachable ?? false }, async (t) => {
  const load = c!.load();
  await sleep(500);
  c!.forwarder.reset();
  try {
    const during = await apiCalls();
    during.forEach((a, i) => assertUnavailable(a, `call ${i}`));
    t.diagnostic(`API answers while refused: ${during.map((a) => a.ms).join(', ')} ms`);
    await sleep(1_500);
  } finally {
    c!.forwarder.heal();
  }
  const write = await eventually('a write once the store is back', () => c!.changeSetting(), (a) => a.status === 200, 10_000, 100);
  assert.equal(write.status, 200);
  await c!.applied(await c!.version(), PROPAGATION_BOUND_MS);
  const { sent, ok, failures } = await load.stop();
  assert.deepEqual(c!.exits(), []);
  assert.ok(sent > 100, `load ran (${sent} requests)`);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
  assert.equal(ok, sent);
});

test('a node cut off in the middle of a write does not hold the config lock: the server ends its session', { skip: unreachable ?? false }, async () => {
  // The API write takes the config lock, then waits to update the zone's row; the partition
  // comes while it waits, and leaves both ends of the connection open and silent.
  const holder = await c!.session();
  await holder.query('BEGIN');
  await holder.query('SELECT id FROM zones WHERE id = $1 FOR UPDATE', [c!.zoneId]);
  const patch = c!.changeSetting();
  await eventually('the API write waits for the zone row', () => c!.blockedBy(holder), (pids) => pids.length > 0, 5_000, 20);
  const ports = c!.forwarder.upstreamPorts();
  c!.forwarder.blackhole({ server: 'keep' });
  await holder.query('ROLLBACK');
  const stranded = async () =>
    (await c!.schema.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND state = 'idle in transaction'", [ports])).map((r) => r.pid);
  try {
    // Its statement went through on the server; the answer goes nowhere, the commit never comes.
    assert.ok((await eventually('a session idle in its transaction', stranded, (pids) => pids.length > 0, 3_000)).length > 0);
    assertUnavailable(await patch, 'the write cut off');
    // idle_in_transaction_session_timeout (twice the query timeout) ends it and frees the lock.
    await eventually('the stranded session ended', stranded, (pids) => pids.length === 0, 2 * QUERY_TIMEOUT_MS + 8_000, 200);
    const other = await c!.session();
    await other.query('BEGIN');
    await other.query('SELECT v FROM config_version WHERE id = 1 FOR UPDATE NOWAIT');
    await other.query('ROLLBACK');
  } finally {
    c!.forwarder.heal();
  }
  const write = await eventually('a write once healed', () => c!.changeSetting(), (a) => a.status === 200, PROPAGATION_BOUND_MS, 100);
  assert.equal(write.status, 200);
  await c!.applied(await c!.version(), PROPAGATION_BOUND_MS);
  assert.deepEqual(c!.exits(), []);
});
