// Custom edge certificates through the official cloudflare SDK, unchanged, against a real API on
// SQLite: upload, list, get, edit, prioritize, delete, the effective-certificate answer; bad
// uploads each get their 4xx and store nothing; no private-key bytes in the database or answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Cloudflare from 'cloudflare';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { startApi } from './harness.ts';

const skip = hasOpenssl() ? false : 'openssl not installed';

test('the cloudflare SDK drives custom certificates; bad uploads store nothing; keys stay sealed', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi({ listen: true });
  t.after(() => h.close());
  const cf = new Cloudflare({ apiToken: h.token, baseURL: h.baseURL, maxRetries: 0 });
  const [account] = (await cf.accounts.list()).result;
  const zone = await cf.zones.create({ account: { id: account.id }, name: 'example.com' });
  const zone_id = zone.id;
  await cf.dns.records.create({ zone_id, type: 'A', name: 'www.example.com', content: '127.0.0.1', proxied: true, ttl: 1 });

  const ca = await createCa({ commonName: 'Visitor Test CA', keyType: 'p256', days: 30 });
  const wild = await issueCertificate({ ca, commonName: 'example.com', usage: 'server', dnsNames: ['example.com', '*.example.com'], keyType: 'p256', days: 20 });
  const www = await issueCertificate({ ca, commonName: 'www.example.com', usage: 'server', dnsNames: ['www.example.com', 'other.test'], keyType: 'p384', days: 20 });

  const c1 = await cf.customCertificates.create({ zone_id, certificate: wild.certPem, private_key: wild.keyPem, bundle_method: 'force', type: 'sni_custom' });
  assert.ok(c1.id);
  assert.equal(c1.status, 'pending');
  assert.deepEqual(c1.hosts, ['example.com', '*.example.com']);
  assert.equal(c1.bundle_method, 'force');
  assert.equal(c1.signature, 'ECDSAWithSHA256');
  assert.equal(c1.issuer, 'Visitor Test CA');
  assert.equal(c1.priority, 0);
  assert.ok(c1.expires_on && c1.uploaded_on && c1.modified_on);
  assert.equal((c1 as unknown as Record<string, unknown>).private_key, undefined);
  await h.edgeApplied();
  assert.equal((await cf.customCertificates.get(c1.id, { zone_id })).status, 'active');

  const c2 = await cf.customCertificates.create({ zone_id, certificate: www.certPem, private_key: www.keyPem });
  assert.equal(c2.bundle_method, 'ubiquitous');
  await h.edgeApplied();
  const listed = [];
  for await (const c of cf.customCertificates.list({ zone_id })) listed.push(c.id);
  assert.deepEqual(listed.sort(), [c1.id, c2.id].sort());

  // Exact SAN beats wildcard whatever the priority; the wildcard serves the apex' other names.
  const eff = async (host: string) => (await h.call('GET', `/zones/${zone_id}/edge_certificates/effective/${host}`)).json().result;
  await cf.customCertificates.prioritize.update({ zone_id, certificates: [{ id: c1.id, priority: 10 }] });
  assert.equal((await cf.customCertificates.get(c1.id, { zone_id })).priority, 10);
  assert.equal((await eff('www.example.com')).certificate.id, c2.id);
  assert.equal((await eff('www.example.com')).reason, 'custom_exact_san');
  assert.equal((await eff('api.example.com')).certificate.id, c1.id);
  assert.equal((await eff('api.example.com')).certificate.match, 'wildcard');
  assert.equal((await eff('a.b.example.com')).source, 'none');

  // A second wildcard certificate: priority decides between equals.
  const wild2 = await issueCertificate({ ca, commonName: 'example.com', usage: 'server', dnsNames: ['*.example.com'], keyType: 'p256', days: 20 });
  const c3 = await cf.customCertificates.create({ zone_id, certificate: wild2.certPem, private_key: wild2.keyPem });
  assert.equal((await eff('api.example.com')).certificate.id, c1.id, 'priority 10 beats a newer priority 0');
  await cf.customCertificates.prioritize.update({ zone_id, certificates: [{ id: c3.id, priority: 20 }] });
  assert.equal((await eff('api.example.com')).certificate.id, c3.id);

  // PATCH with a new certificate: new id, old one gone, priority kept.
  const wild3 = await issueCertificate({ ca, commonName: 'example.com', usage: 'server', dnsNames: ['*.example.com'], keyType: 'p256', days: 25 });
  const c3b = await cf.customCertificates.edit(c3.id, { zone_id, certificate: wild3.certPem, private_key: wild3.keyPem });
  assert.notEqual(c3b.id, c3.id);
  assert.equal(c3b.priority, 20);
  const c3c = await cf.customCertificates.edit(c3b.id, { zone_id, bundle_method: 'optimal' });
  assert.equal(c3c.bundle_method, 'optimal');
  assert.equal(c3c.id, c3b.id);

  assert.deepEqual(await cf.customCertificates.delete(c3b.id, { zone_id }), { id: c3b.id });
  await h.edgeApplied();
  await assert.rejects(cf.customCertificates.get(c3b.id, { zone_id }), (err: unknown) => err instanceof Cloudflare.NotFoundError);

  // ── bad uploads: each a 4xx naming the fault, nothing stored ────────────────
  const before = (await h.store.listEdgeCertificates(zone_id)).length;
  const versionBefore = await h.store.currentVersion();
  const clientLeaf = f.leaf; // clientAuth-only, no SAN in the zone
  const outside = await issueCertificate({ ca, commonName: 'x.other.test', usage: 'server', dnsNames: ['x.other.test'], keyType: 'p256', days: 20 });
  const noSan = await issueCertificate({ ca, commonName: 'www.example.com', usage: 'server', dnsNames: [], keyType: 'p256', days: 20 });
  const rsa = await issueCertificate({ ca, commonName: 'rsa.example.com', usage: 'server', keyType: 'rsa2048', days: 20 });
  const bad: [string, Record<string, unknown>, number][] = [
    ['empty certificate', { certificate: '', private_key: wild.keyPem }, 400],
    ['not PEM', { certificate: 'hello', private_key: wild.keyPem }, 400],
    ['bad base64', { certificate: '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n', private_key: wild.keyPem }, 400],
    ['truncated', { certificate: wild.certPem.slice(0, 200), private_key: wild.keyPem }, 400],
    ['key in certificate field', { certificate: wild.keyPem, private_key: wild.keyPem }, 400],
    ['CA first', { certificate: ca.certPem, private_key: ca.keyPem }, 400],
    ['chain out of order', { certificate: f.chained.certificate.split(/(?<=-----END CERTIFICATE-----\n)/).reverse().join(''), private_key: f.chained.privateKey }, 400],
    ['empty key', { certificate: wild.certPem, private_key: '' }, 400],
    ['key mismatch', { certificate: wild.certPem, private_key: www.keyPem }, 400],
    ['encrypted key', { certificate: f.leaf.certificate, private_key: f.encryptedPkcs8 }, 400],
    ['public key as key', { certificate: f.leaf.certificate, private_key: f.publicKeyPem }, 400],
    ['OpenSSH key', { certificate: f.leaf.certificate, private_key: f.opensshKey }, 400],
    ['RSA 1024', { certificate: f.rsa1024.certificate, private_key: f.rsa1024.privateKey }, 400],
    ['P-521', { certificate: f.p521.certificate, private_key: f.p521.privateKey }, 400],
    ['DSA', { certificate: f.dsa.certificate, private_key: f.dsa.privateKey }, 400],
    ['Ed25519', { certificate: f.ed25519.certificate, private_key: f.ed25519.privateKey }, 400],
    ['expired', { certificate: f.expired.certificate, private_key: f.expired.privateKey }, 400],
    ['clientAuth only', { certificate: clientLeaf.certificate, private_key: clientLeaf.privateKey }, 400],
    ['SAN outside the zone', { certificate: outside.certPem, private_key: outside.keyPem }, 400],
    ['no DNS SAN', { certificate: noSan.certPem, private_key: noSan.keyPem }, 400],
    ['two keys', { certificate: rsa.certPem, private_key: rsa.keyPem + wild.keyPem }, 400],
    ['bad bundle_method', { certificate: wild.certPem, private_key: wild.keyPem, bundle_method: 'fastest' }, 400],
    ['legacy_custom', { certificate: wild.certPem, private_key: wild.keyPem, type: 'legacy_custom' }, 400],
    ['missing private_key', { certificate: wild.certPem }, 400],
    ['wrong JSON type', { certificate: 42, private_key: wild.keyPem }, 400],
    ['duplicate', { certificate: www.certPem, private_key: www.keyPem }, 409],
  ];
  for (const [what, body, status] of bad) {
    const res = await h.call('POST', `/zones/${zone_id}/custom_certificates`, { body });
    assert.equal(res.statusCode, status, `${what}: ${res.body}`);
    const error = res.json().errors[0];
    assert.ok(error.code >= 1000 && error.message.length > 10, `${what}: ${res.body}`);
    for (const pem of [wild.keyPem, www.keyPem]) assert.equal(res.body.includes(pem.split('\n')[1]), false, `${what}: key bytes in the answer`);
  }
  assert.ok(bad.length >= 20);
  assert.equal((await h.store.listEdgeCertificates(zone_id)).length, before);
  assert.equal(await h.store.currentVersion(), versionBefore);

  // ── no private-key bytes at rest or in answers ─────────────────────────────
  const db = readFileSync(join(h.dir, 'originpull.db'));
  for (const pem of [wild.keyPem, www.keyPem]) {
    const b64 = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    assert.equal(db.includes(b64.slice(10, 60)), false, 'a key body is in the database file');
  }
  const all = await h.call('GET', `/zones/${zone_id}/custom_certificates?per_page=50`);
  assert.doesNotMatch(all.body, /PRIVATE KEY/);
});

