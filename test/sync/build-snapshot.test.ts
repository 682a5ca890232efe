// ConfigData → Snapshot: routes, AOP picks, pool keys and identities, cached across builds.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, ConfigIndex, SnapshotBuildCache, SnapshotBuilder } from '../../src/sync/index.ts';
import { findRoute, type Route, type Snapshot } from '../../src/edge/index.ts';
import type { ConfigChanges, ConfigData } from '../../src/domain/index.ts';
import { ConfigBuilder, clientCert, fingerprintOf, newCa, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import type { PemPair } from '../../src/pki/index.ts';

let inst: TestInstallation;
let leafA: PemPair;
let leafB: PemPair;

before(async () => {
  inst = await newInstallation();
  const ca = await newCa('c');
  [leafA, leafB] = await Promise.all([clientCert(ca, 'a'), clientCert(ca, 'b')]);
});

test('routes: exact and wildcard, origins per SSL mode; a DNS-only record is a marker that wins over the wildcard', () => {
  const b = new ConfigBuilder(inst);
  const full = b.zone('full.test');
  const flex = b.zone('flex.test', { sslMode: 'flexible' });
  b.record(full, 'www.full.test', { host: '192.0.2.1', httpsPort: 8443, httpPort: 8080 });
  b.record(full, 'grey.full.test', { host: '192.0.2.2' }, { proxied: false });
  b.record(full, '*.full.test', { host: '2001:db8::1', httpsPort: 443 });
  b.record(flex, 'www.flex.test', { host: '192.0.2.3', httpsPort: 8443, httpPort: 8080 });
  const s = buildSnapshot(b.build(), inst.secretBox);
  assert.equal(s.exact.size, 3);
  assert.equal(s.wildcards.size, 1);
  const grey = s.exact.get('grey.full.test')!;
  assert.deepEqual([grey.proxied, grey.identity, s.peerKeys.has(grey.peerKey)], [false, null, false]);
  const www = s.exact.get('www.full.test')!;
  assert.deepEqual([www.origin.url, www.servername, www.aop.level, www.sslMode], ['https://192.0.2.1:8443', 'www.full.test', 'none', 'full']);
  const wild = findRoute(s, 'x.full.test')!;
  assert.equal(wild.origin.url, 'https://[2001:db8::1]:443');
  assert.equal(wild.servername, null);
  assert.equal(s.exact.get('www.flex.test')!.origin.url, 'http://192.0.2.3:8080');
  assert.equal(findRoute(s, 'grey.full.test'), grey, 'the DNS-only record is more specific than the wildcard');
  assert.equal(findRoute(s, 'elsewhere.test'), undefined);
  assert.ok(Object.isFrozen(s) && Object.isFrozen(www));
});

test('AOP picks and identities; peer keys differ by certificate', () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('aop.test', { aopEnabled: true, tlsClientAuth: 'on' });
  b.cert(z, 'zone', leafA);
  const hc = b.cert(z, 'hostname', leafB);
  b.record(z, 'a.aop.test', { httpsPort: 443 });
  b.record(z, 'b.aop.test', { httpsPort: 443 });
  b.record(z, 'c.aop.test', { httpsPort: 443 });
  b.record(z, 'd.aop.test', { httpsPort: 443 });
  b.associate(z, 'b.aop.test', hc, true);
  b.associate(z, 'c.aop.test', hc, false);
  const s = buildSnapshot(b.build(), inst.secretBox);
  const [a, bb, c, d] = ['a', 'b', 'c', 'd'].map((h) => s.exact.get(`${h}.aop.test`)!);
  assert.equal(d.aop, a.aop, 'routes with the same pick share one AopPick (memory at 100,000 routes)');
  assert.equal(d.peerKey, `https://127.0.0.1:443|d.aop.test|full|${fingerprintOf(leafA.certPem)}`);
  assert.deepEqual([a.aop.level, a.aop.fingerprint], ['zone', fingerprintOf(leafA.certPem)]);
  assert.deepEqual([bb.aop.level, bb.aop.fingerprint, bb.identity!.kind], ['hostname', fingerprintOf(leafB.certPem), 'hostname']);
  assert.deepEqual([c.aop.level, c.aop.reason, c.aop.certId, c.aop.fingerprint], ['global', 'hostname_association_disabled', 'global', fingerprintOf(inst.global.certPem)]);
  assert.equal(new Set([a.peerKey, bb.peerKey, c.peerKey, d.peerKey]).size, 4);
  assert.equal(s.identities.size, 3);
  assert.ok(s.peerKeys.has(a.peerKey));
  assert.equal(s.edgeCa!.fingerprint, fingerprintOf(inst.edgeCa.certPem));
  // The private key never shows up in the serialized snapshot.
  assert.doesNotMatch(JSON.stringify([...s.exact.values()]), /PRIVATE KEY/);
});

