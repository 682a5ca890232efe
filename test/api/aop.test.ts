// AOP semantics over the API: statuses derived from edge reports, deletion lifecycle, `?wait=active`,
// associations (validation, atomic batches, limits, in-use refusal) and the effective endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { createZone, startApi } from './harness.ts';

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';

test('statuses follow what edges report: pending, active, timed out; deletion to 404', { skip }, async (t) => {
  const f = await certFixtures();
  let skew = 0;
  const h = await startApi({ deadlineMs: 1_000, now: () => Date.now() + skew });
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const base = `/zones/${zoneId}/origin_tls_client_auth`;
  const status = async (url: string) => (await h.call('GET', url)).json().result.status;

  const cert = (await h.call('POST', base, { body: { certificate: f.leaf.certificate, private_key: f.leaf.privateKey } })).json().result;
  assert.equal(cert.status, 'pending_deployment', 'no edge has applied it');
  skew = 2_000;
  const waiting = (await h.call('GET', `${base}/${cert.id}`)).json().result;
  assert.equal(waiting.status, 'pending_deployment', 'past the deadline with no edge: waiting for one, not timed out');
  assert.equal(waiting.no_live_edge, true);
  skew = 0;

  await h.store.reportEdge({ id: 'e1', name: 'e1', startedAt: Date.now(), appliedVersion: await h.store.currentVersion() });
  await h.store.reportEdge({ id: 'e2', name: 'e2', startedAt: Date.now(), appliedVersion: (await h.store.currentVersion()) - 1 });
  assert.equal(await status(`${base}/${cert.id}`), 'pending_deployment', 'one live edge lags');
  await h.edgeApplied('e2');
  assert.equal(await status(`${base}/${cert.id}`), 'active');

  const deleted = await h.call('DELETE', `${base}/${cert.id}`);
  assert.equal(deleted.statusCode, 200);
  assert.equal(deleted.json().result.status, 'pending_deletion');
  assert.deepEqual((await h.call('GET', base)).json().result.map((c: { status: string }) => c.status), ['pending_deletion'], 'still listed while pending');
  assert.equal((await h.call('DELETE', `${base}/${cert.id}`)).json().result.status, 'pending_deletion', 'a repeated delete answers the same');
  skew = 2_000;
  assert.equal(await status(`${base}/${cert.id}`), 'deletion_timed_out');
  skew = 0;
  await h.edgeApplied('e1');
  await h.edgeApplied('e2');
  assert.equal((await h.call('GET', `${base}/${cert.id}`)).statusCode, 404);
  assert.deepEqual((await h.call('GET', base)).json().result, []);
  assert.equal((await h.call('DELETE', `${base}/${cert.id}`)).statusCode, 404);
});

test('?wait=active holds the answer until the edges applied it, at most the deadline', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi({ deadlineMs: 800 });
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');

  // No edge at all: the answer comes at the deadline, still not active.
  let started = Date.now();
  const lonely = await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth?wait=active`, { body: { certificate: f.other.certificate, private_key: f.other.privateKey } });
  assert.ok(Date.now() - started >= 700, 'waited up to the deadline');
  assert.notEqual(lonely.json().result.status, 'active');

  // An edge applying the change mid-wait releases it.
  await h.edgeApplied();
  started = Date.now();
  const timer = setTimeout(() => void h.edgeApplied(), 250);
  const res = await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates?wait=active`, { body: { certificate: f.leaf.certificate, private_key: f.leaf.privateKey } });
  clearTimeout(timer);
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().result.status, 'active');
  assert.ok(Date.now() - started >= 200);
  const certId = res.json().result.id;

  setTimeout(() => void h.edgeApplied(), 150);
  const put = await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/hostnames?wait=active`, { body: { config: [{ hostname: 'app.example.com', cert_id: certId, enabled: true }] } });
  assert.equal(put.json().result[0].status, 'active');
  assert.equal((await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth?wait=soon`, { body: {} })).statusCode, 400);
});

