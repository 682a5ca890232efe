// Expiry alerts for custom edge certificates end to end: two notifiers (two API nodes) on their
// own connections to one real SQLite file or PostgreSQL schema, a real HTTP receiver on 127.0.0.1,
// the clock moved by the test. One alert at 30 days, one at 14, one once expired,
// never twice whatever the number of scans or notifiers; a certificate first seen expired alerts
// once (expired); the payload names the hostnames it serves; a deleted one stops alerting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Zone } from '../../src/domain/index.ts';
import { createNotifier, EDGE_CUSTOM_EXPIRY_ALERT, type AlertPayload, type Notifier } from '../../src/notify/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { Clock, DAY, newBox, postgresSchema, postgresUnreachable, SECRET, seed, T0 } from './fixtures.ts';
import { startReceiver } from './receiver.ts';

// The receiver listens on 127.0.0.1: webhooks to loopback are refused unless allowed.
process.env.ORIGINPULL_WEBHOOK_ALLOW = 'loopback';

const root = mkdtempSync(join(tmpdir(), 'originpull-notify-edge-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const pgSkip = await postgresUnreachable();

/** Two stores on one fresh database, migrated, and a cleanup. */
const engines: { name: string; skip: string | null; open(): Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    skip: null,
    async open() {
      const url = `sqlite:${join(root, 'edge.db')}`;
      const a = await openStore(url);
      const b = await openStore(url);
      await a.migrate();
      await b.migrate();
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
      await a.migrate();
      await b.migrate();
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

async function settle(notifier: Notifier): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await notifier.scanOnce();
    if (r.enqueued === 0 && r.attempted === 0) return;
  }
}

/** A custom edge certificate row for `hosts`, expiring at `expiresOn` (the planner never parses the PEM). */
function addEdgeCertificate(store: Store, zone: Zone, hosts: string[], expiresOn: number, priority = 0) {
  seq++;
  return store.insertEdgeCertificate({
    zoneId: zone.id,
    certificatePem: `-----BEGIN CERTIFICATE-----\nedge${seq}\n-----END CERTIFICATE-----\n`,
    privateKeySealed: newBox().seal('not a key'),
    bundleMethod: 'ubiquitous',
    hosts,
    issuer: 'Visitor Test CA',
    serialNumber: String(1000 + seq),
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: String(seq).padStart(64, 'e'),
    notBefore: T0 - 60 * DAY,
    expiresOn,
    priority,
  });
}

for (const engine of engines) {
  test(`${engine.name}: custom edge certificates alert once at 30 days, at 14 days and once expired; none twice; none after delete`, { skip: engine.skip ?? false }, async (t) => {
    const clock = new Clock();
    const receiver = await startReceiver({ clock: clock.now });
    const { a: store, b: other, cleanup } = await engine.open();
    const box = newBox();
    // Two notifiers, each on its own store connection, as two API nodes run them: each alert still arrives once.
    const a = createNotifier({ store, secretBox: box, now: clock.now, logger: false, owner: 'node-a' });
    const b = createNotifier({ store: other, secretBox: box, now: clock.now, logger: false, owner: 'node-b' });
    t.after(async () => {
      await a.close();
      await b.close();
      await cleanup();
      await receiver.close();
    });
    const s = await seed(store, box, [receiver.url]);
    const policy = await store.createAlertPolicy({
      accountId: s.account.id,
      name: 'edge certs',
      description: '',
      enabled: true,
      alertType: EDGE_CUSTOM_EXPIRY_ALERT,
      alertInterval: null,
      webhookIds: s.webhooks.map((w) => w.id),
      filters: { zones: [s.zone.id] },
      created: T0,
    });
    // `www` is named exactly by one, the wildcard serves `app` (the seed's two proxied records).
    const exact = await addEdgeCertificate(store, s.zone, ['www.example.com'], T0 + 40 * DAY);
    const wild = await addEdgeCertificate(store, s.zone, ['example.com', '*.example.com'], T0 + 50 * DAY);

    const edgeAlerts = () => receiver.alerts().map((r) => r.body as AlertPayload).filter((p) => p.alert_type === EDGE_CUSTOM_EXPIRY_ALERT);
    const seen = () => edgeAlerts().map((p) => `${p.data.certificate_id === exact.id ? 'exact' : 'wild'}:${p.data.threshold}`);
    const scanBoth = async () => {
      await Promise.all([settle(a), settle(b)]);
      await settle(a);
    };
    await scanBoth();
    assert.deepEqual(seen(), [], 'nothing 40 days out');

    const steps: [number, string[]][] = [
      [10 * DAY, ['exact:30']],
      [20 * DAY, ['exact:30', 'wild:30']],
      [26 * DAY, ['exact:30', 'wild:30', 'exact:14']],
      [36 * DAY, ['exact:30', 'wild:30', 'exact:14', 'wild:14']],
      [40 * DAY - 1, ['exact:30', 'wild:30', 'exact:14', 'wild:14']],
      [40 * DAY, ['exact:30', 'wild:30', 'exact:14', 'wild:14', 'exact:0']],
      [45 * DAY, ['exact:30', 'wild:30', 'exact:14', 'wild:14', 'exact:0']],
    ];
    for (const [at, expected] of steps) {
      clock.set(T0 + at);
      await scanBoth();
      await scanBoth();
      assert.deepEqual(seen(), expected, `at T0 + ${at / DAY} days`);
    }

    const [first] = receiver.alerts().filter((r) => (r.body as AlertPayload).alert_type === EDGE_CUSTOM_EXPIRY_ALERT);
    assert.equal(first.headers['cf-webhook-auth'], SECRET);
    const p = first.body as AlertPayload;
    assert.equal(p.policy_id, policy.id);
    assert.equal(p.name, 'edge certs');
    assert.deepEqual(p.data, {
      certificate_id: exact.id,
      days_til_expiration: 30,
      expires_on: new Date(T0 + 40 * DAY).toISOString(),
      hostnames: ['www.example.com'],
      zone_tag: s.zone.id,
      zone_name: 'example.com',
      account_tag: s.account.id,
      account_name: s.account.name,
      level: 'edge',
      threshold: 30,
    });
    assert.match(p.text, /^Custom Edge Certificate Expiration Alert: the custom edge certificate \S+ of example\.com expires in 30 days/);
    assert.match(p.text, /Visitors to www\.example\.com are served it/);
    const wild30 = edgeAlerts().find((x) => x.data.certificate_id === wild.id)!;
    assert.deepEqual(wild30.data.hostnames, ['app.example.com'], 'the wildcard serves the name no exact certificate covers');
    const expired = edgeAlerts().find((x) => x.data.threshold === 0)!;
    assert.equal(expired.data.days_til_expiration, 0);
    assert.match(expired.text, /expired on .*Browsers refuse it for/);
    // A distinct correlation id per (certificate, event, policy).
    assert.equal(new Set(edgeAlerts().map((x) => x.alert_correlation_id)).size, edgeAlerts().length);

    // First seen already expired: one alert, `expired`, not 30d and 14d as well.
    const late = await addEdgeCertificate(store, s.zone, ['shop.example.com'], T0 + 44 * DAY);
    await scanBoth();
    const lateAlerts = edgeAlerts().filter((x) => x.data.certificate_id === late.id);
    assert.deepEqual(lateAlerts.map((x) => x.data.threshold), [0]);
    assert.deepEqual(lateAlerts[0].data.hostnames, [], 'no proxied record for shop');
    assert.match(lateAlerts[0].text, /No proxied hostname is served it now/);

    // Deleted: its due alert is not sent, and it never alerts again.
    await store.requestEdgeCertificateDeletion(s.zone.id, wild.id);
    clock.set(T0 + 60 * DAY);
    await scanBoth();
    assert.equal(edgeAlerts().filter((x) => x.data.certificate_id === wild.id && x.data.threshold === 0).length, 0, 'a deleted certificate does not alert');

    // Every delivery row is the one alert it says, delivered once.
    const rows = (await store.listAlertDeliveries({ limit: 1000 })).filter((d) => d.alertType === EDGE_CUSTOM_EXPIRY_ALERT);
    assert.equal(rows.length, edgeAlerts().length);
    assert.ok(rows.every((d) => d.status === 'delivered' && d.attempts === 1));
  });
}
