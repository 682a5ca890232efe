// The notifier end to end on a real SQLite file and a real HTTP receiver on 127.0.0.1, the clock
// moved by the test: one alert per threshold, the payload and header, none after delete, retries
// with growing delays, a restart in the middle, giving up after 24 h, and the lifecycle verbs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, HOSTNAME_EXPIRY_ALERT, startNotifier, ZONE_EXPIRY_ALERT, type AlertPayload, type Notifier } from '../../src/notify/index.ts';
import { addCertificate, Clock, DAY, newBox, openSqlite, SECRET, seed, T0 } from './fixtures.ts';
import { startReceiver } from './receiver.ts';
// The receivers listen on loopback, which webhooks may reach only when allowed explicitly.
process.env.ORIGINPULL_WEBHOOK_ALLOW = 'loopback';

const root = mkdtempSync(join(tmpdir(), 'originpull-notify-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const dbFile = () => join(root, `n${++seq}.db`);

/** Runs scans until one neither enqueues nor attempts anything (a scan may leave work due for the next). */
async function settle(notifier: Notifier): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await notifier.scanOnce();
    if (r.enqueued === 0 && r.attempted === 0) return;
  }
}

function payloads(bodies: { body: unknown }[]): AlertPayload[] {
  return bodies.map((b) => b.body as AlertPayload);
}

