// Several notifiers on one database (as several API nodes run them): every alert is delivered
// exactly once per (certificate, threshold, policy, webhook), through failures and retries, on
// SQLite (two instances on one file) and on PostgreSQL (skipped when unreachable); and a node that
// dies mid-send has its claim retaken once the lease lapses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, type AlertPayload, type Notifier } from '../../src/notify/index.ts';
import { openStore, SecretBox, type Store } from '../../src/store/index.ts';
import { addCertificate, Clock, DAY, FAST_RETRY, newBox, openSqlite, postgresSchema, postgresUnreachable, seed, T0 } from './fixtures.ts';
import { startReceiver } from './receiver.ts';
// The receivers listen on loopback, which webhooks may reach only when allowed explicitly.
process.env.ORIGINPULL_WEBHOOK_ALLOW = 'loopback';

const root = mkdtempSync(join(tmpdir(), 'originpull-notify-nodes-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
const pgSkip = await postgresUnreachable();

interface Engine {
  name: string;
  skip: string | null;
  /** Two stores on one fresh database, migrated, and a cleanup. */
  open(): Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }>;
}

let seq = 0;
const engines: Engine[] = [
  {
    name: 'sqlite',
    skip: null,
    async open() {
      const url = `sqlite:${join(root, `db${++seq}.db`)}`;
      const a = await openStore(url);
      const b = await openStore(url);
      await Promise.all([a.migrate(), b.migrate()]);
      return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) };
    },
  },
  {
    name: 'postgres',
    skip: pgSkip,
    async open() {
      const schema = postgresSchema();
      const a = await openStore(schema.url);
      const b = await openStore(schema.url);
      await Promise.all([a.migrate(), b.migrate()]);
      return {
        a,
        b,
        cleanup: async () => {
          await Promise.all([a.close(), b.close()]);
          await schema.drop();
        },
      };
    },
  },
];

