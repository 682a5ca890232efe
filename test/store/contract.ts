// The Store contract: one suite, run against every implementation (sqlite.test.ts, postgres.test.ts).
// makeStore returns a fresh, empty, NOT yet migrated store, plus `another()` that opens a second
// instance on the same database (as another node would) and `cleanup()` that closes everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  ConflictError,
  InUseError,
  LimitError,
  NotFoundError,
  type NewCertificate,
  type NewDnsRecord,
  type Store,
} from '../../src/store/index.ts';
import { DEFAULT_EDGE_SETTINGS, type ConfigData, type InstallationPki } from '../../src/domain/index.ts';
import { ConfigIndex } from '../../src/sync/index.ts';

export interface StoreFixture {
  store: Store;
  /** A second, independent instance on the same file/database (not migrated by itself). */
  another(): Promise<Store>;
  cleanup(): Promise<void>;
}

const HEX32 = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function pkiFixture(tag = 'a'): InstallationPki {
  return {
    originPullCaPem: `ca-pem-${tag}`,
    originPullCaKeySealed: `v1:ca-key-${tag}`,
    globalCertPem: `global-pem-${tag}`,
    globalKeySealed: `v1:global-key-${tag}`,
    edgeCaPem: `edge-pem-${tag}`,
    edgeCaKeySealed: `v1:edge-key-${tag}`,
  };
}

export function certFixture(zoneId: string, kind: 'zone' | 'hostname', over: Partial<NewCertificate> = {}): NewCertificate {
  const fp = randomBytes(32).toString('hex');
  return {
    zoneId,
    kind,
    certificatePem: `-----BEGIN CERTIFICATE-----\n${fp}\n-----END CERTIFICATE-----\n`,
    privateKeySealed: `v1:${fp}`,
    issuer: 'CN=Test CA',
    serialNumber: String(BigInt('0x' + fp.slice(0, 16))),
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: fp,
    notBefore: Date.now() - 60_000,
    expiresOn: Date.now() + 86_400_000,
    ...over,
  };
}

export function recordFixture(zoneId: string, name: string, over: Partial<NewDnsRecord> = {}): NewDnsRecord {
  return {
    zoneId,
    name,
    type: 'A',
    content: '192.0.2.10',
    proxied: true,
    ttl: 1,
    originHttpPort: 80,
    originHttpsPort: 443,
    comment: null,
    ...over,
  };
}

