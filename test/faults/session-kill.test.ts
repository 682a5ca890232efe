// PostgreSQL sessions ended by the server in the middle of a transaction (pg_terminate_backend,
// as a restart, a fail-over or an operator does) never take a node down: an API node waiting on
// the config lock answers 503 with Retry-After and the same write then goes through; edges
// (--workers 0 and --workers 2) waiting on a table lock while they load a change keep serving
// every request and apply the change once the store answers; every session of every node killed
// during config changes costs visitors nothing and each write answers 200 or 503, never hangs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { probePostgres } from '../scale/harness.ts';
import { Cluster, eventually, sleep, type ApiAnswer } from './cluster.ts';

const unreachable = await probePostgres();
let c: Cluster | undefined;

before(async () => {
  if (unreachable) return;
  c = await Cluster.start({
    edges: [
      { name: 'kill-w0', workers: 0 },
      { name: 'kill-w2', workers: 2 },
    ],
    // Lock waits outlast the test's own steps, so the sessions end by being killed, not timed out.
    env: { ORIGINPULL_STORE_QUERY_TIMEOUT_MS: '12000', ORIGINPULL_STORE_STATEMENT_TIMEOUT_MS: '10000' },
  });
});

after(async () => {
  await c?.close();
});

function assertUnavailable(answer: ApiAnswer): void {
  assert.equal(answer.status, 503, JSON.stringify(answer));
  const [error] = answer.body!.errors;
  assert.equal(error.code, 1161);
  assert.match(error.message, /PostgreSQL/, 'the message names the store');
  assert.ok(Number(answer.retryAfter) > 0, `Retry-After: ${answer.retryAfter}`);
}

test('an API node whose session is killed while it waits on the config lock answers 503, then writes; it does not exit', { skip: unreachable ?? false }, async () => {
  const load = c!.load();
  await sleep(1_000);
  const holder = await c!.session();
  await holder.query('BEGIN');
  await holder.query('SELECT v FROM config_version WHERE id = 1 FOR UPDATE');
  const patch = c!.changeSetting();
  const waiting = await eventually('the API write waits on the lock', () => c!.blockedBy(holder), (pids) => pids.length > 0, 10_000);
  assert.equal(await c!.terminate(waiting), waiting.length);
  const answer = await patch;
  await holder.query('ROLLBACK');
  assertUnavailable(answer);

  const again = await c!.changeSetting();
  assert.equal(again.status, 200, JSON.stringify(again));
  await c!.applied(await c!.version());
  await sleep(500);
  const { sent, ok, failures } = await load.stop();
  assert.deepEqual(c!.exits(), []);
  assert.ok(sent > 20, `load ran (${sent} requests)`);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
  assert.equal(ok, sent);
});

test('edges (--workers 0 and 2) whose sessions are killed while they wait on a table lock to load a change keep serving and apply it', { skip: unreachable ?? false }, async () => {
  const load = c!.load();
  await sleep(1_000);
  const holder = await c!.session();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE dns_records IN ACCESS EXCLUSIVE MODE');
  const change = await c!.changeSetting();
  assert.equal(change.status, 200, JSON.stringify(change));
  const target = await c!.version();
  // One node and two workers, each in a read transaction that waits for the table.
  const waiting = await eventually('every edge process waits on the lock', () => c!.blockedBy(holder), (pids) => pids.length >= 3, 10_000);
  assert.ok((await c!.terminate(waiting)) >= 3);
  await sleep(500);
  // And once more: the edges retried and wait again.
  await c!.terminate(await c!.blockedBy(holder));
  await sleep(300);
  await holder.query('ROLLBACK');
  assert.deepEqual(c!.exits(), []);

  await c!.applied(target, 20_000);
  await sleep(300);
  const { sent, ok, failures } = await load.stop();
  assert.deepEqual(c!.exits(), []);
  assert.ok(sent > 50, `load ran (${sent} requests)`);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
  assert.equal(ok, sent);
});

test('every node session killed, again and again, during config changes: writes answer 200 or 503, none hangs, no request fails', { skip: unreachable ?? false }, async (t) => {
  const load = c!.load();
  await sleep(1_000);
  const answers: ApiAnswer[] = [];
  let writing = true;
  const writers = [0, 1].map(async () => {
    while (writing) answers.push(await c!.changeSetting());
  });
  let killed = 0;
  for (let i = 0; i < 6; i++) {
    await sleep(400);
    killed += await c!.terminate(await c!.nodeSessions());
  }
  writing = false;
  await Promise.all(writers);
  assert.deepEqual(c!.exits(), []);

  const last = await eventually('a write after the kills', () => c!.changeSetting(), (a) => a.status === 200, 15_000, 200);
  assert.equal(last.status, 200);
  await c!.applied(await c!.version(), 15_000);
  const { sent, ok, failures } = await load.stop();

  assert.deepEqual(c!.exits(), []);
  assert.ok(killed >= 6, `sessions killed: ${killed}`);
  const statuses = answers.map((a) => a.status);
  t.diagnostic(`${killed} sessions killed; writes meanwhile: ${statuses.filter((s) => s === 200).length} × 200, ${statuses.filter((s) => s === 503).length} × 503`);
  assert.ok(statuses.includes(200), `writes went through: ${statuses.join(' ')}`);
  for (const a of answers) {
    if (a.status === 200) continue;
    assertUnavailable(a);
  }
  for (const a of answers) assert.ok(a.ms < 15_000, `a write took ${a.ms} ms`);
  assert.ok(sent > 100, `load ran (${sent} requests)`);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
  assert.equal(ok, sent);
});
