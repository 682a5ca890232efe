import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aopApplies, DEFAULT_EDGE_SETTINGS, newestZoneCertificate, nextNotBefore, resolveAop, selectZoneCertificate, type HostnameAssociation, type StoredCertificate, type Zone } from '../../src/domain/index.ts';

const zone = (over: Partial<Zone> = {}): Zone => ({
  id: 'z',
  accountId: 'a',
  name: 'example.com',
  createdOn: 0,
  modifiedOn: 0,
  sslMode: 'full',
  sslModifiedOn: 0,
  tlsClientAuth: 'off',
  tlsClientAuthModifiedOn: 0,
  aopEnabled: false,
  aopModifiedOn: 0,
  edge: DEFAULT_EDGE_SETTINGS,
  edgeModifiedOn: {},
  ...over,
});

const cert = (id: string, kind: 'zone' | 'hostname', uploadedOn = 1, over: Partial<StoredCertificate> = {}): StoredCertificate => ({
  id,
  zoneId: 'z',
  kind,
  certificatePem: '',
  privateKeySealed: '',
  issuer: 'CA',
  serialNumber: '1',
  signature: 'ECDSAWithSHA256',
  fingerprintSha256: id,
  notBefore: 0,
  expiresOn: 10,
  uploadedOn,
  deployVersion: uploadedOn,
  deleteVersion: null,
  deleteRequestedOn: null,
  ...over,
});

const assoc = (certId: string, enabled: boolean): HostnameAssociation => ({ zoneId: 'z', hostname: 'app.example.com', certId, enabled, createdAt: 0, updatedAt: 0, version: 1 });

test('aopApplies only in full and strict', () => {
  assert.deepEqual(['off', 'flexible', 'full', 'strict'].map((m) => aopApplies(m as Zone['sslMode'])), [false, false, true, true]);
});

test('precedence: hostname > zone > global > none', () => {
  const h = cert('h1', 'hostname');
  const zc = cert('z1', 'zone');
  const all = { hostnameCertsById: new Map([[h.id, h]]), zoneCertificate: zc };
  const z = zone({ aopEnabled: true, tlsClientAuth: 'on' });
  assert.deepEqual(resolveAop({ now: 5, zone: z, association: assoc('h1', true), ...all }), { level: 'hostname', reason: 'hostname_association_enabled', certificate: h });
  assert.deepEqual(resolveAop({ now: 5, zone: z, association: undefined, ...all }), { level: 'zone', reason: 'zone_level_enabled', certificate: zc });
  assert.equal(resolveAop({ now: 5, zone: z, association: undefined, hostnameCertsById: new Map(), zoneCertificate: undefined }).reason, 'zone_level_enabled_no_certificate');
  assert.deepEqual(resolveAop({ now: 5, zone: zone({ tlsClientAuth: 'on' }), association: undefined, ...all }), { level: 'global', reason: 'global_tls_client_auth_on', certificate: null });
  assert.deepEqual(resolveAop({ now: 5, zone: zone(), association: undefined, ...all }), { level: 'none', reason: 'no_aop_enabled', certificate: null });
});

test('an SSL mode below full means no client certificate at all', () => {
  for (const sslMode of ['off', 'flexible'] as const) {
    const choice = resolveAop({ now: 5, zone: zone({ sslMode, aopEnabled: true, tlsClientAuth: 'on' }), association: assoc('h1', true), hostnameCertsById: new Map(), zoneCertificate: undefined });
    assert.deepEqual(choice, { level: 'none', reason: 'ssl_mode_below_full', certificate: null });
  }
});

test('a disabled association suppresses zone-level AOP but not the global toggle', () => {
  const zc = cert('z1', 'zone');
  const base = { association: assoc('h1', false), hostnameCertsById: new Map(), zoneCertificate: zc };
  assert.deepEqual(resolveAop({ now: 5, zone: zone({ aopEnabled: true }), ...base }), { level: 'none', reason: 'hostname_association_disabled', certificate: null });
  assert.equal(resolveAop({ now: 5, zone: zone({ aopEnabled: true, tlsClientAuth: 'on' }), ...base }).level, 'global');
});

test('an association whose certificate is gone falls through to the zone level', () => {
  const zc = cert('z1', 'zone');
  const choice = resolveAop({ now: 5, zone: zone({ aopEnabled: true }), association: assoc('missing', true), hostnameCertsById: new Map(), zoneCertificate: zc });
  assert.equal(choice.level, 'zone');
});

test('newestZoneCertificate: newest upload of kind zone, skipping deletions and hostname certs', () => {
  const a = cert('a', 'zone', 1);
  const b = cert('b', 'zone', 3);
  const c = cert('c', 'zone', 5, { deleteVersion: 9 });
  const d = cert('d', 'hostname', 7);
  assert.equal(newestZoneCertificate([a, b, c, d], 5)?.id, 'b');
  assert.equal(newestZoneCertificate([d], 5), undefined);
});

test('a zone certificate is not presented before its not_before: the newest valid one is, naming the deferred one', () => {
  const old = cert('old', 'zone', 1, { notBefore: 0 });
  const later = cert('later', 'zone', 3, { notBefore: 100 });
  assert.deepEqual(selectZoneCertificate([old, later], 50), { certificate: old, deferred: later });
  assert.deepEqual(selectZoneCertificate([old, later], 100), { certificate: later, deferred: undefined }, 'switches at not_before');
  assert.deepEqual(selectZoneCertificate([later], 50), { certificate: later, deferred: undefined }, 'nothing valid yet: the newest');
  const choice = resolveAop({ now: 50, zone: zone({ aopEnabled: true }), association: undefined, hostnameCertsById: new Map(), zoneCertificate: old, zoneCertificateDeferred: later });
  assert.deepEqual(choice, { level: 'zone', reason: 'zone_level_enabled', certificate: old, deferred: later });
  assert.equal(nextNotBefore([old, later], 50), 100);
  assert.equal(nextNotBefore([old, later], 100), null);
  assert.equal(nextNotBefore([cert('gone', 'zone', 4, { notBefore: 70, deleteVersion: 9 })], 50), null);
});

test('an associated hostname certificate not valid yet falls through until its not_before', () => {
  const h = cert('h1', 'hostname', 2, { notBefore: 100 });
  const zc = cert('z1', 'zone');
  const inputs = { zone: zone({ aopEnabled: true }), association: assoc('h1', true), hostnameCertsById: new Map([[h.id, h]]), zoneCertificate: zc };
  assert.deepEqual(resolveAop({ ...inputs, now: 50 }), { level: 'zone', reason: 'hostname_certificate_not_yet_valid', certificate: zc, deferred: h });
  assert.deepEqual(resolveAop({ ...inputs, now: 100 }), { level: 'hostname', reason: 'hostname_association_enabled', certificate: h });
});