test('identities are cached across builds by certificate id + fingerprint, and dropped when unused', () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('cache.test', { aopEnabled: true });
  const first = b.cert(z, 'zone', leafA);
  b.record(z, 'www.cache.test', { httpsPort: 443 });
  const cache = new SnapshotBuildCache();
  const s1 = buildSnapshot(b.build(), inst.secretBox, { cache });
  b.record(z, 'other.cache.test', { httpsPort: 443 });
  const s2 = buildSnapshot(b.build(), inst.secretBox, { cache });
  assert.equal(s2.exact.get('www.cache.test')!.identity, s1.exact.get('www.cache.test')!.identity);
  b.cert(z, 'zone', leafB);
  b.deleteCert(first);
  const s3 = buildSnapshot(b.build(), inst.secretBox, { cache });
  assert.equal(s3.exact.get('www.cache.test')!.aop.fingerprint, fingerprintOf(leafB.certPem));
  assert.equal(cache.size, 1);
});

test('a key that does not open is reported, and the route presents nothing instead of a wrong key', () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('bad.test', { aopEnabled: true });
  const cert = b.cert(z, 'zone', leafA);
  cert.privateKeySealed = 'v1:' + Buffer.alloc(40).toString('base64');
  b.record(z, 'www.bad.test', { httpsPort: 443 });
  const s = buildSnapshot(b.build(), inst.secretBox);
  const route = s.exact.get('www.bad.test')!;
  assert.equal(route.identity, null);
  assert.equal(route.aop.level, 'zone');
  assert.match(s.problems[0], new RegExp(`certificate ${cert.id} unusable`));
});

// ── incremental builds ──────────────────────────────────────────────────────

/** The changes a store would report between two loads: every zone whose rows differ, whole. */
function changesBetween(before: ConfigData, after: ConfigData): ConfigChanges {
  const group = (data: ConfigData, zoneId: string) =>
    JSON.stringify([
      data.zones.find((z) => z.id === zoneId),
      data.records.filter((r) => r.zoneId === zoneId),
      data.certificates.filter((c) => c.zoneId === zoneId),
      data.associations.filter((a) => a.zoneId === zoneId),
      data.edgeCertificates.filter((e) => e.zoneId === zoneId),
    ]);
  const changed = new Set(after.zones.filter((z) => group(before, z.id) !== group(after, z.id)).map((z) => z.id));
  return {
    since: before.version,
    version: after.version,
    pki: after.pki,
    zones: after.zones.filter((z) => changed.has(z.id)),
    records: after.records.filter((r) => changed.has(r.zoneId)),
    certificates: after.certificates.filter((c) => changed.has(c.zoneId)),
    associations: after.associations.filter((a) => changed.has(a.zoneId)),
    edgeCertificates: after.edgeCertificates.filter((e) => changed.has(e.zoneId)),
    removedZoneIds: before.zones.filter((z) => !after.zones.some((y) => y.id === z.id)).map((z) => z.id),
  };
}