/** Resolves with the first version a listener hears that is >= min, or rejects after ms. */
function nextChange(store: Store, min: number, ms = 3_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no change notification >= ${min} within ${ms} ms`));
    }, ms);
    const off = store.onChange((v) => {
      if (v < min) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

export function storeContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  /** A migrated store with the default account and a zone ready. */
  async function withStore(fn: (ctx: { store: Store; fixture: StoreFixture }) => Promise<void>): Promise<void> {
    const fixture = await makeStore();
    try {
      await fixture.store.migrate();
      await fn({ store: fixture.store, fixture });
    } finally {
      await fixture.cleanup();
    }
  }

  async function zone(store: Store, zoneName = 'example.com') {
    const account = await store.ensureDefaultAccount();
    return store.createZone({ accountId: account.id, name: zoneName });
  }

  test(`${name}: migrate is idempotent and two instances may migrate at once`, async () => {
    const fixture = await makeStore();
    try {
      const other = await fixture.another();
      await Promise.all([fixture.store.migrate(), other.migrate()]);
      await fixture.store.migrate();
      assert.equal(await fixture.store.currentVersion(), 0);
      assert.equal(await other.currentVersion(), 0);
      await zone(other);
      assert.equal((await fixture.store.listZones()).length, 1);
    } finally {
      await fixture.cleanup();
    }
  });

  test(`${name}: meta is set once and the first value wins`, () =>
    withStore(async ({ store }) => {
      assert.equal(await store.getMeta('k'), null);
      assert.equal(await store.initMeta('k', 'one'), 'one');
      assert.equal(await store.initMeta('k', 'two'), 'one');
      assert.equal(await store.getMeta('k'), 'one');
      assert.equal(await store.currentVersion(), 0, 'meta does not bump the config version');
    }));

  test(`${name}: pki is stored once, bumps the version, and loadConfig needs it`, () =>
    withStore(async ({ store, fixture }) => {
      assert.equal(await store.getPki(), null);
      await assert.rejects(store.loadConfig(), (err: unknown) => err instanceof NotFoundError && /not initialised/.test(err.message));
      const other = await fixture.another();
      const [a, b] = await Promise.all([store.initPki(pkiFixture('a')), other.initPki(pkiFixture('b'))]);
      assert.deepEqual(a, b, 'racing initPki calls agree on the winner');
      assert.deepEqual(await store.getPki(), a);
      assert.equal(await store.currentVersion(), 1);
      assert.deepEqual(await store.initPki(pkiFixture('c')), a);
      assert.equal(await store.currentVersion(), 1, 'a losing initPki does not bump');
    }));

  test(`${name}: the ticket key ring rotates by compare-and-set, once under races, and bumps the version`, () =>
    withStore(async ({ store, fixture }) => {
      await store.initPki(pkiFixture('a'));
      const start = await store.currentVersion();
      const fresh = await store.getPki();
      assert.equal(fresh!.ticketKeysSealed ?? null, null);
      assert.equal(fresh!.ticketKeysRotatedOn ?? null, null);
      const other = await fixture.another();
      const won = await Promise.all([store.rotateTicketKeys(null, 'v1:ring-a', 1_000), other.rotateTicketKeys(null, 'v1:ring-b', 1_001)]);
      assert.deepEqual(won.filter(Boolean).length, 1, 'racing first rotations: one wins');
      const after = (await store.getPki())!;
      assert.equal(after.ticketKeysSealed, won[0] ? 'v1:ring-a' : 'v1:ring-b');
      assert.equal(after.ticketKeysRotatedOn, won[0] ? 1_000 : 1_001);
      assert.equal(await store.currentVersion(), start + 1, 'only the winner bumps');
      assert.equal(await store.rotateTicketKeys(null, 'v1:late', 2_000), false, 'a stale expectation loses');
      assert.equal(await store.rotateTicketKeys(after.ticketKeysRotatedOn!, 'v1:ring-c', 3_000), true);
      assert.equal((await store.loadConfig()).pki.ticketKeysSealed, 'v1:ring-c', 'the snapshot source sees it');
      assert.equal((await store.loadConfigChanges(start + 1))!.pki.ticketKeysSealed, 'v1:ring-c', 'and a delta load does');
      assert.equal(await store.currentVersion(), start + 2);
    }));

  test(`${name}: the default account is created once, even under races`, () =>
    withStore(async ({ store, fixture }) => {
      const other = await fixture.another();
      const got = await Promise.all([store.ensureDefaultAccount(), other.ensureDefaultAccount(), store.ensureDefaultAccount()]);
      assert.match(got[0].id, HEX32);
      assert.ok(got.every((a) => a.id === got[0].id));
      assert.deepEqual(await store.listAccounts(), [got[0]]);
      assert.deepEqual(await store.getAccount(got[0].id), got[0]);
      assert.equal(await store.getAccount('0'.repeat(32)), null);
      assert.equal(await store.currentVersion(), 0);
    }));

  test(`${name}: zones: create, conflict, list, get, settings`, () =>
    withStore(async ({ store }) => {
      const before = Date.now();
      const z = await zone(store, 'example.com');
      assert.match(z.id, HEX32);
      assert.equal(z.name, 'example.com');
      assert.equal(z.sslMode, 'full');
      assert.equal(z.tlsClientAuth, 'off');
      assert.equal(z.aopEnabled, false);
      assert.ok(z.createdOn >= before && z.modifiedOn === z.createdOn);
      assert.equal(await store.currentVersion(), 1);

      await assert.rejects(store.createZone({ accountId: z.accountId, name: 'example.com' }), ConflictError);
      await assert.rejects(store.createZone({ accountId: 'f'.repeat(32), name: 'other.com' }), NotFoundError);
      assert.equal(await store.currentVersion(), 1, 'failed writes store nothing and bump nothing');

      const b = await store.createZone({ accountId: z.accountId, name: 'b.example' });
      assert.deepEqual((await store.listZones()).map((x) => x.name), ['b.example', 'example.com']);
      assert.deepEqual(await store.listZones({ name: 'example.com' }), [z]);
      assert.deepEqual(await store.listZones({ ids: [b.id] }), [b]);
      assert.deepEqual(await store.listZones({ ids: [] }), []);
      assert.deepEqual(await store.listZones({ ids: [z.id, b.id], name: 'b.example' }), [b]);
      assert.deepEqual(await store.getZone(z.id), z);
      assert.equal(await store.getZone('0'.repeat(32)), null);

      const v = await store.currentVersion();
      const ssl = await store.updateZoneSettings(z.id, { sslMode: 'strict' });
      assert.equal(ssl.sslMode, 'strict');
      assert.ok(ssl.sslModifiedOn >= z.sslModifiedOn);
      assert.equal(ssl.tlsClientAuthModifiedOn, z.tlsClientAuthModifiedOn, 'untouched settings keep their time');
      const all = await store.updateZoneSettings(z.id, { tlsClientAuth: 'on', aopEnabled: true });
      assert.equal(all.tlsClientAuth, 'on');
      assert.equal(all.aopEnabled, true);
      assert.equal(all.sslMode, 'strict');
      assert.equal(await store.currentVersion(), v + 2);
      assert.deepEqual(await store.updateZoneSettings(z.id, {}), all, 'an empty patch changes nothing');
      assert.equal(await store.currentVersion(), v + 2);
      await assert.rejects(store.updateZoneSettings('0'.repeat(32), { sslMode: 'off' }), NotFoundError);
      assert.deepEqual(await store.getZone(z.id), all);
    }));

  test(`${name}: zone edge settings: defaults, one setting at a time with its time, checked inside the write; origin overrides on records`, () =>
    withStore(async ({ store }) => {
      await store.initPki(pkiFixture());
      const z = await zone(store, 'example.com');
      assert.deepEqual(z.edge, DEFAULT_EDGE_SETTINGS);
      assert.deepEqual(z.edgeModifiedOn, {}, 'never-changed settings have no time');
      const v = await store.currentVersion();
      const hsts = { enabled: true, maxAge: 31_536_000, includeSubdomains: true, preload: false, nosniff: true };
      const a = await store.updateZoneSettings(z.id, { edge: { alwaysUseHttps: 'on', securityHeader: hsts } });
      assert.equal(a.edge.alwaysUseHttps, 'on');
      assert.deepEqual(a.edge.securityHeader, hsts);
      assert.equal(a.edge.minTlsVersion, DEFAULT_EDGE_SETTINGS.minTlsVersion);
      assert.deepEqual(Object.keys(a.edgeModifiedOn).sort(), ['alwaysUseHttps', 'securityHeader']);
      assert.equal(await store.currentVersion(), v + 1);
      const b = await store.updateZoneSettings(z.id, { edge: { minTlsVersion: '1.3', http2: 'off', websockets: 'off', tls13: 'zrt' } });
      assert.deepEqual(b.edge, { alwaysUseHttps: 'on', minTlsVersion: '1.3', tls13: 'zrt', http2: 'off', websockets: 'off', securityHeader: hsts });
      assert.equal(b.edgeModifiedOn.alwaysUseHttps, a.edgeModifiedOn.alwaysUseHttps, 'untouched settings keep their time');
      assert.deepEqual(await store.getZone(z.id), b);

      // What check throws rolls the write back: nothing stored, no version bumped.
      const refused = new Error('refused by the check');
      await assert.rejects(store.updateZoneSettings(z.id, { edge: { tls13: 'off' } }, (zone) => {
        if (zone.edge.tls13 === 'off' && zone.edge.minTlsVersion === '1.3') throw refused;
      }), refused);
      assert.deepEqual(await store.getZone(z.id), b);
      assert.equal(await store.currentVersion(), v + 2);
      const loaded = (await store.loadConfig()).zones.find((x) => x.id === z.id);
      assert.deepEqual(loaded, b, 'loadConfig carries the settings to edges');

      const r = await store.createDnsRecord(recordFixture(z.id, 'app.example.com', { originSni: 'origin.example.net', originHostHeader: 'origin.example.net:8443' }));
      assert.equal(r.originSni, 'origin.example.net');
      assert.equal(r.originHostHeader, 'origin.example.net:8443');
      const plain = await store.createDnsRecord(recordFixture(z.id, 'www.example.com'));
      assert.equal(plain.originSni, null);
      assert.equal(plain.originHostHeader, null);
      const cleared = await store.updateDnsRecord(z.id, r.id, { originSni: null });
      assert.equal(cleared.originSni, null);
      assert.equal(cleared.originHostHeader, 'origin.example.net:8443', 'a patch changes only what it names');
      assert.deepEqual((await store.loadConfig()).records.find((x) => x.id === r.id), cleared);
    }));

  test(`${name}: DNS records: create, unique names across zones, filter, update, delete`, () =>
    withStore(async ({ store }) => {
      const z = await zone(store, 'example.com');
      const other = await zone(store, 'other.net');
      const v0 = await store.currentVersion();
      const www = await store.createDnsRecord(recordFixture(z.id, 'www.example.com', { comment: 'hi' }));
      assert.match(www.id, HEX32);
      assert.equal(www.proxied, true);
      assert.equal(www.comment, 'hi');
      assert.equal(www.originHttpsPort, 443);
      assert.equal(await store.currentVersion(), v0 + 1);
      const wild = await store.createDnsRecord(
        recordFixture(z.id, '*.example.com', { type: 'CNAME', content: 'origin.internal', originHttpsPort: 8443 }),
      );
      await assert.rejects(store.createDnsRecord(recordFixture(z.id, 'www.example.com')), ConflictError);
      await assert.rejects(store.createDnsRecord(recordFixture(other.id, 'www.example.com')), ConflictError, 'unique across zones');
      await assert.rejects(store.createDnsRecord(recordFixture('0'.repeat(32), 'x.example.com')), NotFoundError);
      assert.equal(await store.currentVersion(), v0 + 2);

      assert.deepEqual(await store.listDnsRecords(z.id), [wild, www]);
      assert.deepEqual(await store.listDnsRecords(z.id, { name: 'www.example.com' }), [www]);
      assert.deepEqual(await store.listDnsRecords(z.id, { type: 'CNAME' }), [wild]);
      assert.deepEqual(await store.listDnsRecords(other.id), []);
      assert.deepEqual(await store.getDnsRecord(z.id, www.id), www);
      assert.equal(await store.getDnsRecord(other.id, www.id), null, 'a record is only found in its zone');

      const moved = await store.updateDnsRecord(z.id, www.id, { content: '192.0.2.20', proxied: false, comment: null });
      assert.equal(moved.content, '192.0.2.20');
      assert.equal(moved.proxied, false);
      assert.equal(moved.comment, null);
      assert.equal(moved.name, 'www.example.com');
      assert.equal(moved.createdOn, www.createdOn);
      assert.ok(moved.modifiedOn >= www.modifiedOn);
      assert.equal(await store.currentVersion(), v0 + 3);
      await assert.rejects(store.updateDnsRecord(z.id, www.id, { name: '*.example.com' }), ConflictError);
      await assert.rejects(store.updateDnsRecord(other.id, www.id, { ttl: 300 }), NotFoundError);
      const same = await store.updateDnsRecord(z.id, www.id, { name: 'www.example.com', ttl: 300 });
      assert.equal(same.ttl, 300, 'keeping its own name is no conflict');
      assert.equal(await store.currentVersion(), v0 + 4);

      assert.deepEqual(await store.deleteDnsRecord(z.id, wild.id), wild);
      assert.equal(await store.deleteDnsRecord(z.id, wild.id), null);
      assert.equal(await store.currentVersion(), v0 + 5);
      await store.createDnsRecord(recordFixture(other.id, '*.example.com'));
    }));

  test(`${name}: certificates: insert stamps the version, lists newest first, duplicates and limits`, () =>
    withStore(async ({ store }) => {
      const z = await zone(store);
      const v0 = await store.currentVersion();
      const input = certFixture(z.id, 'zone');
      const c1 = await store.insertCertificate(input);
      assert.match(c1.id, UUID);
      assert.equal(c1.deployVersion, v0 + 1);
      assert.equal(c1.deleteVersion, null);
      assert.equal(c1.deleteRequestedOn, null);
      assert.equal(c1.privateKeySealed, input.privateKeySealed);
      assert.equal(c1.fingerprintSha256, input.fingerprintSha256);
      assert.equal(c1.expiresOn, input.expiresOn);
      assert.equal(await store.currentVersion(), v0 + 1);

      await assert.rejects(store.insertCertificate({ ...input }), ConflictError, 'same leaf twice in a zone');
      const asHostname = await store.insertCertificate({ ...input, kind: 'hostname' });
      assert.equal(asHostname.kind, 'hostname', 'zone and hostname collections are separate');
      await assert.rejects(store.insertCertificate(certFixture('0'.repeat(32), 'zone')), NotFoundError);

      const c2 = await store.insertCertificate(certFixture(z.id, 'zone'));
      assert.ok(c2.deployVersion > c1.deployVersion);
      assert.deepEqual((await store.listCertificates(z.id, 'zone')).map((c) => c.id), [c2.id, c1.id]);
      assert.deepEqual(await store.getCertificate(z.id, 'zone', c1.id), c1);
      assert.equal(await store.getCertificate(z.id, 'hostname', c1.id), null, 'kind must match');

      for (let i = 1; i < 3; i++) await store.insertCertificate(certFixture(z.id, 'hostname'), { maxPerZone: 3 });
      const v1 = await store.currentVersion();
      await assert.rejects(store.insertCertificate(certFixture(z.id, 'hostname'), { maxPerZone: 3 }), LimitError);
      assert.equal(await store.currentVersion(), v1);
      assert.equal((await store.listCertificates(z.id, 'hostname')).length, 3);

      // Deleted certificates free their slot and their fingerprint.
      await store.requestCertificateDeletion(z.id, 'hostname', asHostname.id);
      const again = await store.insertCertificate({ ...input, kind: 'hostname' }, { maxPerZone: 3 });
      assert.notEqual(again.id, asHostname.id);
      assert.equal((await store.listCertificates(z.id, 'hostname')).length, 4);
      assert.equal((await store.listCertificates(z.id, 'hostname', { includeDeleted: false })).length, 3);
    }));

  test(`${name}: certificate deletion: stamps, is idempotent, refuses while enabled associations exist`, () =>
    withStore(async ({ store }) => {
      const z = await zone(store);
      const zc = await store.insertCertificate(certFixture(z.id, 'zone'));
      const v0 = await store.currentVersion();
      const del = await store.requestCertificateDeletion(z.id, 'zone', zc.id);
      assert.ok(del);
      assert.equal(del.deleteVersion, v0 + 1);
      assert.ok(del.deleteRequestedOn! > 0);
      assert.deepEqual(await store.requestCertificateDeletion(z.id, 'zone', zc.id), del, 'unchanged the second time');
      assert.equal(await store.currentVersion(), v0 + 1);
      assert.equal(await store.requestCertificateDeletion(z.id, 'zone', randomUUIDLike()), null);
      assert.equal(await store.requestCertificateDeletion(z.id, 'hostname', zc.id), null, 'kind must match');

      const hc = await store.insertCertificate(certFixture(z.id, 'hostname'));
      await store.applyAssociations(
        z.id,
        [
          { hostname: 'a.example.com', certId: hc.id, enabled: true },
          { hostname: 'c.example.com', certId: hc.id, enabled: true },
          { hostname: 'b.example.com', certId: hc.id, enabled: false },
        ],
        { maxPerCertificate: 100 },
      );
      const v1 = await store.currentVersion();
      await assert.rejects(store.requestCertificateDeletion(z.id, 'hostname', hc.id), (err: unknown) => {
        assert.ok(err instanceof InUseError);
        assert.deepEqual(err.hostnames, ['a.example.com', 'c.example.com']);
        return true;
      });
      assert.equal(await store.currentVersion(), v1);
      assert.equal((await store.listAssociations(z.id)).length, 3, 'a refused deletion changes nothing');

      await store.applyAssociations(
        z.id,
        [
          { hostname: 'a.example.com', certId: hc.id, enabled: false },
          { hostname: 'c.example.com', certId: hc.id, enabled: null },
        ],
        { maxPerCertificate: 100 },
      );
      const gone = await store.requestCertificateDeletion(z.id, 'hostname', hc.id);
      assert.equal(gone!.deleteVersion, await store.currentVersion());
      assert.deepEqual(await store.listAssociations(z.id), [], 'disabled associations go with the certificate');
    }));

  test(`${name}: purgeDeletedCertificates removes only what every edge applied`, () =>
    withStore(async ({ store }) => {
      const z = await zone(store);
      const a = await store.insertCertificate(certFixture(z.id, 'zone'));
      const b = await store.insertCertificate(certFixture(z.id, 'zone'));
      const c = await store.insertCertificate(certFixture(z.id, 'zone'));
      const da = await store.requestCertificateDeletion(z.id, 'zone', a.id);
      const db = await store.requestCertificateDeletion(z.id, 'zone', b.id);
      const v = await store.currentVersion();
      assert.equal(await store.purgeDeletedCertificates(da!.deleteVersion!), 1);
      assert.equal(await store.currentVersion(), v, 'purging changes nothing edges serve');
      assert.deepEqual((await store.listCertificates(z.id, 'zone')).map((x) => x.id), [c.id, b.id]);
      assert.equal(await store.purgeDeletedCertificates(db!.deleteVersion! - 1), 0);
      assert.equal(await store.purgeDeletedCertificates(v), 1);
      assert.deepEqual((await store.listCertificates(z.id, 'zone')).map((x) => x.id), [c.id]);
    }));

  test(`${name}: associations: upsert, disable, remove, stamped versions`, () =>
    withStore(async ({ store }) => {
      const z = await zone(store);
      const h1 = await store.insertCertificate(certFixture(z.id, 'hostname'));
      const h2 = await store.insertCertificate(certFixture(z.id, 'hostname'));
      const v0 = await store.currentVersion();
      const [a, b] = await store.applyAssociations(
        z.id,
        [
          { hostname: 'app.example.com', certId: h1.id, enabled: true },
          { hostname: 'api.example.com', certId: h1.id, enabled: false },
        ],
        { maxPerCertificate: 100 },
      );
      assert.equal(await store.currentVersion(), v0 + 1, 'one batch, one version');
      assert.deepEqual(
        { ...a!, createdAt: 0, updatedAt: 0 },
        { zoneId: z.id, hostname: 'app.example.com', certId: h1.id, enabled: true, createdAt: 0, updatedAt: 0, version: v0 + 1 },
      );
      assert.equal(b!.enabled, false);
      assert.deepEqual(await store.getAssociation(z.id, 'app.example.com'), a);
      assert.deepEqual(await store.listAssociations(z.id), [b, a]);

      const [moved, removed, none] = await store.applyAssociations(
        z.id,
        [
          { hostname: 'app.example.com', certId: h2.id, enabled: true },
          { hostname: 'api.example.com', certId: h1.id, enabled: null },
          { hostname: 'nope.example.com', certId: h1.id, enabled: null },
        ],
        { maxPerCertificate: 100 },
      );
      assert.equal(moved!.certId, h2.id);
      assert.equal(moved!.createdAt, a!.createdAt, 'an update keeps its creation time');
      assert.equal(moved!.version, v0 + 2);
      assert.deepEqual(removed, b, 'a removal returns the association as it was');
      assert.equal(none, null);
      assert.equal(await store.getAssociation(z.id, 'api.example.com'), null);

      const v1 = await store.currentVersion();
      assert.deepEqual(
        await store.applyAssociations(z.id, [{ hostname: 'nope.example.com', certId: h1.id, enabled: null }], {
          maxPerCertificate: 100,
        }),
        [null],
      );
      assert.equal(await store.currentVersion(), v1, 'a batch that changes nothing bumps nothing');
      const other = await zone(store, 'other.net');
      assert.deepEqual(await store.listAssociations(other.id), []);
      assert.equal(await store.getAssociation(other.id, 'app.example.com'), null);
    }));

  test(`${name}: associations: unknown, foreign, zone-kind or deleted certificates and limits fail atomically`, () =>
    withStore(async ({ store }) => {
      const z = await zone(store);
      const other = await zone(store, 'other.net');
      const h = await store.insertCertificate(certFixture(z.id, 'hostname'));
      const zc = await store.insertCertificate(certFixture(z.id, 'zone'));
      const foreign = await store.insertCertificate(certFixture(other.id, 'hostname'));
      const deleted = await store.insertCertificate(certFixture(z.id, 'hostname'));
      await store.requestCertificateDeletion(z.id, 'hostname', deleted.id);
      const limits = { maxPerCertificate: 2 };
      const v0 = await store.currentVersion();
      for (const bad of [randomUUIDLike(), zc.id, foreign.id, deleted.id]) {
        await assert.rejects(
          store.applyAssociations(
            z.id,
            [
              { hostname: 'ok.example.com', certId: h.id, enabled: true },
              { hostname: 'bad.example.com', certId: bad, enabled: true },
            ],
            limits,
          ),
          NotFoundError,
        );
      }
      await assert.rejects(
        store.applyAssociations(
          z.id,
          ['a', 'b', 'c'].map((x) => ({ hostname: `${x}.example.com`, certId: h.id, enabled: true })),
          limits,
        ),
        LimitError,
      );
      assert.equal(await store.currentVersion(), v0);
      assert.deepEqual(await store.listAssociations(z.id), [], 'nothing of a failed batch is stored');

      // Judged on the batch's result: moving one hostname away makes room for another.
      await store.applyAssociations(
        z.id,
        ['a', 'b'].map((x) => ({ hostname: `${x}.example.com`, certId: h.id, enabled: true })),
        limits,
      );
      const h2 = await store.insertCertificate(certFixture(z.id, 'hostname'));
      await store.applyAssociations(
        z.id,
        [
          { hostname: 'c.example.com', certId: h.id, enabled: false },
          { hostname: 'a.example.com', certId: h2.id, enabled: true },
        ],
        limits,
      );
      assert.equal((await store.listAssociations(z.id)).filter((x) => x.certId === h.id).length, 2);
    }));

  test(`${name}: API tokens do not bump the config version`, () =>
    withStore(async ({ store }) => {
      const t = await store.createToken({ name: 'admin', secretHash: 'a'.repeat(64), zoneIds: null, permission: 'edit', admin: true });
      assert.match(t.id, HEX32);
      assert.deepEqual(
        { ...t, createdOn: 0 },
        { id: t.id, name: 'admin', secretHash: 'a'.repeat(64), zoneIds: null, permission: 'edit', admin: true, createdOn: 0 },
      );
      const scoped = await store.createToken({
        name: 'ro',
        secretHash: 'b'.repeat(64),
        zoneIds: ['z1', 'z2'],
        permission: 'read',
        admin: false,
      });
      assert.deepEqual(scoped.zoneIds, ['z1', 'z2']);
      assert.equal(scoped.admin, false);
      assert.deepEqual(await store.findTokenBySecretHash('b'.repeat(64)), scoped);
      assert.equal(await store.findTokenBySecretHash('c'.repeat(64)), null);
      assert.deepEqual(
        (await store.listTokens()).map((x) => x.id).sort(),
        [t.id, scoped.id].sort(),
      );
      assert.equal(await store.deleteToken(t.id), true);
      assert.equal(await store.deleteToken(t.id), false);
      assert.deepEqual(await store.listTokens(), [scoped]);
      assert.equal(await store.currentVersion(), 0);
    }));

  test(`${name}: edges report, refresh and are forgotten`, () =>
    withStore(async ({ store }) => {
      const started = Date.now() - 1000;
      await store.reportEdge({ id: 'e1', name: 'edge-1', startedAt: started, appliedVersion: 3 });
      await store.reportEdge({ id: 'e2', name: 'edge-2', startedAt: started, appliedVersion: 1 });
      await store.reportEdge({ id: 'e1', name: 'edge-1', startedAt: started, appliedVersion: 5 });
      const edges = await store.listEdges();
      assert.deepEqual(
        edges.map((e) => [e.id, e.appliedVersion]),
        [
          ['e1', 5],
          ['e2', 1],
        ],
      );
      assert.equal(edges[0].startedAt, started);
      assert.ok(edges[0].lastHeartbeat >= started + 1000);
      assert.equal(await store.forgetEdges(60_000), 0);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await store.forgetEdges(5), 2);
      assert.deepEqual(await store.listEdges(), []);
      assert.equal(await store.currentVersion(), 0);
    }));

  test(`${name}: the deployed mark only rises, also under concurrent raises`, () =>
    withStore(async ({ store }) => {
      assert.equal(await store.raiseDeployedMark(0), 0);
      assert.equal(await store.raiseDeployedMark(4), 4);
      assert.equal(await store.raiseDeployedMark(2), 4, 'a lower candidate leaves it');
      const raced = await Promise.all([9, 7, 8, 3].map((v) => store.raiseDeployedMark(v)));
      assert.ok(raced.every((v) => v >= 4));
      assert.equal(await store.raiseDeployedMark(0), 9);
      assert.equal(await store.currentVersion(), 0, 'not a config change');
    }));

  test(`${name}: loadConfig returns everything edges need`, () =>
    withStore(async ({ store }) => {
      const pki = await store.initPki(pkiFixture());
      const z = await zone(store);
      const rec = await store.createDnsRecord(recordFixture(z.id, 'www.example.com'));
      const zc = await store.insertCertificate(certFixture(z.id, 'zone'));
      const hc = await store.insertCertificate(certFixture(z.id, 'hostname'));
      const dead = await store.insertCertificate(certFixture(z.id, 'zone'));
      await store.requestCertificateDeletion(z.id, 'zone', dead.id);
      const [assoc] = await store.applyAssociations(z.id, [{ hostname: 'www.example.com', certId: hc.id, enabled: true }], {
        maxPerCertificate: 100,
      });
      const cfg = await store.loadConfig();
      assert.equal(cfg.version, await store.currentVersion());
      assert.deepEqual(cfg.pki, pki);
      assert.deepEqual(cfg.zones, [await store.getZone(z.id)]);
      assert.deepEqual(cfg.records, [rec]);
      assert.deepEqual(
        cfg.certificates.map((c) => c.id).sort(),
        [zc.id, hc.id].sort(),
        'certificates pending deletion are left out',
      );
      assert.deepEqual(cfg.certificates.find((c) => c.id === zc.id), zc);
      assert.deepEqual(cfg.associations, [assoc]);
    }));

  test(`${name}: loadConfig is one consistent read while another instance writes`, () =>
    withStore(async ({ store, fixture }) => {
      await store.initPki(pkiFixture());
      const z = await zone(store);
      const writer = await fixture.another();
      const base = await store.loadConfig();
      let writing = true;
      const writes = (async () => {
        for (let i = 0; i < 40; i++) await writer.createDnsRecord(recordFixture(z.id, `h${i}.example.com`));
        writing = false;
      })();
      let loads = 0;
      // Each write adds exactly one record and one version: a torn read would break the pairing.
      while (writing || loads < 3) {
        const cfg = await store.loadConfig();
        assert.equal(cfg.records.length - base.records.length, cfg.version - base.version);
        loads++;
      }
      await writes;
      assert.equal((await store.loadConfig()).records.length, 40);
    }));

  test(`${name}: onChange hears writes of this and of another instance, in order`, () =>
    withStore(async ({ store, fixture }) => {
      const other = await fixture.another();
      const z = await zone(store);
      const heard: number[] = [];
      const off = store.onChange((v) => heard.push(v));
      const v1 = await store.currentVersion();

      await store.createDnsRecord(recordFixture(z.id, 'a.example.com'));
      assert.deepEqual(heard, [v1 + 1], 'own writes are announced right after commit');

      const remote = nextChange(store, v1 + 2);
      await other.createDnsRecord(recordFixture(z.id, 'b.example.com'));
      assert.equal(await remote, v1 + 2);

      // Several remote writes may coalesce, but never go backwards.
      const last = nextChange(store, v1 + 5);
      for (const n of ['c', 'd', 'e']) await other.createDnsRecord(recordFixture(z.id, `${n}.example.com`));
      assert.equal(await last, v1 + 5);
      for (let i = 1; i < heard.length; i++) assert.ok(heard[i] > heard[i - 1], `increasing: ${heard.join(',')}`);

      // Non-config writes are not changes; after unsubscribing nothing more arrives.
      await other.reportEdge({ id: 'e', name: 'e', startedAt: 0, appliedVersion: 0 });
      off();
      const count = heard.length;
      await other.createDnsRecord(recordFixture(z.id, 'f.example.com'));
      await store.createDnsRecord(recordFixture(z.id, 'g.example.com'));
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(heard.length, count);
    }));

  test(`${name}: concurrent writers on two instances: no lost update, strictly increasing versions, no duplicate`, () =>
    withStore(async ({ store, fixture }) => {
      const other = await fixture.another();
      const z = await zone(store);
      const v0 = await store.currentVersion();
      const n = 12;
      const inserts = [];
      for (let i = 0; i < n; i++) {
        const s = i % 2 === 0 ? store : other;
        inserts.push(s.insertCertificate(certFixture(z.id, 'zone')));
        inserts.push(s.createDnsRecord(recordFixture(z.id, `c${i}.example.com`)));
      }
      const results = await Promise.all(inserts);
      const certVersions = results.filter((r) => 'deployVersion' in r).map((r) => (r as { deployVersion: number }).deployVersion);
      assert.equal(new Set(certVersions).size, n, 'every write got its own version');
      assert.equal(await store.currentVersion(), v0 + 2 * n, 'no lost update');
      assert.equal((await store.listDnsRecords(z.id)).length, n);

      // The same leaf uploaded through both instances at once: exactly one wins.
      const dup = certFixture(z.id, 'hostname');
      const race = await Promise.allSettled([
        store.insertCertificate(dup),
        other.insertCertificate({ ...dup }),
        store.insertCertificate({ ...dup }),
        other.insertCertificate({ ...dup }),
      ]);
      assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of race) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError, String(r.reason));
      assert.equal((await store.listCertificates(z.id, 'hostname')).length, 1);

      // Limits hold under races too.
      const limited = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? store : other).insertCertificate(certFixture(z.id, 'hostname'), { maxPerZone: 3 })),
      );
      assert.equal(limited.filter((r) => r.status === 'fulfilled').length, 2);
      assert.equal((await store.listCertificates(z.id, 'hostname')).length, 3);

      const zonesRace = await Promise.allSettled([
        store.createZone({ accountId: z.accountId, name: 'race.example' }),
        other.createZone({ accountId: z.accountId, name: 'race.example' }),
      ]);
      assert.equal(zonesRace.filter((r) => r.status === 'fulfilled').length, 1);
    }));

  test(`${name}: loadConfigChanges: after every kind of write, the earlier load plus the changes is the later load`, () =>
    withStore(async ({ store }) => {
      await store.initPki(pkiFixture());
      const a = await zone(store, 'a.example');
      const quiet = await zone(store, 'quiet.example');
      await store.createDnsRecord(recordFixture(quiet.id, 'www.quiet.example'));
      const index = ConfigIndex.of(await store.loadConfig());
      let b: Awaited<ReturnType<typeof zone>> | undefined;
      let rec: Awaited<ReturnType<Store['createDnsRecord']>> | undefined;
      let hc: Awaited<ReturnType<Store['insertCertificate']>> | undefined;
      let zc: Awaited<ReturnType<Store['insertCertificate']>> | undefined;
      const writes: [string, () => Promise<unknown>][] = [
        ['record created', async () => (rec = await store.createDnsRecord(recordFixture(a.id, 'www.a.example')))],
        ['record updated', () => store.updateDnsRecord(a.id, rec!.id, { content: '192.0.2.99' })],
        ['settings', () => store.updateZoneSettings(a.id, { sslMode: 'strict', aopEnabled: true })],
        ['zone certificate', async () => (zc = await store.insertCertificate(certFixture(a.id, 'zone')))],
        ['hostname certificate', async () => (hc = await store.insertCertificate(certFixture(a.id, 'hostname')))],
        ['association', () => store.applyAssociations(a.id, [{ hostname: 'www.a.example', certId: hc!.id, enabled: true }], { maxPerCertificate: 9 })],
        ['association removed', () => store.applyAssociations(a.id, [{ hostname: 'www.a.example', certId: hc!.id, enabled: null }], { maxPerCertificate: 9 })],
        ['certificate deletion', () => store.requestCertificateDeletion(a.id, 'zone', zc!.id)],
        ['zone created', async () => (b = await zone(store, 'b.example'))],
        ['record in the new zone', () => store.createDnsRecord(recordFixture(b!.id, '*.b.example'))],
        ['record deleted', () => store.deleteDnsRecord(a.id, rec!.id)],
        ['zone deleted', () => store.deleteZone(b!.id)],
      ];
      for (const [what, write] of writes) {
        await write();
        const changes = await store.loadConfigChanges(index.version);
        assert.ok(changes, what);
        assert.equal(changes.since, index.version);
        assert.equal(changes.version, await store.currentVersion(), what);
        assert.equal(changes.version, index.version + 1, `${what}: one write, one version`);
        assert.ok(!changes.zones.some((z) => z.id === quiet.id), `${what}: a zone nobody touched is not in the changes`);
        assert.equal(changes.zones.length + changes.removedZoneIds.length, 1, `${what}: exactly the zone written to`);
        index.apply(changes);
        assert.deepEqual(sorted(index.toData()), sorted(await store.loadConfig()), what);
      }
      const none = await store.loadConfigChanges(index.version);
      assert.deepEqual([none!.zones, none!.records, none!.removedZoneIds], [[], [], []]);
      assert.equal(await store.loadConfigChanges(index.version + 1), null, 'a store behind the caller cannot tell what changed');
    }));

  test(`${name}: deleting a zone cascades to records, certificates and associations`, () =>
    withStore(async ({ store }) => {
      await store.initPki(pkiFixture());
      const z = await zone(store);
      const keep = await zone(store, 'keep.example');
      const rec = await store.createDnsRecord(recordFixture(z.id, 'www.example.com'));
      const kept = await store.createDnsRecord(recordFixture(keep.id, 'www.keep.example'));
      const zc = await store.insertCertificate(certFixture(z.id, 'zone'));
      const hc = await store.insertCertificate(certFixture(z.id, 'hostname'));
      await store.applyAssociations(z.id, [{ hostname: 'www.example.com', certId: hc.id, enabled: true }], { maxPerCertificate: 100 });
      const v = await store.currentVersion();

      assert.equal(await store.deleteZone(z.id), true);
      assert.equal(await store.currentVersion(), v + 1);
      assert.equal(await store.deleteZone(z.id), false);
      assert.equal(await store.currentVersion(), v + 1);
      assert.equal(await store.getZone(z.id), null);
      assert.equal(await store.getDnsRecord(z.id, rec.id), null);
      assert.equal(await store.getCertificate(z.id, 'zone', zc.id), null);
      assert.deepEqual(await store.listAssociations(z.id), []);
      const cfg = await store.loadConfig();
      assert.deepEqual(cfg.zones.map((x) => x.id), [keep.id]);
      assert.deepEqual(cfg.records, [kept]);
      assert.deepEqual(cfg.certificates, []);
      assert.deepEqual(cfg.associations, []);
      // The name and the hostname are free again.
      const again = await zone(store, 'example.com');
      await store.createDnsRecord(recordFixture(again.id, 'www.example.com'));
    }));

  test(`${name}: close stops the change feed and is idempotent`, async () => {
    const fixture = await makeStore();
    try {
      await fixture.store.migrate();
      const off = fixture.store.onChange(() => {});
      await fixture.store.close();
      off();
      await fixture.store.close();
      await assert.rejects(fixture.store.currentVersion());
    } finally {
      await fixture.cleanup();
    }
  });
}

function randomUUIDLike(): string {
  return '00000000-0000-4000-8000-000000000000';
}

/** ConfigData with every list in id order, to compare loads that may list rows differently. */
function sorted(data: ConfigData): ConfigData {
  const byKey = <T>(key: (x: T) => string) => (x: T, y: T) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0);
  return {
    ...data,
    zones: [...data.zones].sort(byKey((z) => z.id)),
    records: [...data.records].sort(byKey((r) => r.id)),
    certificates: [...data.certificates].sort(byKey((c) => c.id)),
    associations: [...data.associations].sort(byKey((a) => a.zoneId + ' ' + a.hostname)),
  };
}