for (const engine of engines) {
  test(`${engine.name}: two notifiers on one store deliver every alert exactly once, through failures`, { skip: engine.skip ?? false }, async (t) => {
    const clock = new Clock();
    // Every third request fails, so retries run while both nodes scan.
    const receiver = await startReceiver({ clock: clock.now, respond: (n) => (n % 3 === 0 ? 503 : 200) });
    const { a, b, cleanup } = await engine.open();
    const box = newBox();
    const opts = { secretBox: box, now: clock.now, logger: false as const, batchSize: 3 };
    const nodes: Notifier[] = [createNotifier({ store: a, ...opts }), createNotifier({ store: b, ...opts })];
    t.after(async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await cleanup();
      await receiver.close();
    });
    const s = await seed(a, box, [`${receiver.url}?w=0`, `${receiver.url}?w=1`]);
    await addCertificate(a, s.zone, 'zone', T0 + 35 * DAY);
    for (const days of [32, 38, 44, 50]) await addCertificate(b, s.zone, 'hostname', T0 + days * DAY);

    for (let at = 0; at <= 52 * DAY; at += DAY / 2) {
      clock.set(T0 + at);
      await Promise.all(nodes.map((n) => n.scanOnce()));
      await Promise.all(nodes.map((n) => n.scanOnce()));
    }

    const successes = new Map<string, number>();
    const afterSuccess: string[] = [];
    for (const r of receiver.alerts()) {
      const key = `${(r.body as AlertPayload).alert_correlation_id} ${r.path}`;
      if (successes.has(key)) afterSuccess.push(key);
      if (r.answer === 200) successes.set(key, (successes.get(key) ?? 0) + 1);
    }
    assert.equal(successes.size, 5 * 2 * 2, '5 certificates × 2 thresholds × 2 webhooks');
    assert.ok([...successes.values()].every((n) => n === 1), 'each delivered once');
    assert.deepEqual(afterSuccess, [], 'nothing is sent again after its success');
    assert.ok(receiver.alerts().some((r) => r.answer === 503), 'retries happened');
    const log = await b.listAlertDeliveries({ accountId: s.account.id });
    assert.equal(log.length, 20);
    assert.ok(log.every((d) => d.status === 'delivered'));
  });

  test(`${engine.name}: a node dying mid-send leaves a lease another node retakes when it lapses`, { skip: engine.skip ?? false }, async (t) => {
    const clock = new Clock();
    const receiver = await startReceiver({ clock: clock.now, respond: (n) => (n === 1 ? 'hang' : 200) });
    const { a, b, cleanup } = await engine.open();
    const box = newBox();
    const opts = { secretBox: box, now: clock.now, logger: false as const, leaseMs: 60_000 };
    const dying = createNotifier({ store: a, ...opts });
    const survivor = createNotifier({ store: b, ...opts });
    t.after(async () => {
      await survivor.close();
      await cleanup();
      await receiver.close();
    });
    const s = await seed(a, box, [receiver.url]);
    await a.updateAlertPolicy(s.account.id, s.hostnamePolicy.id, { enabled: false, modified: T0 });
    await addCertificate(a, s.zone, 'zone', T0 + 20 * DAY);

    const inFlight = dying.scanOnce();
    // Bounded: a send that never reaches the receiver (a refused address) must fail the test, not hang it.
    const until = Date.now() + 10_000;
    while (receiver.alerts().length === 0) {
      if (Date.now() > until) assert.fail(`the send never reached the receiver: ${JSON.stringify(await a.listAlertDeliveries())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await dying.destroy(); // the process dies: no result recorded
    await inFlight.catch(() => {});
    assert.equal((await survivor.scanOnce()).attempted, 0, 'the lease still holds');
    clock.advance(60_000);
    const r = await survivor.scanOnce();
    assert.equal(r.delivered, 1);
    const [d] = await b.listAlertDeliveries();
    assert.deepEqual([d.status, d.attempts, d.leaseOwner], ['delivered', 2, null]);
    assert.equal(receiver.alerts().length, 2, 'the unanswered send, then the retaken one');
  });
}

test('sqlite: notifiers in two processes on one file, real clock: every alert exactly once', async (t) => {
  const file = join(root, 'procs.db');
  const key = randomBytes(32);
  const box = new SecretBox(key);
  // Two of three requests fail: retries keep both processes busy claiming.
  const receiver = await startReceiver({ respond: (n) => (n % 3 === 0 ? 200 : 503) });
  const store = await openSqlite(file);
  t.after(async () => {
    await store.close();
    await receiver.close();
  });
  const s = await seed(store, box, [`${receiver.url}?w=0`, `${receiver.url}?w=1`]);

  const durationMs = 2_500;
  const child = spawn(process.execPath, [join(import.meta.dirname, 'notifier-process.ts'), file, key.toString('hex'), String(durationMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const readyBy = Date.now() + 30_000;
  while (!out.includes('ready')) {
    if (child.exitCode !== null) assert.fail(`the child exited early: ${out}`);
    if (Date.now() > readyBy) {
      child.kill();
      assert.fail(`the child did not get ready: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const now = Date.now();
  await addCertificate(store, s.zone, 'zone', now + 20 * DAY);
  for (const days of [5, 10, 25, 29]) await addCertificate(store, s.zone, 'hostname', now + days * DAY);

  const notifier = createNotifier({ store, secretBox: box, logger: false, retry: FAST_RETRY, timeoutMs: 1_000, leaseMs: 5_000 });
  const mine = { attempted: 0, delivered: 0 };
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const r = await notifier.scanOnce();
    mine.attempted += r.attempted;
    mine.delivered += r.delivered;
    await new Promise((r) => setTimeout(r, 10));
  }
  await notifier.close();
  assert.equal(await exited, 0);
  const theirs = JSON.parse(out.trim().split('\n').at(-1)!) as typeof mine;
  t.diagnostic(`this process: ${JSON.stringify(mine)}; the other: ${JSON.stringify(theirs)}`);
  assert.ok(mine.attempted > 0 && theirs.attempted > 0, 'both processes sent');

  const successes = new Map<string, number>();
  for (const r of receiver.alerts()) {
    if (r.answer !== 200) continue;
    const k = `${(r.body as AlertPayload).alert_correlation_id} ${r.path}`;
    successes.set(k, (successes.get(k) ?? 0) + 1);
  }
  assert.equal(successes.size, 5 * 2, '5 certificates × 2 webhooks');
  assert.deepEqual([...successes.values()].filter((n) => n !== 1), [], 'each delivered once');
  assert.equal(mine.delivered + theirs.delivered, 10);
  assert.equal(mine.attempted + theirs.attempted, receiver.alerts().length, 'every request was one recorded attempt');
  const log = await store.listAlertDeliveries();
  assert.equal(log.length, 10);
  assert.deepEqual(log.map((d) => d.status).filter((st) => st !== 'delivered'), []);
});
