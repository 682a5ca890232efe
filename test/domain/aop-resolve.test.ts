import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aopApplies, DEFAULT_EDGE_SETTINGS, newestZoneCertificate, resolveAop, type HostnameAssociation, type StoredCertificate, type Zone } from '../../src/domain/index.ts';

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
  assert.deepEqual(resolveAop({ zone: z, association: assoc('h1', true), ...all }), { level: 'hostname', reason: 'hostname_association_enabled', certificate: h });
  assert.deepEqual(resolveAop({ zone: z, association: undefined, ...all }), { level: 'zone', reason: 'zone_level_enabled', certificate: zc });
  assert.equal(resolveAop({ zone: z, association: undefined, hostnameCertsById: new Map(), zoneCertificate: undefined }).reason, 'zone_level_enabled_no_certificate');
  assert.deepEqual(resolveAop({ zone: zone({ tlsClientAuth: 'on' }), association: undefined, ...all }), { level: 'global', reason: 'global_tls_client_auth_on', certificate: null });
  assert.deepEqual(resolveAop({ zone: zone(), association: undefined, ...all }), { level: 'none', reason: 'no_aop_enabled', certificate: null });
});

test('an SSL mode below full means no client certificate at all', () => {
  for (const sslMode of ['off', 'flexible'] as const) {
    const choice = resolveAop({ zone: zone({ sslMode, aopEnabled: true, tlsClientAuth: 'on' }), association: assoc('h1', true), hostnameCertsById: new Map(), zoneCertificate: undefined });
    assert.deepEqual(choice, { level: 'none', reason: 'ssl_mode_below_full', certificate: null });
  }
});

test('a disabled association suppresses zone-level AOP but not the global toggle', () => {
  const zc = cert('z1', 'zone');
  const base = { association: assoc('h1', false), hostnameCertsById: new Map(), zoneCertificate: zc };
  assert.deepEqual(resolveAop({ zone: zone({ aopEnabled: true }), ...base }), { level: 'none', reason: 'hostname_association_disabled', certificate: null });
  assert.equal(resolveAop({ zone: zone({ aopEnabled: true, tlsClientAuth: 'on' }), ...base }).level, 'global');
});

test('an association whose certificate is gone falls through to the zone level', () => {
  const zc = cert('z1', 'zone');
  const choice = resolveAop({ zone: zone({ aopEnabled: true }), association: assoc('missing', true), hostnameCertsById: new Map(), zoneCertificate: zc });
  assert.equal(choice.level, 'zone');
});

test('newestZoneCertificate: newest upload of kind zone, skipping deletions and hostname certs', () => {
  const a = cert('a', 'zone', 1);
  const b = cert('b', 'zone', 3);
  const c = cert('c', 'zone', 5, { deleteVersion: 9 });
  const d = cert('d', 'hostname', 7);
  assert.equal(newestZoneCertificate([a, b, c, d])?.id, 'b');
  assert.equal(newestZoneCertificate([d]), undefined);
});
