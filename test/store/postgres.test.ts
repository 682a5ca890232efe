// The store contract on PostgreSQL: each store gets a fresh schema of the `test` database, dropped
// afterwards. Skips (with the reason) when no PostgreSQL is reachable; ORIGINPULL_TEST_PG
// overrides the URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { certFixture, pkiFixture, recordFixture, storeContract } from './contract.ts';
import { alertingContract } from './alerting-contract.ts';
import { acmeContract } from './acme-contract.ts';
import { PG_URL, postgresUnreachable } from '../helpers/postgres.ts';

const baseUrl = PG_URL;
const unreachable = await postgresUnreachable(baseUrl);

function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

function freshSchema(): string {
  return `op_test_${randomBytes(6).toString('hex')}`;
}

if (unreachable) {
  test('postgres store contract', (t) => {
    t.skip(unreachable);
  });
} else {
  const postgresFixture = async () => {
    const schema = freshSchema();
    const url = withSchema(baseUrl, schema);
    const store = await openStore(url, { pollIntervalMs: 200 });
    const opened: Store[] = [store];
    return {
      store,
      async another() {
        const s = await openStore(url, { pollIntervalMs: 200 });
        opened.push(s);
        return s;
      },
      async cleanup() {
        for (const s of opened) await s.close();
        await dropSchema(schema);
      },
    };
  };
  storeContract('postgres', postgresFixture);
  alertingContract('postgres', postgresFixture);
  acmeContract('postgres', postgresFixture);

  test('postgres: openStore honours ?schema= and options=-c search_path=', async () => {
    const schema = freshSchema();
    const a = await openStore(withSchema(baseUrl, schema));
    const u = new URL(baseUrl);
    u.searchParams.set('options', `-c search_path=${schema}`);
    const b = await openStore(u.toString());
    try {
      assert.ok(a instanceof PostgresStore);
      assert.equal(a.kind, 'postgres');
      assert.equal((b as PostgresStore).schema, schema);
      await a.migrate();
      await b.migrate();
      const account = await a.ensureDefaultAccount();
      assert.deepEqual(await b.ensureDefaultAccount(), account);
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      const { rows } = await client.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
      await client.end();
      assert.ok(rows.some((r: { table_name: string }) => r.table_name === 'schema_migrations'));
      assert.ok(rows.some((r: { table_name: string }) => r.table_name === 'config_version'));
      assert.throws(() => new PostgresStore(withSchema(baseUrl, 'bad"name')), /invalid PostgreSQL schema/);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });

  test('postgres: loadConfig reads tables page by page through a cursor, whole', async () => {
    const schema = freshSchema();
    const url = withSchema(baseUrl, schema);
    const paged = new PostgresStore(url, { pageRows: 3 });
    const whole = new PostgresStore(url);
    try {
      await paged.migrate();
      await paged.initPki(pkiFixture());
      const account = await paged.ensureDefaultAccount();
      const zone = await paged.createZone({ accountId: account.id, name: 'example.com' });
      // 7 records: two full pages and a partial one; 6: a last page that comes back empty.
      for (let i = 0; i < 7; i++) await paged.createDnsRecord(recordFixture(zone.id, `h${i}.example.com`));
      for (let i = 0; i < 6; i++) await paged.insertCertificate(certFixture(zone.id, 'hostname'));
      const cfg = await paged.loadConfig();
      assert.equal(cfg.records.length, 7);
      assert.equal(cfg.certificates.length, 6);
      assert.deepEqual(cfg, await whole.loadConfig());
      // The cursor is closed: a second load in the same session works.
      assert.deepEqual(await paged.loadConfig(), cfg);
    } finally {
      await paged.close();
      await whole.close();
      await dropSchema(schema);
    }
  });

  test('postgres: the change feed survives losing its LISTEN connection', async () => {
    const schema = freshSchema();
    const u = new URL(withSchema(baseUrl, schema));
    u.searchParams.set('application_name', schema);
    const url = u.toString();
    const store = await openStore(url, { pollIntervalMs: 60_000 }); // only LISTEN/NOTIFY can deliver in time
    const writer = await openStore(url);
    try {
      await store.migrate();
      const account = await writer.ensureDefaultAccount();
      const zone = await writer.createZone({ accountId: account.id, name: 'example.com' });
      const heard: number[] = [];
      store.onChange((v) => heard.push(v));
      await waitFor(() => listenerPids(schema).then((p) => p.length > 0), 'the LISTEN connection');
      await writer.createDnsRecord(recordFixture(zone.id, 'a.example.com'));
      const v1 = await writer.currentVersion();
      await waitFor(async () => heard.at(-1) === v1, `notification of version ${v1}`);

      // Kill the listening backend: the store must reconnect (and never crash the process).
      const admin = new pg.Client({ connectionString: baseUrl });
      await admin.connect();
      for (const pid of await listenerPids(schema)) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.end();
      await writer.createDnsRecord(recordFixture(zone.id, 'b.example.com')); // made while nobody listens
      await waitFor(async () => heard.at(-1) === v1 + 1, 'catch-up after reconnecting', 5_000);
      await waitFor(() => listenerPids(schema).then((p) => p.length > 0), 'a new LISTEN connection');
      await writer.createDnsRecord(recordFixture(zone.id, 'c.example.com'));
      await waitFor(async () => heard.at(-1) === v1 + 2, 'notifications after reconnecting');
    } finally {
      await store.close();
      await writer.close();
      await dropSchema(schema);
    }
  });

  test('postgres: an unreachable server fails calls without crashing, and opening does not connect', async () => {
    const store = await openStore('postgres://postgres@127.0.0.1:1/test?schema=nowhere', { pollIntervalMs: 50 });
    const off = store.onChange(() => {});
    await assert.rejects(store.currentVersion());
    await new Promise((r) => setTimeout(r, 300)); // listener reconnects and checks fail quietly
    off();
    await store.close();
  });
}

/** Backends in LISTEN opened by this test's stores only: the URL gives them a unique application_name. */
async function listenerPids(appName: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN %'",
      [appName],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