test('hostname associations: validated, atomic, limited, and blocking deletion only while enabled', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const other = await createZone(h, 'other.example');
  const certs = `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`;
  const put = (config: unknown[]) => h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/hostnames`, { body: { config } });
  const a = (await h.call('POST', certs, { body: { certificate: f.leaf.certificate, private_key: f.leaf.privateKey } })).json().result;
  const b = (await h.call('POST', certs, { body: { certificate: f.other.certificate, private_key: f.other.privateKey } })).json().result;
  const foreign = (await h.call('POST', `/zones/${other}/origin_tls_client_auth/hostnames/certificates`, { body: { certificate: f.p384.certificate, private_key: f.p384.privateKey } })).json().result;

  const refusals: [unknown[], number, number, RegExp][] = [
    [[{ cert_id: a.id, enabled: true }], 400, 1142, /config\[0\]\.hostname is required/],
    [[{ hostname: 'app.other.example', cert_id: a.id, enabled: true }], 400, 1142, /does not belong to zone example\.com/],
    [[{ hostname: 'bad host.example.com', cert_id: a.id }], 400, 1142, /Invalid hostname/],
    [[{ hostname: 'x.example.com', cert_id: a.id }, { hostname: 'X.example.com.', cert_id: b.id }], 400, 1142, /appears more than once/],
    [[{ hostname: 'x.example.com', enabled: true }], 400, 1004, /config\[0\]\.cert_id is required/],
    [[{ hostname: 'x.example.com', cert_id: 'nope', enabled: true }], 404, 1130, /not a hostname certificate of this zone/],
    [[{ hostname: 'x.example.com', cert_id: foreign.id, enabled: true }], 404, 1130, /not a hostname certificate of this zone/],
    [[{ hostname: 'x.example.com', cert_id: a.id, enabled: 'yes' }], 400, 1004, /enabled must be boolean or null/],
    [[{ hostname: 'ok.example.com', cert_id: a.id, enabled: true }, { hostname: 'y.example.com', cert_id: 'nope', enabled: true }], 404, 1130, /config\[1\]\.cert_id/],
  ];
  for (const [config, status, code, message] of refusals) {
    const res = await put(config);
    assert.equal(res.statusCode, status, `${JSON.stringify(config)}: ${res.body}`);
    assert.equal(res.json().errors[0].code, code, res.body);
    assert.match(res.json().errors[0].message, message);
  }
  assert.deepEqual(await h.store.listAssociations(zoneId), [], 'no refused batch stored anything');

  // Limit: 100 associations per certificate, checked for the whole batch.
  const many = Array.from({ length: 101 }, (_, i) => ({ hostname: `h${i}.example.com`, cert_id: a.id, enabled: true }));
  const limited = await put(many);
  assert.equal(limited.statusCode, 400);
  assert.equal(limited.json().errors[0].code, 1141);
  assert.deepEqual(await h.store.listAssociations(zoneId), []);

  // A mixed batch: omitted `enabled` means true; disabled; removal of nothing.
  const res = await put([
    { hostname: 'App.Example.com', cert_id: a.id },
    { hostname: 'off.example.com', cert_id: b.id, enabled: false },
    { hostname: 'ghost.example.com', cert_id: a.id, enabled: null },
  ]);
  assert.equal(res.statusCode, 200, res.body);
  const items = res.json().result;
  assert.deepEqual(items.map((x: { hostname: string; enabled: boolean | null }) => [x.hostname, x.enabled]), [['app.example.com', true], ['off.example.com', false], ['ghost.example.com', null]]);
  assert.equal(items[2].status, 'deleted');
  assert.equal(items[0].serial_number, a.serial_number);
  assert.equal(items[0].certificate, a.certificate);
  assert.ok(items[0].created_at && items[0].updated_at && items[0].cert_uploaded_on);
  const listed = (await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames`)).json().result;
  assert.equal(listed.length, 2);

  // b is only used disabled: deletion goes through and drops that association.
  const delB = await h.call('DELETE', `${certs}/${b.id}`);
  assert.equal(delB.statusCode, 200, delB.body);
  assert.equal((await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/off.example.com`)).statusCode, 404);
  // a is used enabled: refused, naming the hostname, not retried.
  const delA = await h.call('DELETE', `${certs}/${a.id}`);
  assert.equal(delA.statusCode, 409);
  assert.equal(delA.headers['x-should-retry'], 'false');
  assert.equal(delA.json().errors[0].code, 1132);
  assert.match(delA.json().errors[0].message, /app\.example\.com/);
  // A certificate pending deletion cannot be associated.
  const late = await put([{ hostname: 'late.example.com', cert_id: b.id, enabled: true }]);
  assert.equal(late.statusCode, 404);
  // Removing with only the hostname finds the association's certificate.
  const removed = await put([{ hostname: 'app.example.com', enabled: null }]);
  assert.equal(removed.json().result[0].cert_id, a.id);
  assert.equal(removed.json().result[0].status, 'pending_deletion');
  assert.equal((await h.call('DELETE', `${certs}/${a.id}`)).statusCode, 200);
});

test('effective certificate: which level wins for a hostname and why', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const effective = async (hostname: string) => {
    const res = await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/${hostname}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json().result;
  };
  const patch = (id: string, value: string) => h.call('PATCH', `/zones/${zoneId}/settings/${id}`, { body: { value } });

  let e = await effective('app.example.com');
  assert.equal(e.level, 'none');
  assert.equal(e.reason, 'no_aop_enabled');
  assert.equal(e.certificate, null);
  assert.equal(e.proxied, false);
  assert.equal(e.ssl_mode, 'full');

  await h.call('POST', `/zones/${zoneId}/dns_records`, { body: { type: 'A', name: '*.example.com', content: '127.0.0.1' } });
  await patch('tls_client_auth', 'on');
  e = await effective('app.example.com');
  const globalCert = new X509Certificate((await h.store.getPki())!.globalCertPem);
  assert.equal(e.level, 'global');
  assert.equal(e.reason, 'global_tls_client_auth_on');
  assert.equal(e.proxied, true, 'covered by the wildcard record');
  assert.equal(e.certificate.id, 'global');
  assert.equal(e.certificate.fingerprint_sha256, globalCert.fingerprint256.replace(/:/g, '').toLowerCase());
  assert.equal(e.certificate.expires_on, globalCert.validToDate.toISOString());

  await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { body: { enabled: true } });
  assert.equal((await effective('app.example.com')).reason, 'zone_level_enabled_no_certificate');
  const zc = (await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth`, { body: { certificate: f.leaf.certificate, private_key: f.leaf.privateKey } })).json().result;
  e = await effective('app.example.com');
  assert.equal(e.level, 'zone');
  assert.equal(e.certificate.id, zc.id);
  assert.equal(e.certificate.fingerprint_sha256, zc.fingerprint_sha256);
  assert.equal(e.certificate.status, 'pending_deployment');
  await h.edgeApplied();
  assert.equal((await effective('app.example.com')).certificate.status, 'active');

  const hc = (await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`, { body: { certificate: f.other.certificate, private_key: f.other.privateKey } })).json().result;
  await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/hostnames`, { body: { config: [{ hostname: 'app.example.com', cert_id: hc.id, enabled: true }] } });
  e = await effective('App.Example.com');
  assert.equal(e.hostname, 'app.example.com');
  assert.equal(e.level, 'hostname');
  assert.equal(e.certificate.id, hc.id);
  assert.deepEqual(e.association, { cert_id: hc.id, enabled: true });
  assert.equal((await effective('api.example.com')).level, 'zone', 'other hostnames keep the zone certificate');

  await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/hostnames`, { body: { config: [{ hostname: 'app.example.com', cert_id: hc.id, enabled: false }] } });
  e = await effective('app.example.com');
  assert.equal(e.reason, 'hostname_association_disabled');
  assert.equal(e.level, 'global', 'the global toggle is independent');
  await patch('tls_client_auth', 'off');
  assert.equal((await effective('app.example.com')).level, 'none');

  await patch('ssl', 'flexible');
  e = await effective('api.example.com');
  assert.equal(e.level, 'none');
  assert.equal(e.reason, 'ssl_mode_below_full');
  assert.match(e.explanation, /"flexible"/);

  const outside = await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/example.org`);
  assert.equal(outside.statusCode, 400);
});

test('zone certificate: the newest upload is the zone certificate; no limit on zone-level uploads', { skip }, async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { body: { enabled: true } });
  const ca = await createCa({ commonName: 'Rotation CA', keyType: 'p256', days: 2 });
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const pair = await issueCertificate({ ca, commonName: `z${i}`, usage: 'client', keyType: 'p256', days: 2 });
    const res = await h.call('POST', `/zones/${zoneId}/origin_tls_client_auth`, { body: { certificate: pair.certPem, private_key: pair.keyPem } });
    assert.equal(res.statusCode, 200, res.body);
    ids.push(res.json().result.id);
  }
  const listed = (await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth`)).json().result.map((c: { id: string }) => c.id);
  assert.deepEqual(listed, [...ids].reverse(), 'newest first');
  const e = (await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/www.example.com`)).json().result;
  assert.equal(e.certificate.id, ids.at(-1));
});
