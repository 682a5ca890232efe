// Stores, an installation and alert policies for notifier tests: a SQLite file (or a fresh
// PostgreSQL schema), the default account, one zone with proxied records, a webhook destination
// (secret sealed as the API seals it) and one enabled policy per AOP expiry alert type.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Account, Zone } from '../../src/domain/index.ts';
import { HOSTNAME_EXPIRY_ALERT, ZONE_EXPIRY_ALERT } from '../../src/notify/index.ts';
import { openStore, SecretBox, type AlertPolicy, type AlertWebhook, type Store } from '../../src/store/index.ts';
import { certFixture, pkiFixture } from '../store/contract.ts';

export const DAY = 86_400_000;
/** The tests' epoch: the fake clock starts here. */
export const T0 = Date.parse('2031-01-01T00:00:00Z');
export const SECRET = 'hook-secret-1';
/** Retries in tens of milliseconds, for tests on the real clock. */
export const FAST_RETRY = { firstDelayMs: 20, maxDelayMs: 100, giveUpAfterMs: 60_000, jitter: 0.2 };

/** A clock the test moves. */
export class Clock {
  t = T0;
  readonly now = (): number => this.t;
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export async function openSqlite(file: string): Promise<Store> {
  const store = await openStore(`sqlite:${file}`, { pollIntervalMs: 50 });
  await store.migrate();
  return store;
}

export interface Seeded {
  account: Account;
  zone: Zone;
  webhooks: AlertWebhook[];
  zonePolicy: AlertPolicy;
  hostnamePolicy: AlertPolicy;
}

/** The installation plus one webhook per URL and a policy per expiry type using all of them. */
export async function seed(store: Store, box: SecretBox, urls: string[]): Promise<Seeded> {
  await store.initPki(pkiFixture());
  const account = await store.ensureDefaultAccount();
  const zone = await store.updateZoneSettings((await store.createZone({ accountId: account.id, name: 'example.com' })).id, { aopEnabled: true });
  for (const name of ['www.example.com', 'app.example.com']) {
    await store.createDnsRecord({ zoneId: zone.id, name, type: 'A', content: '127.0.0.1', proxied: true, ttl: 1, originHttpPort: 80, originHttpsPort: 443, comment: null });
  }
  const webhooks: AlertWebhook[] = [];
  for (const [i, url] of urls.entries()) {
    webhooks.push(await store.createAlertWebhook({ accountId: account.id, name: `hook ${i}`, url, secretSealed: box.seal(SECRET), createdAt: T0, lastSuccess: T0 }));
  }
  const policy = (alertType: string, name: string) =>
    store.createAlertPolicy({ accountId: account.id, name, description: '', enabled: true, alertType, alertInterval: null, webhookIds: webhooks.map((w) => w.id), filters: {}, created: T0 });
  return { account, zone, webhooks, zonePolicy: await policy(ZONE_EXPIRY_ALERT, 'zone certs'), hostnamePolicy: await policy(HOSTNAME_EXPIRY_ALERT, 'hostname certs') };
}

/** Stores a certificate that expires at `expiresOn` (the scanner never parses the PEM). */
export function addCertificate(store: Store, zone: Zone, kind: 'zone' | 'hostname', expiresOn: number) {
  return store.insertCertificate(certFixture(zone.id, kind, { notBefore: T0 - 60 * DAY, expiresOn }));
}

export function newBox(): SecretBox {
  return new SecretBox(randomBytes(32));
}

// ── PostgreSQL (skipped when unreachable) ──────────────────────────────────────

import { PG_URL } from '../helpers/postgres.ts';
export { PG_URL, postgresUnreachable } from '../helpers/postgres.ts';

/** A fresh schema's URL and a function that drops it. */
export function postgresSchema(): { url: string; drop: () => Promise<void> } {
  const schema = `op_notify_${randomBytes(6).toString('hex')}`;
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  return {
    url: u.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
