// Cause: webhook destinations accepted loopback, link-local and private addresses by default, a save told open, closed and answering ports apart in its error and could hold the request 10 s — a port scanner for any account edit token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, guardedLookup, webhookAllowList } from '../../src/notify/index.ts';
import { addCertificate, Clock, DAY, newBox, openSqlite, seed, T0 } from '../notify/fixtures.ts';
import { closedPort, startReceiver } from '../notify/receiver.ts';
import { startApi, type Harness } from '../api/harness.ts';

/** An API started with ORIGINPULL_WEBHOOK_ALLOW as given (unset: undefined). */
async function apiWith(allow: string | undefined): Promise<Harness> {
  const before = process.env.ORIGINPULL_WEBHOOK_ALLOW;
  if (allow === undefined) delete process.env.ORIGINPULL_WEBHOOK_ALLOW;
  else process.env.ORIGINPULL_WEBHOOK_ALLOW = allow;
  try {
    return await startApi();
  } finally {
    if (before === undefined) delete process.env.ORIGINPULL_WEBHOOK_ALLOW;
    else process.env.ORIGINPULL_WEBHOOK_ALLOW = before;
  }
}

async function saver(h: Harness) {
  const account = (await h.call('GET', '/accounts')).json().result[0].id;
  return async (url: string) => {
    const res = await h.call('POST', `/accounts/${account}/alerting/v3/destinations/webhooks`, { body: { name: 'x', url } });
    return { status: res.statusCode, error: res.json().errors?.[0] as { code: number; message: string } | undefined };
  };
}

test('by default a save refuses loopback, private and link-local targets, names resolving to them included', async (t) => {
  const receiver = await startReceiver();
  const h = await apiWith(undefined);
  t.after(async () => {
    await h.close();
    await receiver.close();
  });
  const save = await saver(h);
  const port = new URL(receiver.url).port;
  for (const [url, why] of [
    [receiver.url, /127\.0\.0\.1 is a loopback address/],
    [`http://[::ffff:127.0.0.1]:${port}/hook`, /loopback/],
    [`http://localhost:${port}/hook`, /localhost resolves to (127\.0\.0\.1|::1), a loopback address this installation does not send webhooks to/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://10.1.2.3/', /private/],
  ] as const) {
    const { status, error } = await save(url);
    assert.equal(status, 400, url);
    assert.equal(error?.code, 1172, url);
    assert.match(error?.message ?? '', why, url);
    assert.match(error?.message ?? '', /list the URL prefix or the address class to allow it/);
  }
  assert.equal(receiver.received.length, 0, 'nothing was sent to the loopback receiver');
});

test('allowed explicitly, a save still tells nothing apart and never holds the request past ~2.5 s', async (t) => {
  const hanging = await startReceiver({ respond: () => 'hang' });
  const failing = await startReceiver({ respond: () => 500 });
  const h = await apiWith('loopback');
  t.after(async () => {
    await h.close();
    await hanging.close();
    await failing.close();
  });
  const save = await saver(h);
  const closed = `http://127.0.0.1:${await closedPort()}/hook`;
  const words = new Set<string>();
  for (const url of [closed, failing.url, hanging.url]) {
    const started = Date.now();
    const { status, error } = await save(url);
    const took = Date.now() - started;
    assert.equal(status, 400, url);
    assert.equal(error?.code, 1173);
    words.add((error?.message ?? '').replace(url, 'URL'));
    assert.ok(took < 6_000, `${url}: the save took ${took} ms`);
  }
  assert.deepEqual([...words], ['The test message to URL was not accepted (no 2xx answer within 2.5 s). Nothing was saved.'], 'closed, answering HTTP 500 and silent read the same');
  const ok = await startReceiver();
  t.after(() => ok.close());
  assert.equal((await save(ok.url)).status, 200);
});

test('at send time the address connected to is the one checked: a stored name that resolves to loopback is not sent to', async (t) => {
  const receiver = await startReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'originpull-webhook-rebind-'));
  const store = await openSqlite(join(dir, 'db.sqlite'));
  t.after(async () => {
    await store.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const box = newBox();
  // As if the name had resolved to a public address when it was saved (DNS rebinding).
  const s = await seed(store, box, [`http://localhost:${new URL(receiver.url).port}/hook`]);
  await store.updateAlertPolicy(s.account.id, s.hostnamePolicy.id, { enabled: false, modified: T0 });
  await addCertificate(store, s.zone, 'zone', T0 + 20 * DAY);
  const clock = new Clock();
  const notifier = createNotifier({ store, secretBox: box, now: clock.now, logger: false, allowList: webhookAllowList({}) });
  t.after(() => notifier.close());
  const r = await notifier.scanOnce();
  assert.equal(r.failed, 1, JSON.stringify(r));
  const [d] = await store.listAlertDeliveries();
  assert.equal(d.status, 'failed', 'refused addresses are not retried');
  assert.match(d.lastError ?? '', /^not sent: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
  assert.equal(receiver.received.length, 0);

  // Allowed explicitly, the same delivery path reaches it.
  const allowed = createNotifier({ store, secretBox: box, now: clock.now, logger: false, allowList: webhookAllowList({ ORIGINPULL_WEBHOOK_ALLOW: 'loopback' }) });
  t.after(() => allowed.close());
  await addCertificate(store, s.zone, 'zone', T0 + 21 * DAY);
  assert.equal((await allowed.scanOnce()).delivered, 1);
  assert.equal(receiver.alerts().length, 1);
});

test('guardedLookup refuses a name when any of its addresses is not allowed', async () => {
  const lookup = guardedLookup(new Set());
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('localhost', { all: true }, (e) => resolve(e)));
  assert.equal(err?.code, 'ERR_WEBHOOK_ADDRESS');
  const open = guardedLookup(new Set(['loopback']));
  const addresses = await new Promise<unknown>((resolve, reject) => open('localhost', { all: true }, (e, a) => (e ? reject(e) : resolve(a))));
  assert.ok(Array.isArray(addresses) && addresses.length > 0);
});