/** Everything a snapshot serves, as plain data (object identity aside). */
function served(s: Snapshot) {
  const route = (r: Route) => [r.name, r.zoneId, r.recordId, r.sslMode, r.origin.url, r.servername, { ...r.aop }, r.identity?.fingerprint ?? null, r.peerKey];
  const byName = (m: ReadonlyMap<string, Route>) => [...m.values()].map(route).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
  return {
    version: s.version,
    exact: byName(s.exact),
    associated: byName(s.associated),
    wildcards: byName(s.wildcards),
    peerKeys: [...s.peerKeys].sort(),
    identities: [...s.identities].map((i) => i.fingerprint).sort(),
    edgeCa: s.edgeCa?.fingerprint,
    problems: [...s.problems].sort(),
  };
}

test('an incremental build serves exactly what a full build serves, and reuses the routes of untouched zones', async () => {
  const ca = await newCa('inc');
  const [zoneLeaf, hostLeaf, newGlobal] = await Promise.all([clientCert(ca, 'z'), clientCert(ca, 'h'), clientCert(ca, 'g')]);
  const b = new ConfigBuilder(inst);
  const a = b.zone('a.test', { aopEnabled: true, sslMode: 'strict' });
  b.cert(a, 'zone', zoneLeaf);
  b.record(a, 'www.a.test', { httpsPort: 8443 });
  const parent = b.zone('b.test', { tlsClientAuth: 'on' });
  const hostCert = b.cert(parent, 'hostname', hostLeaf);
  b.record(parent, '*.b.test', { host: '192.0.2.7' });
  b.associate(parent, 'x.sub.b.test', hostCert, true);
  b.associate(parent, 'y.b.test', hostCert, true);
  const sub = b.zone('sub.b.test');
  b.record(sub, '*.sub.b.test', { host: '192.0.2.8' });
  const untouched = b.zone('untouched.test', { sslMode: 'flexible' });
  b.record(untouched, 'www.untouched.test', { httpPort: 8080 });

  const builder = new SnapshotBuilder(inst.secretBox);
  let data = b.build();
  const index = ConfigIndex.of(data);
  const first = builder.build(index, null);
  assert.deepEqual(served(first), served(buildSnapshot(data, inst.secretBox)));
  assert.equal(findRoute(first, 'x.sub.b.test')!.zoneId, sub.id, "a nearer wildcard of another zone wins over the association's");
  assert.equal(findRoute(first, 'y.b.test')!.aop.level, 'hostname');
  const kept = first.exact.get('www.untouched.test')!;

  const steps: [string, () => void][] = [
    ['settings', () => b.settings(a, { sslMode: 'full' })],
    ['record', () => b.record(a, 'api.a.test', { host: '192.0.2.9' })],
    ['association disabled', () => b.associate(parent, 'y.b.test', hostCert, false)],
    [
      'the nearer zone deleted',
      () => {
        b.zones = b.zones.filter((z) => z.id !== sub.id);
        b.records = b.records.filter((r) => r.zoneId !== sub.id);
        b.version++;
      },
    ],
    ['zone created', () => b.record(b.zone('new.test'), 'www.new.test', {})],
    ['certificate replaced', () => b.cert(a, 'zone', hostLeaf)],
  ];
  for (const [what, step] of steps) {
    step();
    const next = b.build();
    const { zoneIds, pkiChanged } = index.apply(changesBetween(data, next));
    assert.equal(pkiChanged, false);
    assert.ok(zoneIds.size <= 2, `${what}: only the zones written to`);
    const s = builder.build(index, zoneIds);
    assert.deepEqual(served(s), served(buildSnapshot(next, inst.secretBox)), what);
    assert.equal(s.exact.get('www.untouched.test'), kept, `${what}: an untouched zone's route is reused`);
    data = next;
  }
  assert.equal(data.zones.length, 4);
  const derived = findRoute(builder.build(index, new Set()), 'x.sub.b.test');
  assert.equal(derived?.aop.level, 'hostname', "with the nearer zone gone, the association's own wildcard serves it");

  // A new installation certificate touches every zone that presents it.
  const next = { ...b.build(), pki: { ...inst.pki, globalCertPem: newGlobal.certPem, globalKeySealed: inst.secretBox.seal(newGlobal.keyPem) } };
  const { zoneIds, pkiChanged } = index.apply(changesBetween(data, next));
  assert.deepEqual([zoneIds.size, pkiChanged], [0, true]);
  const s = builder.build(index, zoneIds);
  assert.deepEqual(served(s), served(buildSnapshot(next, inst.secretBox)));
  assert.equal(findRoute(s, 'z.b.test')!.aop.fingerprint, fingerprintOf(newGlobal.certPem));
});