test('zone and hostname certificates: exactly one alert per threshold as the clock passes 30 and 14 days; none after delete', async (t) => {
  const clock = new Clock();
  const receiver = await startReceiver({ clock: clock.now });
  const store = await openSqlite(dbFile());
  const box = newBox();
  const notifier = createNotifier({ store, secretBox: box, now: clock.now, logger: false });
  t.after(async () => {
    await notifier.close();
    await store.close();
    await receiver.close();
  });
  const s = await seed(store, box, [receiver.url]);
  const zc = await addCertificate(store, s.zone, 'zone', T0 + 40 * DAY);
  const hc = await addCertificate(store, s.zone, 'hostname', T0 + 45 * DAY);
  await store.applyAssociations(s.zone.id, [{ hostname: 'app.example.com', certId: hc.id, enabled: true }], { maxPerCertificate: 100 });

  const seen = () => payloads(receiver.alerts()).map((p) => `${p.data.certificate_id === zc.id ? 'zone' : 'hostname'}:${p.data.threshold}`);
  await settle(notifier);
  assert.deepEqual(seen(), [], 'nothing 40 days out');

  const steps: [number, string[]][] = [
    [10 * DAY, ['zone:30']], // zone cert: 30 days left
    [15 * DAY, ['zone:30', 'hostname:30']],
    [20 * DAY, ['zone:30', 'hostname:30']],
    [26 * DAY, ['zone:30', 'hostname:30', 'zone:14']],
    [30 * DAY, ['zone:30', 'hostname:30', 'zone:14']],
  ];
  for (const [at, expected] of steps) {
    clock.set(T0 + at);
    await settle(notifier);
    await settle(notifier);
    assert.deepEqual(seen(), expected, `at T0 + ${at / DAY} days`);
  }

  // The payload and header of the hostname certificate's 30-day alert.
  const hostAlert = receiver.alerts()[1];
  assert.equal(hostAlert.headers['cf-webhook-auth'], SECRET);
  assert.equal(hostAlert.headers['content-type'], 'application/json');
  const p = hostAlert.body as AlertPayload;
  assert.deepEqual(Object.keys(p).sort(), ['account_id', 'alert_correlation_id', 'alert_event', 'alert_type', 'data', 'name', 'policy_id', 'policy_name', 'text', 'ts'].sort());
  assert.equal(p.name, 'hostname certs');
  assert.equal(p.policy_name, 'hostname certs');
  assert.equal(p.policy_id, s.hostnamePolicy.id);
  assert.equal(p.account_id, s.account.id);
  assert.equal(p.alert_type, HOSTNAME_EXPIRY_ALERT);
  assert.equal(p.alert_event, 'ALERT_STATE_EVENT_START');
  assert.match(p.alert_correlation_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(p.ts, Math.floor((T0 + 15 * DAY) / 1000));
  assert.deepEqual(p.data, {
    certificate_id: hc.id,
    days_til_expiration: 30,
    expires_on: new Date(T0 + 45 * DAY).toISOString(),
    hostnames: ['app.example.com'],
    zone_tag: s.zone.id,
    zone_name: 'example.com',
    account_tag: s.account.id,
    account_name: s.account.name,
    level: 'hostname',
    threshold: 30,
  });
  assert.match(p.text, new RegExp(`hostname-level Authenticated Origin Pulls certificate ${hc.id} of example\\.com expires in 30 days`));
  const zoneAlert = receiver.alerts()[0].body as AlertPayload;
  assert.equal(zoneAlert.alert_type, ZONE_EXPIRY_ALERT);
  assert.deepEqual(zoneAlert.data.hostnames, ['www.example.com'], 'app.example.com is served by its hostname certificate');

  // Delete the hostname certificate (its association first): its 14-day alert never comes.
  await store.applyAssociations(s.zone.id, [{ hostname: 'app.example.com', certId: hc.id, enabled: null }], { maxPerCertificate: 100 });
  await store.requestCertificateDeletion(s.zone.id, 'hostname', hc.id);
  for (const at of [31, 32, 40, 50]) {
    clock.set(T0 + at * DAY);
    await settle(notifier);
  }
  assert.deepEqual(seen(), ['zone:30', 'hostname:30', 'zone:14'], 'nothing after delete, nothing twice');

  // The delivery log says the same.
  const log = await store.listAlertDeliveries({ accountId: s.account.id });
  assert.equal(log.length, 3);
  assert.ok(log.every((d) => d.status === 'delivered' && d.attempts === 1 && d.lastStatus === 200));
});

test('a certificate uploaded with 10 days left alerts once, for 14 days only', async (t) => {
  const clock = new Clock();
  const receiver = await startReceiver({ clock: clock.now });
  const store = await openSqlite(dbFile());
  const box = newBox();
  const notifier = createNotifier({ store, secretBox: box, now: clock.now, logger: false });
  t.after(async () => {
    await notifier.close();
    await store.close();
    await receiver.close();
  });
  const s = await seed(store, box, [receiver.url]);
  await addCertificate(store, s.zone, 'zone', T0 + 10 * DAY);
  await addCertificate(store, s.zone, 'hostname', T0 + 20 * DAY);
  await settle(notifier);
  assert.deepEqual(payloads(receiver.alerts()).map((p) => [p.data.level, p.data.threshold, p.data.days_til_expiration]).sort(), [['hostname', 30, 20], ['zone', 14, 10]]);
  for (const at of [1, 5, 9, 11, 30]) {
    clock.set(T0 + at * DAY);
    await settle(notifier);
  }
  assert.deepEqual(payloads(receiver.alerts()).map((p) => `${p.data.level}:${p.data.threshold}`).sort(), ['hostname:14', 'hostname:30', 'zone:14']);
});

test('a failing receiver: retries with growing delays, one success, no duplicate, across a restart', async (t) => {
  const clock = new Clock();
  const failures = 4;
  const receiver = await startReceiver({ clock: clock.now, respond: (n) => (n <= failures ? (n % 2 ? 503 : 'hang') : 200) });
  const file = dbFile();
  const box = newBox();
  let store = await openSqlite(file);
  const options = { secretBox: box, now: clock.now, logger: false as const, timeoutMs: 300, leaseMs: 5_000 };
  let notifier = createNotifier({ store, ...options });
  t.after(async () => {
    await notifier.close();
    await store.close();
    await receiver.close();
  });
  const s = await seed(store, box, [receiver.url]);
  const cert = await addCertificate(store, s.zone, 'zone', T0 + 20 * DAY);

  const row = async () => (await store.listAlertDeliveries({ certificateId: cert.id }))[0];
  for (let attempt = 1; attempt <= failures + 1; attempt++) {
    const result = await notifier.scanOnce();
    assert.equal(result.attempted, 1, `attempt ${attempt} ran`);
    const d = await row();
    assert.equal(d.attempts, attempt);
    if (attempt <= failures) {
      assert.equal(d.status, 'pending');
      assert.equal(d.lastError, attempt % 2 ? 'the receiver answered HTTP 503' : 'timed out after 300 ms without an answer');
      assert.ok(d.nextAttemptAt! > clock.t);
      // Not before its time.
      clock.set(d.nextAttemptAt! - 1);
      assert.equal((await notifier.scanOnce()).attempted, 0, 'nothing is sent before the retry is due');
      clock.set(d.nextAttemptAt!);
    } else {
      assert.equal(d.status, 'delivered');
      assert.equal(d.lastStatus, 200);
      assert.equal(d.lastError, null);
    }
    if (attempt === 2) {
      // Restart in the middle: a new process opens the same file and carries on.
      await notifier.close();
      await store.close();
      store = await openSqlite(file);
      notifier = createNotifier({ store, ...options });
    }
  }
  const gaps = receiver.alerts().slice(1).map((r, i) => r.at - receiver.alerts()[i].at);
  assert.equal(gaps.length, failures);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] > gaps[i - 1], `delays grow: ${gaps.join(', ')} ms`);
  assert.ok(gaps[0] >= 24_000 && gaps[0] <= 36_000, `first retry after 30 s ± 20 %: ${gaps[0]}`);

  const webhook = (await store.getAlertWebhook(s.account.id, s.webhooks[0].id))!;
  assert.equal(webhook.lastSuccess, receiver.alerts().at(-1)!.at);
  assert.ok(webhook.lastFailure! < webhook.lastSuccess!);

  for (const ms of [60_000, 3_600_000, DAY, 20 * DAY]) {
    clock.advance(ms);
    await settle(notifier);
  }
  const thirty = receiver.alerts().filter((r) => (r.body as AlertPayload).data.threshold === 30);
  assert.equal(thirty.length, failures + 1, 'no duplicate after the success');
  assert.equal(thirty.filter((r) => r.answer === 200).length, 1);
  assert.equal(new Set(thirty.map((r) => (r.body as AlertPayload).alert_correlation_id)).size, 1, 'retries resend the same alert');
  assert.deepEqual(
    receiver.alerts().slice(failures + 1).map((r) => [(r.body as AlertPayload).data.threshold, r.answer]),
    [[14, 200]],
    'then the 14-day alert, once',
  );
});

