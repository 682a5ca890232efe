// Alerts for certificate packs (ACME) end to end: Cloudflare's universal_ssl_event_type and
// dedicated_ssl_certificate_event_type, two notifiers (two API nodes) on their own connections to
// one real SQLite file or PostgreSQL schema, a real HTTP receiver on 127.0.0.1, the clock moved by
// the test. Per pack: one alert at 30 days, one at 14, one once expired; one per failed
// validation or issuance (the orderer's retries of it do not repeat it) carrying the CA's error;
// a renewed certificate alerts afresh and the replaced one stops; a deleted pack stops alerting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificatePack, Zone } from '../../src/domain/index.ts';
import { ADVANCED_CERTIFICATE_ALERT, createNotifier, UNIVERSAL_SSL_ALERT, type AlertPayload, type Notifier } from '../../src/notify/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { Clock, DAY, newBox, postgresSchema, postgresUnreachable, SECRET, seed, T0 } from './fixtures.ts';
import { startReceiver } from './receiver.ts';

// The receiver listens on 127.0.0.1: webhooks to loopback are refused unless allowed.
process.env.ORIGINPULL_WEBHOOK_ALLOW = 'loopback';

const root = mkdtempSync(join(tmpdir(), 'originpull-notify-pack-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const pgSkip = await postgresUnreachable();

const engines: { name: string; skip: string | null; open(): Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    skip: null,
    async open() {
      const url = `sqlite:${join(root, 'packs.db')}`;
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

function newPack(store: Store, zone: Zone, type: 'universal' | 'advanced', hosts: string[]): Promise<CertificatePack> {
  return store.insertCertificatePack({ zoneId: zone.id, type, hosts, validationMethod: 'http', validityDays: 90, certificateAuthority: 'lets_encrypt' });
}

/** What the orderer stores once the CA issued (the planner never parses the PEM). */
function issue(store: Store, pack: CertificatePack, notBefore: number, expiresOn: number): Promise<CertificatePack> {
  seq++;
  return store.storeCertificatePackCertificate(pack.id, {
    certificatePem: `-----BEGIN CERTIFICATE-----\npack${seq}\n-----END CERTIFICATE-----\n`,
    privateKeySealed: newBox().seal('not a key'),
    issuer: 'CN=Pebble Intermediate CA',
    serialNumber: String(5000 + seq),
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: String(seq).padStart(64, 'a'),
    notBefore,
    expiresOn,
    renewAt: expiresOn - Math.floor((expiresOn - notBefore) / 3),
  });
}

for (const engine of engines) {
  test(`${engine.name}: certificate packs alert on expiry (30, 14 days, expired) and on each failure, once; renewal and deletion`, { skip: engine.skip ?? false }, async (t) => {
    const clock = new Clock();
    const receiver = await startReceiver({ clock: clock.now });
    const { a: store, b: other, cleanup } = await engine.open();
    const box = newBox();
    const a = createNotifier({ store, secretBox: box, now: clock.now, logger: false, owner: 'node-a' });
    const b = createNotifier({ store: other, secretBox: box, now: clock.now, logger: false, owner: 'node-b' });
    t.after(async () => {
      await a.close();
      await b.close();
      await cleanup();
      await receiver.close();
    });
    const s = await seed(store, box, [receiver.url]);
    const policy = (name: string, alertType: string) =>
      store.createAlertPolicy({ accountId: s.account.id, name, description: '', enabled: true, alertType, alertInterval: null, webhookIds: s.webhooks.map((w) => w.id), filters: { zones: [s.zone.id] }, created: T0 });
    const universalPolicy = await policy('universal', UNIVERSAL_SSL_ALERT);
    await policy('advanced', ADVANCED_CERTIFICATE_ALERT);

    let universal = await issue(store, await newPack(store, s.zone, 'universal', ['www.example.com']), T0 - 50 * DAY, T0 + 40 * DAY);
    const advanced = await issue(store, await newPack(store, s.zone, 'advanced', ['app.example.com']), T0 - 40 * DAY, T0 + 50 * DAY);
    // Never issued: its first order fails.
    const fresh = await newPack(store, s.zone, 'advanced', ['shop.example.com']);

    const packAlerts = () =>
      receiver
        .alerts()
        .map((r) => r.body as AlertPayload)
        .filter((p) => p.alert_type === UNIVERSAL_SSL_ALERT || p.alert_type === ADVANCED_CERTIFICATE_ALERT);
    const name = (id: string) => (id === universal.id ? 'universal' : id === advanced.id ? 'advanced' : id === fresh.id ? 'fresh' : id);
    const seen = () => packAlerts().map((p) => `${name(p.data.certificate_id)}:${p.data.event}`);
    const scanBoth = async () => {
      await Promise.all([settle(a), settle(b)]);
      await settle(a);
      await Promise.all([settle(a), settle(b)]);
    };
    await scanBoth();
    assert.deepEqual(seen(), [], 'nothing 40 days out');

    // A refused validation: one alert with the CA's error; the orderer's retries of it add none.
    const refusal = 'urn:ietf:params:acme:error:unauthorized: Invalid response from http://shop.example.com/.well-known/acme-challenge/x: 404';
    await store.updateCertificatePackOrder(fresh.id, { stage: 'validation_failed', errorText: refusal, attempts: 1, nextAttemptAt: T0 + 60_000 });
    await scanBoth();
    await store.updateCertificatePackOrder(fresh.id, { stage: 'validation_failed', errorText: refusal, attempts: 2, nextAttemptAt: T0 + 180_000 });
    await scanBoth();
    assert.deepEqual(seen(), ['fresh:validation_failed']);
    const failed = packAlerts()[0];
    assert.equal(failed.alert_type, ADVANCED_CERTIFICATE_ALERT);
    assert.equal(failed.data.level, 'advanced');
    assert.equal(failed.data.expires_on, null, 'never issued');
    assert.equal(failed.data.days_til_expiration, null);
    assert.deepEqual(failed.data.validation_errors, [{ message: refusal }]);
    assert.deepEqual(failed.data.hostnames, ['shop.example.com']);
    assert.match(failed.text, /^Advanced Certificate Alert: Validation failed for the advanced certificate pack \S+ of example\.com \(shop\.example\.com\): urn:ietf/);

    const steps: [number, string[]][] = [
      [10 * DAY, ['universal:30d']],
      [20 * DAY, ['universal:30d', 'advanced:30d']],
      [36 * DAY, ['universal:30d', 'advanced:30d', 'advanced:14d']],
    ];
    for (const [at, expected] of steps) {
      clock.set(T0 + at);
      // The universal pack is renewed before its 14-day mark: the replaced certificate never alerts again.
      if (at === 36 * DAY) universal = await issue(store, universal, T0 + 25 * DAY, T0 + 115 * DAY);
      await scanBoth();
      assert.deepEqual(seen().slice(1), expected, `at T0 + ${at / DAY} days`);
    }
    let before: string[];
    before = seen();
    clock.set(T0 + 50 * DAY);
    await scanBoth();
    assert.deepEqual(seen().slice(before.length), ['advanced:expired']);
    const expired = packAlerts().at(-1)!;
    assert.equal(expired.data.days_til_expiration, 0);
    assert.equal(expired.data.status, 'expired');
    assert.match(expired.text, /expired on .*: it was not renewed/);

    // The renewed certificate alerts afresh at its own 30 days; its renewal failing alerts once.
    clock.set(T0 + 86 * DAY);
    await store.updateCertificatePackOrder(universal.id, { stage: 'issuance_failed', errorText: 'urn:ietf:params:acme:error:rateLimited: too many certificates', attempts: 1, nextAttemptAt: T0 + 87 * DAY });
    await scanBoth();
    await store.updateCertificatePackOrder(universal.id, { stage: 'issuance_failed', errorText: 'urn:ietf:params:acme:error:rateLimited: too many certificates', attempts: 2, nextAttemptAt: T0 + 88 * DAY });
    clock.set(T0 + 87 * DAY);
    await scanBoth();
    before = seen();
    assert.deepEqual(before.filter((x) => x.startsWith('universal')).sort(), ['universal:30d', 'universal:30d', 'universal:issuance_failed']);
    const renewedAlerts = packAlerts().filter((p) => p.data.certificate_id === universal.id);
    assert.deepEqual(
      renewedAlerts.filter((p) => p.data.event === '30d').map((p) => p.data.expires_on),
      [new Date(T0 + 40 * DAY).toISOString(), new Date(T0 + 115 * DAY).toISOString()],
      'the second 30-day alert is about the renewed certificate',
    );
    const issuance = renewedAlerts.find((p) => p.data.event === 'issuance_failed')!;
    assert.equal(issuance.alert_type, UNIVERSAL_SSL_ALERT);
    assert.equal(issuance.policy_id, universalPolicy.id);
    assert.equal(issuance.data.level, 'universal');
    assert.match(issuance.text, /Issuance failed .*rateLimited.*The edge keeps serving its current certificate/);
    assert.equal(new Set(packAlerts().map((x) => x.alert_correlation_id)).size, packAlerts().length);
    const [first] = receiver.alerts();
    assert.equal(first.headers['cf-webhook-auth'], SECRET);

    // Deleted: never alerts again (its 14 days and expiry pass unsent).
    await store.requestCertificatePackDeletion(s.zone.id, universal.id);
    clock.set(T0 + 120 * DAY);
    await scanBoth();
    assert.deepEqual(seen(), before, 'a deleted pack does not alert');

    const rows = (await store.listAlertDeliveries({ limit: 1000 })).filter((d) => d.alertType === UNIVERSAL_SSL_ALERT || d.alertType === ADVANCED_CERTIFICATE_ALERT);
    assert.equal(rows.filter((d) => d.status === 'delivered').length, packAlerts().length);
    assert.ok(rows.filter((d) => d.status === 'delivered').every((d) => d.attempts === 1));
  });
}