test('zone edge settings: one shared policy per distinct settings, SSL off drops HSTS and always_use_https, origin_sni completes a wildcard template', () => {
  const b = new ConfigBuilder(inst);
  const hsts = { enabled: true, maxAge: 600, includeSubdomains: false, preload: false, nosniff: true };
  const a = b.zone('a.test', { edge: { alwaysUseHttps: 'on', securityHeader: hsts, tls13: 'off', websockets: 'off' } });
  const same = b.zone('same.test', { edge: { alwaysUseHttps: 'on', securityHeader: hsts, tls13: 'off' } });
  const off = b.zone('off.test', { sslMode: 'off', edge: { alwaysUseHttps: 'on', securityHeader: hsts, http2: 'off' } });
  b.record(a, 'www.a.test', { httpsPort: 8443 });
  b.record(a, 'api.a.test', { httpsPort: 8443 }, { originHostHeader: 'backend.internal' });
  b.record(a, '*.w.a.test', { httpsPort: 8443 }, { originSni: 'origin.example.net' });
  b.record(same, 'www.same.test', {});
  b.record(off, 'www.off.test', {});
  const s = buildSnapshot(b.build(), inst.secretBox);
  const www = s.exact.get('www.a.test')!;
  assert.equal(www.policy, s.exact.get('api.a.test')!.policy, 'routes of a zone share one policy');
  assert.equal(www.policy, s.exact.get('www.same.test')!.policy, 'zones with the same settings share it too');
  assert.deepEqual(www.policy, { alwaysUseHttps: true, tls: { min: 'TLSv1.2', max: 'TLSv1.2' }, httpsHeaders: 'strict-transport-security: max-age=600\r\nx-content-type-options: nosniff\r\n', httpHeaders: 'x-content-type-options: nosniff\r\n' });
  assert.deepEqual([www.websockets, www.http2, www.originHost], [false, true, null]);
  assert.equal(s.exact.get('www.same.test')!.websockets, true);
  assert.equal(s.exact.get('api.a.test')!.originHost, 'backend.internal');
  const offRoute = s.exact.get('www.off.test')!;
  assert.deepEqual([offRoute.policy.alwaysUseHttps, offRoute.policy.httpsHeaders, offRoute.http2], [false, 'x-content-type-options: nosniff\r\n', false]);

  const template = s.wildcards.get('*.w.a.test')!;
  assert.equal(template.servername, 'origin.example.net');
  assert.ok(s.peerKeys.has(template.peerKey), 'a template with its own SNI has a complete pool key');
  assert.equal(findRoute(s, 'x.w.a.test'), template);
});

test('zone edge settings: an incremental build after a settings change gives the zone its new policy', () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('inc.test');
  const other = b.zone('other.test');
  b.record(z, 'www.inc.test', {});
  b.record(other, 'www.other.test', {});
  const builder = new SnapshotBuilder(inst.secretBox);
  const first = builder.build(ConfigIndex.of(b.build()), null);
  assert.equal(first.exact.get('www.inc.test')!.policy.tls.min, 'TLSv1.2');
  b.settings(z, { edge: { minTlsVersion: '1.3' } });
  const second = builder.build(ConfigIndex.of(b.build()), new Set([z.id]));
  assert.deepEqual(second.exact.get('www.inc.test')!.policy.tls, { min: 'TLSv1.3', max: 'TLSv1.3' });
  assert.equal(second.exact.get('www.other.test')!.policy.tls.min, 'TLSv1.2', 'the other zone keeps its own');
});
