// The registry upkeep API nodes run: certificates whose deletion every live edge applied are
// removed for good (not before, and not with no live edge to confirm it); long-silent edges are
// forgotten; of several nodes one runs a round at a time (store.runExclusive — an advisory lock
// on PostgreSQL, checked here on both engines).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { startRegistryJanitor } from '../../src/sync/index.ts';
import { clientCert, fingerprintOf, newCa, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { probePostgres, TestSchema } from '../scale/harness.ts';

let dir: string;
let store: Store;
let inst: TestInstallation;
const config = loadConfig({ env: {}, flags: { heartbeatLapseMs: 5_000 } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-janitor-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  await store.migrate();
  inst = await newInstallation();
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function deletedCertificate(zoneId: string, name: string) {
  const leaf = await clientCert(await newCa(name), name);
  const cert = await store.insertCertificate({
    zoneId,
    kind: 'zone',
    certificatePem: leaf.certPem,
    privateKeySealed: inst.secretBox.seal(leaf.keyPem),
    issuer: name,
    serialNumber: '1',
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: fingerprintOf(leaf.certPem),
    notBefore: Date.now() - 1000,
    expiresOn: Date.now() + 86_400_000,
  });
  return (await store.requestCertificateDeletion(zoneId, 'zone', cert.id))!;
}

test('purges a deleted certificate only once every live edge applied its deletion', async () => {
  const account = await store.ensureDefaultAccount();
  const zone = await store.createZone({ accountId: account.id, name: 'janitor.test' });
  const cert = await deletedCertificate(zone.id, 'gone');
  const janitor = startRegistryJanitor({ store, config, intervalMs: 60_000 });
  try {
    assert.deepEqual(await janitor.runOnce(), { ran: true, purged: 0, forgotten: 0, appliedByAll: null }, 'no live edge: nothing confirmed');

    await store.reportEdge({ id: 'e1', name: 'edge-1', startedAt: Date.now(), appliedVersion: cert.deleteVersion! });
    await store.reportEdge({ id: 'e2', name: 'edge-2', startedAt: Date.now(), appliedVersion: cert.deleteVersion! - 1 });
    assert.equal((await janitor.runOnce()).purged, 0, 'edge-2 still serves it');
    assert.ok(await store.getCertificate(zone.id, 'zone', cert.id));

    await store.reportEdge({ id: 'e2', name: 'edge-2', startedAt: Date.now(), appliedVersion: cert.deleteVersion! });
    const run = await janitor.runOnce();
    assert.equal(run.purged, 1);
    assert.equal(run.appliedByAll, cert.deleteVersion);
    assert.equal(await store.getCertificate(zone.id, 'zone', cert.id), null);
  } finally {
    await janitor.close();
  }
});

test('forgets edges silent past forgetAfterMs', async () => {
  const janitor = startRegistryJanitor({ store, config, intervalMs: 60_000, forgetAfterMs: 50 });
  try {
    await new Promise((r) => setTimeout(r, 120));
    await store.reportEdge({ id: 'fresh', name: 'edge-fresh', startedAt: Date.now(), appliedVersion: 1 });
    const run = await janitor.runOnce();
    assert.equal(run.forgotten, 2);
    assert.deepEqual((await store.listEdges()).map((e) => e.id), ['fresh']);
  } finally {
    await janitor.close();
  }
});

async function exclusiveContract(a: Store, b: Store): Promise<void> {
  const outer = await a.runExclusive('job', async () => {
    const inner = await b.runExclusive('job', async () => 'second');
    const other = await b.runExclusive('another-job', async () => 'other');
    return { inner, other };
  });
  assert.deepEqual(outer, { ran: true, value: { inner: { ran: false }, other: { ran: true, value: 'other' } } });
  assert.deepEqual(await b.runExclusive('job', async () => 'now'), { ran: true, value: 'now' }, 'released after the run');
  await assert.rejects(a.runExclusive('job', async () => Promise.reject(new Error('boom'))), /boom/);
  assert.deepEqual(await b.runExclusive('job', async () => 'after a failure'), { ran: true, value: 'after a failure' });
}

test('runExclusive: one holder at a time (SQLite, within the process)', async () => {
  const second = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  try {
    await exclusiveContract(store, second);
  } finally {
    await second.close();
  }
});

const pgUnreachable = await probePostgres();
test('runExclusive: one holder at a time across PostgreSQL connections (advisory lock)', { skip: pgUnreachable ?? false }, async () => {
  const schema = new TestSchema();
  const a = await openStore(schema.url());
  const b = await openStore(schema.url());
  try {
    await a.migrate();
    await exclusiveContract(a, b);
  } finally {
    await a.close();
    await b.close();
    await schema.drop();
  }
});
