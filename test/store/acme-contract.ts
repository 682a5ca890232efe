// The Store contract for Universal SSL by ACME: settings, certificate packs, challenges and the
// account key, run against every implementation (registered from sqlite.test.ts and postgres.test.ts).
// What edges serve (a pack's certificate, challenges, deletions) reaches them through the version
// bumps and loadConfig/loadConfigChanges; order bookkeeping bumps nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, type Store } from '../../src/store/index.ts';
import { ConfigIndex } from '../../src/sync/index.ts';
import { pkiFixture, recordFixture, type StoreFixture } from './contract.ts';

function packCert(tag: string) {
  const now = Date.now();
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${tag}\n-----END CERTIFICATE-----\n`,
    privateKeySealed: `v1:key-${tag}`,
    issuer: 'CN=Pebble Intermediate',
    serialNumber: '12345',
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: tag.padEnd(64, '0'),
    notBefore: now - 60_000,
    expiresOn: now + 86_400_000,
    renewAt: now + 50_000_000,
  };
}

export function acmeContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  async function withStore(fn: (store: Store, fixture: StoreFixture) => Promise<void>): Promise<void> {
    const fixture = await makeStore();
    try {
      await fixture.store.migrate();
      await fixture.store.initPki(pkiFixture());
      await fn(fixture.store, fixture);
    } finally {
      await fixture.cleanup();
    }
  }

  async function zone(store: Store, zoneName = 'acme.example') {
    const account = await store.ensureDefaultAccount();
    return store.createZone({ accountId: account.id, name: zoneName });
  }

  test(`${name}: Universal SSL is on by default, can be turned off, and unknown zones are refused`, () =>
    withStore(async (store) => {
      const z = await zone(store);
      assert.deepEqual(await store.getUniversalSsl(z.id), { enabled: true, modifiedOn: null });
      const v = await store.currentVersion();
      const off = await store.setUniversalSsl(z.id, false);
      assert.equal(off.enabled, false);
      assert.equal((await store.getUniversalSsl(z.id)).enabled, false);
      assert.deepEqual([...(await store.listUniversalSslOff())], [z.id]);
      await store.setUniversalSsl(z.id, true);
      assert.equal((await store.getUniversalSsl(z.id)).enabled, true);
      assert.equal(await store.currentVersion(), v, 'the setting is not edge config');
      await assert.rejects(store.getUniversalSsl('f'.repeat(32)), NotFoundError);
      await assert.rejects(store.setUniversalSsl('f'.repeat(32), true), NotFoundError);
    }));

  test(`${name}: proxied names by zone, in one read (DNS-only records are not among them)`, () =>
    withStore(async (store) => {
      const a = await zone(store);
      const b = await zone(store, 'other.example');
      await store.createDnsRecord(recordFixture(a.id, 'www.acme.example'));
      await store.createDnsRecord(recordFixture(a.id, '*.acme.example'));
      await store.createDnsRecord(recordFixture(a.id, 'direct.acme.example', { proxied: false }));
      await store.createDnsRecord(recordFixture(b.id, 'api.other.example'));
      const names = await store.listProxiedNames();
      assert.deepEqual(names.get(a.id)?.sort(), ['*.acme.example', 'www.acme.example']);
      assert.deepEqual(names.get(b.id), ['api.other.example']);
      assert.equal(names.size, 2);
    }));

  test(`${name}: a pack goes from initializing to issued; only its certificate and challenges reach edges`, () =>
    withStore(async (store) => {
      const z = await zone(store);
      const quiet = await zone(store, 'quiet.example');
      const index = ConfigIndex.of(await store.loadConfig());
      const v0 = await store.currentVersion();
      const pack = await store.insertCertificatePack({
        zoneId: z.id,
        type: 'universal',
        hosts: ['www.acme.example'],
        validationMethod: 'http',
        validityDays: 90,
        certificateAuthority: 'lets_encrypt',
      });
      assert.equal(pack.stage, 'initializing');
      assert.equal(pack.certificate, null);
      assert.equal(await store.currentVersion(), v0, 'a pack without a certificate is not edge config');
      assert.deepEqual((await store.loadConfig()).certificatePacks, [], 'edges get only packs with a certificate');

      const failed = await store.updateCertificatePackOrder(pack.id, { stage: 'validation_failed', errorText: 'Connection refused', attempts: 1, nextAttemptAt: 42 });
      assert.deepEqual([failed.stage, failed.errorText, failed.attempts, failed.nextAttemptAt], ['validation_failed', 'Connection refused', 1, 42]);
      assert.equal(await store.currentVersion(), v0);

      const v1 = await store.putAcmeChallenges(pack.id, [{ token: 'tok-1', hostname: 'www.acme.example', type: 'http-01', keyAuthorization: 'tok-1.thumb' }]);
      assert.equal(v1, v0 + 1);
      let changes = (await store.loadConfigChanges(index.version))!;
      assert.deepEqual(changes.zones.map((x) => x.id), [z.id], 'the challenge is logged against its zone only');
      assert.equal(changes.acmeChallenges!.length, 1);
      assert.deepEqual(
        [changes.acmeChallenges![0].token, changes.acmeChallenges![0].keyAuthorization, changes.acmeChallenges![0].status],
        ['tok-1', 'tok-1.thumb', 'pending'],
      );
      index.apply(changes);
      await store.setAcmeChallengeStatus('tok-1', 'valid');
      assert.equal((await store.listAcmeChallenges(z.id))[0].status, 'valid');

      const issued = await store.storeCertificatePackCertificate(pack.id, packCert('aa'));
      assert.equal(issued.stage, 'issued');
      assert.equal(issued.errorText, null);
      assert.equal(issued.attempts, 0);
      assert.equal(issued.certificate!.deployVersion, await store.currentVersion());
      assert.deepEqual(await store.listAcmeChallenges(z.id), [], 'an issued certificate clears its challenges');
      changes = (await store.loadConfigChanges(index.version))!;
      assert.ok(!changes.zones.some((x) => x.id === quiet.id));
      assert.equal(changes.certificatePacks!.length, 1);
      assert.equal(changes.certificatePacks![0].certificate!.privateKeySealed, 'v1:key-aa');
      assert.deepEqual(changes.acmeChallenges, []);
      index.apply(changes);
      const full = await store.loadConfig();
      assert.deepEqual(index.toData().certificatePacks, full.certificatePacks, 'the earlier load plus the changes is the later load');

      // A renewal keeps the certificate while the new order runs.
      const renewing = await store.updateCertificatePackOrder(pack.id, { stage: 'pending_validation' });
      assert.equal(renewing.certificate!.fingerprintSha256, issued.certificate!.fingerprintSha256);
    }));

  test(`${name}: challenges: replaced per pack, a token moves to the pack that claims it, cleared with a bump`, () =>
    withStore(async (store) => {
      const z = await zone(store);
      const mk = (host: string) =>
        store.insertCertificatePack({ zoneId: z.id, type: 'advanced', hosts: [host], validationMethod: 'http', validityDays: 90, certificateAuthority: 'lets_encrypt' });
      const a = await mk('a.acme.example');
      const b = await mk('b.acme.example');
      await store.putAcmeChallenges(a.id, [
        { token: 't1', hostname: 'a.acme.example', type: 'http-01', keyAuthorization: 't1.x' },
        { token: 't2', hostname: 'a.acme.example', type: 'tls-alpn-01', keyAuthorization: 't2.x', certificatePem: 'PEM', privateKeySealed: 'v1:k' },
      ]);
      await store.putAcmeChallenges(a.id, [{ token: 't3', hostname: 'a.acme.example', type: 'http-01', keyAuthorization: 't3.x' }]);
      assert.deepEqual((await store.listAcmeChallenges(z.id)).map((c) => c.token), ['t3']);
      await store.putAcmeChallenges(b.id, [{ token: 't3', hostname: 'b.acme.example', type: 'http-01', keyAuthorization: 't3.y' }]);
      const list = await store.listAcmeChallenges(z.id);
      assert.deepEqual(list.map((c) => [c.token, c.packId, c.keyAuthorization]), [['t3', b.id, 't3.y']]);
      const v = await store.currentVersion();
      assert.equal(await store.clearAcmeChallenges(a.id), 0);
      assert.equal(await store.currentVersion(), v, 'nothing to clear, no bump');
      assert.equal(await store.clearAcmeChallenges(b.id), 1);
      assert.equal(await store.currentVersion(), v + 1);
      await assert.rejects(store.putAcmeChallenges('00000000-0000-4000-8000-000000000000', []), NotFoundError);
    }));

  test(`${name}: pack deletion stamps a version, clears challenges, is idempotent and purged once applied`, () =>
    withStore(async (store) => {
      const z = await zone(store);
      const pack = await store.insertCertificatePack({ zoneId: z.id, type: 'universal', hosts: ['www.acme.example'], validationMethod: 'http', validityDays: 90, certificateAuthority: 'lets_encrypt' });
      await store.storeCertificatePackCertificate(pack.id, packCert('bb'));
      await store.putAcmeChallenges(pack.id, [{ token: 'tx', hostname: 'www.acme.example', type: 'http-01', keyAuthorization: 'tx.y' }]);
      const deleted = await store.requestCertificatePackDeletion(z.id, pack.id);
      assert.equal(deleted!.deleteVersion, await store.currentVersion());
      assert.deepEqual(await store.listAcmeChallenges(z.id), []);
      assert.equal((await store.requestCertificatePackDeletion(z.id, pack.id))!.deleteVersion, deleted!.deleteVersion);
      assert.equal(await store.requestCertificatePackDeletion(z.id, '00000000-0000-4000-8000-000000000000'), null);
      assert.deepEqual((await store.loadConfig()).certificatePacks, [], 'edges stop serving it');
      assert.deepEqual(await store.listLiveCertificatePacks(), []);
      assert.equal((await store.listCertificatePacks(z.id)).length, 1, 'still listed until purged');
      assert.equal((await store.listCertificatePacks(z.id, { includeDeleted: false })).length, 0);
      await assert.rejects(store.updateCertificatePackOrder(pack.id, { stage: 'initializing' }), NotFoundError);
      assert.equal(await store.purgeDeletedCertificates(deleted!.deleteVersion! - 1), 0);
      assert.equal(await store.purgeDeletedCertificates(deleted!.deleteVersion!), 1);
      assert.equal(await store.getCertificatePack(z.id, pack.id), null);
    }));

  test(`${name}: the ACME account key is stored once per directory, the first one wins`, () =>
    withStore(async (store, fixture) => {
      const other = await fixture.another();
      const dir = 'https://127.0.0.1:14000/dir';
      assert.equal(await store.getAcmeAccount(dir), null);
      const [a, b] = await Promise.all([store.initAcmeAccount(dir, 'v1:key-a'), other.initAcmeAccount(dir, 'v1:key-b')]);
      assert.equal(a.accountKeySealed, b.accountKeySealed);
      await store.setAcmeAccountUrl(dir, 'https://127.0.0.1:14000/my-account/1');
      const got = await other.getAcmeAccount(dir);
      assert.equal(got!.accountUrl, 'https://127.0.0.1:14000/my-account/1');
      assert.equal(got!.accountKeySealed, a.accountKeySealed);
    }));

  test(`${name}: deleting a zone takes its packs, challenges and setting with it`, () =>
    withStore(async (store) => {
      const z = await zone(store);
      await store.setUniversalSsl(z.id, false);
      const pack = await store.insertCertificatePack({ zoneId: z.id, type: 'universal', hosts: ['www.acme.example'], validationMethod: 'http', validityDays: 90, certificateAuthority: 'lets_encrypt' });
      await store.putAcmeChallenges(pack.id, [{ token: 'tz', hostname: 'www.acme.example', type: 'http-01', keyAuthorization: 'tz.y' }]);
      assert.ok(await store.deleteZone(z.id));
      assert.equal(await store.getCertificatePack(null, pack.id), null);
      assert.deepEqual((await store.loadConfig()).acmeChallenges, []);
      assert.deepEqual([...(await store.listUniversalSslOff())], []);
    }));
}