test('a receiver that never recovers is given up after 24 hours, and the log says why', async (t) => {
  const clock = new Clock();
  const receiver = await startReceiver({ clock: clock.now, respond: () => 500 });
  const store = await openSqlite(dbFile());
  const box = newBox();
  const notifier = createNotifier({ store, secretBox: box, now: clock.now, logger: false });
  t.after(async () => {
    await notifier.close();
    await store.close();
    await receiver.close();
  });
  const s = await seed(store, box, [receiver.url]);
  await store.updateAlertPolicy(s.account.id, s.hostnamePolicy.id, { enabled: false, modified: T0 });
  await addCertificate(store, s.zone, 'zone', T0 + 20 * DAY);
  let last = await notifier.scanOnce();
  for (let i = 0; i < 100 && last.failed === 0; i++) {
    const [d] = await store.listAlertDeliveries({ status: 'pending' });
    clock.set(d.nextAttemptAt!);
    last = await notifier.scanOnce();
  }
  const [d] = await store.listAlertDeliveries();
  assert.equal(d.status, 'failed');
  assert.equal(d.lastError, `gave up after ${d.attempts} attempts: the receiver answered HTTP 500`);
  assert.ok(d.lastAttemptAt! <= d.giveUpAt && d.giveUpAt === d.createdAt + DAY);
  assert.ok(d.attempts > 20 && d.attempts < 40, `${d.attempts} attempts in a day (delays capped at 1 h)`);
  assert.equal(receiver.alerts().length, d.attempts);
  clock.advance(DAY);
  await settle(notifier);
  assert.equal(receiver.alerts().length, d.attempts, 'a failed delivery is final');
});

test('deleting or replacing a certificate cancels its pending retries', async (t) => {
  const clock = new Clock();
  const receiver = await startReceiver({ clock: clock.now, respond: () => 500 });
  const store = await openSqlite(dbFile());
  const box = newBox();
  const notifier = createNotifier({ store, secretBox: box, now: clock.now, logger: false });
  t.after(async () => {
    await notifier.close();
    await store.close();
    await receiver.close();
  });
  const s = await seed(store, box, [receiver.url]);
  const old = await addCertificate(store, s.zone, 'zone', T0 + 20 * DAY);
  const hc = await addCertificate(store, s.zone, 'hostname', T0 + 20 * DAY);
  await notifier.scanOnce();
  assert.equal(receiver.alerts().length, 2);
  await store.requestCertificateDeletion(s.zone.id, 'hostname', hc.id);
  await addCertificate(store, s.zone, 'zone', T0 + 300 * DAY); // replaces `old` as the zone's certificate
  clock.advance(DAY);
  const r = await notifier.scanOnce();
  assert.equal(r.cancelled, 2);
  assert.equal(r.attempted, 0);
  assert.equal(receiver.alerts().length, 2, 'no retry after delete or replacement');
  const reasons = (await store.listAlertDeliveries({ status: 'cancelled' })).map((d) => [d.certificateId, d.lastError]).sort();
  assert.deepEqual(reasons, [
    [old.id, 'cancelled: a newer zone-level certificate replaced this one'],
    [hc.id, 'cancelled: the certificate was deleted'],
  ].sort());
});

test('start() scans on its own and close() waits; destroy() aborts a send in flight', async (t) => {
  const receiver = await startReceiver({ respond: (n) => (n === 1 ? 200 : 'hang') });
  const store = await openSqlite(dbFile());
  const box = newBox();
  t.after(async () => {
    await store.close();
    await receiver.close();
  });
  const s = await seed(store, box, [receiver.url]);
  await addCertificate(store, s.zone, 'zone', Date.now() + 5 * DAY);
  const running = startNotifier({ store, secretBox: box, logger: false, intervalMs: 50 });
  const deadline = Date.now() + 5_000;
  while (receiver.alerts().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(receiver.alerts().length, 1, 'the running notifier delivered the alert');
  await running.close();
  await assert.rejects(running.scanOnce(), /closed/);

  // A hanging receiver: destroy() returns at once instead of waiting for the 10 s timeout.
  await addCertificate(store, s.zone, 'hostname', Date.now() + 5 * DAY);
  const second = startNotifier({ store, secretBox: box, logger: false, intervalMs: 50 });
  while (receiver.alerts().length < 2 && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  await second.destroy();
  assert.ok(Date.now() - started < 2_000, 'destroy did not wait for the receiver');
  const [pending] = await store.listAlertDeliveries({ status: 'pending' });
  assert.ok(pending.leaseOwner, 'the aborted claim keeps its lease until it lapses (another node retries then)');
});