test('effective ?without={id}: what a hostname gets once that certificate is gone', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zone = (await h.call('POST', '/zones', { body: { name: 'example.org' } })).json().result.id as string;
  for (const name of ['www.example.org', 'api.example.org']) {
    assert.equal((await h.call('POST', `/zones/${zone}/dns_records`, { body: { type: 'A', name, content: '192.0.2.1', proxied: true, ttl: 1 } })).statusCode, 200);
  }
  const ca = await createCa({ commonName: 'Visitor Test CA', keyType: 'p256', days: 30 });
  const upload = async (dnsNames: string[]) => {
    const pair = await issueCertificate({ ca, commonName: dnsNames[0], usage: 'server', dnsNames, keyType: 'p256', days: 20 });
    const res = await h.call('POST', `/zones/${zone}/custom_certificates`, { body: { certificate: pair.certPem, private_key: pair.keyPem } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().result.id as string;
  };
  const exact = await upload(['www.example.org']);
  const wild = await upload(['*.example.org']);
  const eff = async (host: string, without?: string) => {
    const res = await h.call('GET', `/zones/${zone}/edge_certificates/effective/${host}${without === undefined ? '' : `?without=${without}`}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json().result as { source: string; reason: string; certificate: { id: string } | null; candidates: { id: string }[] };
  };

  assert.equal((await eff('www.example.org')).certificate?.id, exact);
  const instead = await eff('www.example.org', exact);
  assert.equal(instead.certificate?.id, wild, 'the wildcard takes over');
  assert.equal(instead.reason, 'custom_wildcard_san');
  assert.deepEqual(instead.candidates.map((c) => c.id), [wild], 'the excluded certificate is not a candidate');
  const none = await eff('api.example.org', wild);
  assert.equal(none.source, 'edge_ca_fallback', 'nothing else covers api: the fallback (on by default)');
  assert.equal(none.certificate, null);
  assert.equal((await eff('api.example.org', 'no-such-id')).certificate?.id, wild, 'an unknown id excludes nothing');
  assert.equal((await h.store.listEdgeCertificates(zone)).length, 2, 'nothing deleted');
});
