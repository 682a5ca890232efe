// The store contract on SQLite files, plus what only the SQLite file can show: keys at rest and
// the loadConfig budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { loadMigrations } from '../../src/store/migrations/index.ts';
import { openStore, SecretBox, SqliteStore, type Store } from '../../src/store/index.ts';
import { certFixture, pkiFixture, recordFixture, storeContract } from './contract.ts';
import { alertingContract } from './alerting-contract.ts';
import { acmeContract } from './acme-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'originpull-store-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;

const sqliteFixture = async () => {
  const file = join(root, `s${++seq}`, 'originpull.db');
  const store = await openStore(`sqlite:${file}`, { pollIntervalMs: 20 });
  const opened: Store[] = [store];
  return {
    store,
    async another() {
      const s = await openStore(`sqlite:${file}`, { pollIntervalMs: 20 });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
    },
  };
};
storeContract('sqlite', sqliteFixture);
alertingContract('sqlite', sqliteFixture);
acmeContract('sqlite', sqliteFixture);

test('sqlite: openStore creates the parent directory and returns a SqliteStore in WAL mode', async () => {
  const file = join(root, 'deep', 'er', 'x.db');
  const store = await openStore(`sqlite:${file}`);
  try {
    assert.ok(store instanceof SqliteStore);
    assert.equal(store.kind, 'sqlite');
    await store.migrate();
    assert.ok(existsSync(file));
    const db = new DatabaseSync(file);
    assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    assert.deepEqual(
      (db.prepare('SELECT version, name FROM schema_migrations').all() as { version: number; name: string }[]).map((r) => ({ ...r })),
      // Every migration file of the folder, in order (numbers reserved for other branches may be missing).
      loadMigrations().map((m) => ({ version: m.version, name: m.name })),
    );
    db.close();
  } finally {
    await store.close();
  }
  await assert.rejects(openStore('mysql://x'), /unsupported store URL/);
});

const run = promisify(execFile);
const writer = join(import.meta.dirname, 'sqlite-writer.ts');

test('sqlite: other processes migrate at the same time, and their writes reach onChange and consistent loads', async () => {
  const file = join(root, 'procs', 'originpull.db');
  const store = await openStore(`sqlite:${file}`, { pollIntervalMs: 20 });
  try {
    await Promise.all([
      run(process.execPath, [writer, file, 'migrate']),
      run(process.execPath, [writer, file, 'migrate']),
      store.migrate(),
    ]);
    await store.initPki(pkiFixture());
    const account = await store.ensureDefaultAccount();
    const zone = await store.createZone({ accountId: account.id, name: 'example.com' });
    const base = await store.loadConfig();
    const heard: number[] = [];
    const off = store.onChange((v) => heard.push(v));
    let done = false;
    const children = Promise.all([
      run(process.execPath, [writer, file, 'records', zone.id, '25', 'a']),
      run(process.execPath, [writer, file, 'records', zone.id, '25', 'b']),
    ]).finally(() => (done = true));
    while (!done) {
      const cfg = await store.loadConfig();
      assert.equal(cfg.records.length - base.records.length, cfg.version - base.version, 'a load sees whole writes only');
      await new Promise((r) => setTimeout(r, 5));
    }
    await children;
    await new Promise((r) => setTimeout(r, 100));
    off();
    assert.equal(await store.currentVersion(), base.version + 50, 'no write of either process was lost');
    assert.equal(heard.at(-1), base.version + 50, `the feed reached the last version: ${heard.join(',')}`);
    for (let i = 1; i < heard.length; i++) assert.ok(heard[i] > heard[i - 1]);
  } finally {
    await store.close();
  }
});

test('sqlite: the database file never holds a plain private key', async () => {
  const file = join(root, 'keys', 'originpull.db');
  const box = new SecretBox(randomBytes(32));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const body = pem.split('\n')[1]; // a line of the key's base64
  const sealed = box.seal(pem);
  const store = await openStore(`sqlite:${file}`);
  await store.migrate();
  const account = await store.ensureDefaultAccount();
  const zone = await store.createZone({ accountId: account.id, name: 'keys.example' });
  await store.insertCertificate(certFixture(zone.id, 'zone', { privateKeySealed: sealed }));
  await store.initPki({ ...pkiFixture(), edgeCaKeySealed: box.seal(pem) });
  await store.close();
  const bytes = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  assert.ok(bytes.includes(sealed), 'the sealed key is there (the grep looks in the right place)');
  assert.equal(bytes.includes(body), false, 'no line of the plain key');
  assert.equal(bytes.includes('PRIVATE KEY'), false, 'no PEM private key header');
  const again = await openStore(`sqlite:${file}`);
  const [cert] = await again.listCertificates(zone.id, 'zone');
  assert.equal(box.open(cert.privateKeySealed), pem);
  await again.close();
});

