// The official `cloudflare` SDK, unchanged, pointed at a real listening API by `baseURL`, performs
// every call the reference table lists and gets correct results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { startApi } from './harness.ts';

/** The SDK types settings as a union, not every member of which declares `value`. */
const valueOf = (setting: unknown): unknown => (setting as { value?: unknown }).value;

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';

test('the cloudflare SDK drives zones, settings and all AOP levels', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi({ listen: true });
  t.after(() => h.close());
  const cf = new Cloudflare({ apiToken: h.token, baseURL: h.baseURL, maxRetries: 0 });

  // ── zones and a proxied hostname ─────────────────────────────────────────
  const [account] = (await cf.accounts.list()).result;
  assert.ok(account.id);
  const zone = await cf.zones.create({ account: { id: account.id }, name: 'example.com' });
  assert.equal(zone.name, 'example.com');
  const zone_id = zone.id;
  const listed = await cf.zones.list({ name: 'example.com' });
  assert.deepEqual(listed.result.map((z) => z.id), [zone_id]);
  assert.equal((await cf.zones.get({ zone_id })).name, 'example.com');
  const record = await cf.dns.records.create({ zone_id, type: 'A', name: 'app.example.com', content: '127.0.0.1', proxied: true, ttl: 1 });
  assert.equal(record.name, 'app.example.com');
  assert.equal((record as unknown as { origin_https_port: number }).origin_https_port, 443);

  // ── zone settings ssl and tls_client_auth ────────────────────────────────
  const ssl = await cf.zones.settings.get('ssl', { zone_id });
  assert.equal(ssl.id, 'ssl');
  assert.equal(valueOf(ssl), 'full');
  const sslEdited = await cf.zones.settings.edit('ssl', { zone_id, value: 'strict' });
  assert.equal(valueOf(sslEdited), 'strict');
  assert.equal(valueOf(await cf.zones.settings.get('ssl', { zone_id })), 'strict');
  assert.equal(valueOf(await cf.zones.settings.get('tls_client_auth', { zone_id })), 'off');
  const tca = await cf.zones.settings.edit('tls_client_auth', { zone_id, value: 'on' });
  assert.equal(tca.id, 'tls_client_auth');
  assert.equal(valueOf(tca), 'on');
  assert.equal(tca.editable, true);
  assert.equal(valueOf(await cf.zones.settings.get('tls_client_auth', { zone_id })), 'on');
  await assert.rejects(cf.zones.settings.edit('ssl', { zone_id, value: 'bogus' as 'off' }), (err: unknown) => {
    assert.ok(err instanceof Cloudflare.BadRequestError);
    assert.match(JSON.stringify(err.errors), /off, flexible, full, strict/);
    return true;
  });

  // ── zone-level AOP ───────────────────────────────────────────────────────
  const aop = cf.originTLSClientAuth;
  assert.deepEqual(await aop.settings.get({ zone_id }), { enabled: false });
  assert.deepEqual(await aop.settings.update({ zone_id, enabled: true }), { enabled: true });
  assert.deepEqual(await aop.settings.get({ zone_id }), { enabled: true });

  const zc = await aop.zoneCertificates.create({ zone_id, certificate: f.leaf.certificate, private_key: f.leaf.privateKey });
  assert.ok(zc.id);
  assert.equal(zc.status, 'pending_deployment');
  assert.equal(zc.issuer, 'Test Client CA');
  assert.equal(zc.signature, 'ECDSAWithSHA256');
  assert.equal(zc.enabled, true);
  assert.equal(zc.certificate?.trim(), f.leaf.certificate.trim());
  assert.equal(zc.private_key, undefined);
  assert.ok(zc.expires_on && Date.parse(zc.expires_on) > Date.now());
  assert.ok(zc.uploaded_on);

  await h.edgeApplied();
  const zcGot = await aop.zoneCertificates.get(zc.id!, { zone_id });
  assert.equal(zcGot.status, 'active');
  const zcList = await aop.zoneCertificates.list({ zone_id });
  assert.deepEqual(zcList.result.map((c) => [c.id, c.status]), [[zc.id, 'active']]);
  // The deprecated aliases call the same paths.
  assert.equal((await aop.list({ zone_id })).result.length, 1);

  const zcDeleted = await aop.zoneCertificates.delete(zc.id!, { zone_id });
  assert.equal(zcDeleted.id, zc.id);
  assert.equal(zcDeleted.status, 'pending_deletion');
  assert.equal((await aop.zoneCertificates.get(zc.id!, { zone_id })).status, 'pending_deletion');
  await h.edgeApplied();
  await assert.rejects(aop.zoneCertificates.get(zc.id!, { zone_id }), Cloudflare.NotFoundError);
  assert.deepEqual((await aop.zoneCertificates.list({ zone_id })).result, []);

  // ── per-hostname AOP ─────────────────────────────────────────────────────
  const hc = await aop.hostnameCertificates.create({ zone_id, certificate: f.other.certificate, private_key: f.other.privateKey });
  assert.equal(hc.status, 'pending_deployment');
  assert.match(hc.serial_number ?? '', /^[0-9]+$/);
  assert.equal(hc.issuer, 'Test Client CA');
  assert.equal(hc.signature, 'ECDSAWithSHA256');
  assert.equal((hc as { private_key?: string }).private_key, undefined);
  await h.edgeApplied();
  assert.equal((await aop.hostnameCertificates.get(hc.id!, { zone_id })).status, 'active');
  assert.deepEqual((await aop.hostnameCertificates.list({ zone_id })).result.map((c) => c.id), [hc.id]);

  const page = await aop.hostnames.update({ zone_id, config: [{ hostname: 'app.example.com', cert_id: hc.id, enabled: true }] });
  assert.ok(Array.isArray(page.result), 'hostnames.update answers a page whose result is an array');
  assert.equal(page.result.length, 1);
  assert.equal(page.result[0].hostname, 'app.example.com');
  assert.equal(page.result[0].cert_id, hc.id);
  assert.equal(page.result[0].enabled, true);
  assert.equal(page.result[0].status, 'pending_deployment');
  assert.equal(page.result[0].cert_status, 'active');
  await h.edgeApplied();
  const assoc = await aop.hostnames.get('app.example.com', { zone_id });
  assert.equal(assoc.hostname, 'app.example.com');
  assert.equal(assoc.cert_id, hc.id);
  assert.equal(assoc.enabled, true);
  assert.equal(assoc.status, 'active');
  assert.equal(assoc.cert_status, 'active');
  assert.equal(assoc.serial_number, hc.serial_number);

  // Still associated and enabled: refused once (x-should-retry: false), naming the hostname.
  await assert.rejects(aop.hostnameCertificates.delete(hc.id!, { zone_id }), (err: unknown) => {
    assert.ok(err instanceof Cloudflare.ConflictError);
    assert.equal(err.headers?.get('x-should-retry'), 'false');
    assert.match(JSON.stringify(err.errors), /app\.example\.com/);
    return true;
  });

  const removed = await aop.hostnames.update({ zone_id, config: [{ hostname: 'app.example.com', cert_id: hc.id, enabled: null }] });
  assert.equal(removed.result[0].enabled, null);
  await assert.rejects(aop.hostnames.get('app.example.com', { zone_id }), Cloudflare.NotFoundError);
  const hcDeleted = await aop.hostnameCertificates.delete(hc.id!, { zone_id });
  assert.equal(hcDeleted.status, 'pending_deletion');
  await h.edgeApplied();
  await assert.rejects(aop.hostnameCertificates.get(hc.id!, { zone_id }), Cloudflare.NotFoundError);

  // A wildcard hostname reaches the server unencoded and works.
  const hc2 = await aop.hostnameCertificates.create({ zone_id, certificate: f.leaf.certificate, private_key: f.leaf.privateKey });
  await aop.hostnames.update({ zone_id, config: [{ hostname: '*.example.com', cert_id: hc2.id, enabled: false }] });
  const wild = await aop.hostnames.get('*.example.com', { zone_id });
  assert.equal(wild.hostname, '*.example.com');
  assert.equal(wild.enabled, false);

  // Upload validation surfaces as BadRequestError with the code.
  await assert.rejects(aop.zoneCertificates.create({ zone_id, certificate: f.ca.certPem, private_key: f.ca.keyPem }), (err: unknown) => {
    assert.ok(err instanceof Cloudflare.BadRequestError);
    assert.deepEqual(err.errors.map((e) => e.code), [2101]);
    return true;
  });
});

test('the SDK authenticates with X-Auth-Email + X-Auth-Key for the admin identity', { skip }, async (t) => {
  const h = await startApi({ listen: true });
  t.after(() => h.close());
  const legacy = new Cloudflare({ apiEmail: 'admin@example.com', apiKey: h.token, baseURL: h.baseURL, maxRetries: 0 });
  const zone = await legacy.zones.create({ account: { id: '' }, name: 'legacy.example' }).catch(() => null);
  assert.equal(zone, null, 'an unknown account id is refused');
  const [account] = (await legacy.accounts.list()).result;
  const created = await legacy.zones.create({ account: { id: account.id }, name: 'legacy.example' });
  assert.equal(valueOf(await legacy.zones.settings.get('ssl', { zone_id: created.id })), 'full');
  const wrong = new Cloudflare({ apiEmail: 'admin@example.com', apiKey: 'nope', baseURL: h.baseURL, maxRetries: 0 });
  await assert.rejects(wrong.zones.list(), Cloudflare.AuthenticationError);
});