// Scale, not speed: how fast this is belongs to the bench (bench/ scale scenario); here only
// that a large installation loads whole. The time is printed as a diagnostic.
test('sqlite: loadConfig reads 100,000 records and 10,000 certificates', async (t) => {
  const file = join(root, 'big', 'originpull.db');
  const store = await openStore(`sqlite:${file}`);
  await store.migrate();
  await store.initPki(pkiFixture());
  const account = await store.ensureDefaultAccount();
  const zones = [];
  for (let i = 0; i < 100; i++) zones.push(await store.createZone({ accountId: account.id, name: `z${i}.example` }));
  // Bulk-load through a side connection: a transaction per row would dominate the test.
  const db = new DatabaseSync(file);
  db.exec('BEGIN');
  const rec = db.prepare(
    `INSERT INTO dns_records (id, zone_id, name, type, content, proxied, ttl, origin_http_port, origin_https_port, comment, created_on, modified_on)
     VALUES (?, ?, ?, 'A', '192.0.2.1', 1, 1, 80, 443, NULL, ?, ?)`,
  );
  const cert = db.prepare(
    `INSERT INTO certificates (id, zone_id, kind, certificate_pem, private_key_sealed, issuer, serial_number, signature,
       fingerprint_sha256, not_before, expires_on, uploaded_on, deploy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const now = Date.now();
  const pem = '-----BEGIN CERTIFICATE-----\n' + 'A'.repeat(900) + '\n-----END CERTIFICATE-----\n';
  const key = 'v1:' + 'B'.repeat(300);
  for (let i = 0; i < 100_000; i++) {
    const r = recordFixture(zones[i % 100].id, `h${i}.z${i % 100}.example`);
    rec.run(randomBytes(16).toString('hex'), r.zoneId, r.name, now, now);
  }
  for (let i = 0; i < 10_000; i++) {
    const c = certFixture(zones[i % 100].id, i % 2 ? 'zone' : 'hostname');
    cert.run(crypto.randomUUID(), c.zoneId, c.kind, pem, key, c.issuer, c.serialNumber, c.signature, c.fingerprintSha256, c.notBefore, c.expiresOn, now, 1);
  }
  db.exec('COMMIT');
  db.close();
  try {
    await store.loadConfig(); // warm the statement cache and the page cache
    const started = performance.now();
    const cfg = await store.loadConfig();
    const ms = performance.now() - started;
    t.diagnostic(`loadConfig: ${cfg.records.length} records, ${cfg.certificates.length} certificates in ${ms.toFixed(0)} ms`);
    assert.equal(cfg.records.length, 100_000);
    assert.equal(cfg.certificates.length, 10_000);
  } finally {
    await store.close();
  }
});

test('sqlite: a write that logged no change (a node from before the change log) makes loadConfigChanges answer null', async () => {
  const file = join(root, 'unlogged', 'originpull.db');
  const store = await openStore(`sqlite:${file}`, { pollIntervalMs: 20 });
  try {
    await store.migrate();
    await store.initPki(pkiFixture());
    const account = await store.ensureDefaultAccount();
    const zone = await store.createZone({ accountId: account.id, name: 'old.example' });
    const since = await store.currentVersion();
    await store.createDnsRecord(recordFixture(zone.id, 'www.old.example'));
    assert.equal((await store.loadConfigChanges(since))?.records.length, 1, 'logged writes make a delta');
    // What an older node's write does: bump the version and change rows, logging nothing.
    const db = new DatabaseSync(file);
    try {
      db.exec("UPDATE config_version SET v = v + 1 WHERE id = 1; UPDATE dns_records SET content = '192.0.2.1'");
    } finally {
      db.close();
    }
    assert.equal(await store.loadConfigChanges(since), null);
    await store.createDnsRecord(recordFixture(zone.id, 'api.old.example'));
    assert.equal(await store.loadConfigChanges(since), null, 'a later logged write does not hide the unlogged one');
    assert.ok(await store.loadConfigChanges(await store.currentVersion()), 'changes after it are a delta again');
  } finally {
    await store.close();
  }
});
