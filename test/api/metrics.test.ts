// The control plane's GET /metrics against a real API on SQLite: custom edge certificates uploaded
// through the API show as seconds to expiry labelled by zone and certificate id, only the
// soonest-to-expire within the series limit (the rest counted), a deleted one leaves; a scrape
// needs an account-wide token (read is enough), and the text parses as Prometheus exposition.
// Certificate packs holding a certificate get their own series (zone, pack id, type) under the
// same bound; a pack without one (ordered, no CA configured) has none; a deleted one leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { createToken, createZone, startApi } from './harness.ts';

const DAY = 86_400_000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition: every sample line, with `# HELP`/`# TYPE` checked to precede it. */
function parse(text: string): Sample[] {
  const typed = new Set<string>();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') typed.add(meta[2]);
      continue;
    }
    const m = /^([a-z_]+)(?:\{(.*)\})? (-?[0-9.e+]+|NaN)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    assert.ok(typed.has(m[1]), `${m[1]} has no # TYPE`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

test('GET /metrics: seconds to expiry per custom edge certificate, bounded, account tokens only', async (t) => {
  let skew = 0;
  const h = await startApi({ now: () => Date.now() + skew, metrics: { maxCertificateSeries: 2 } });
  t.after(() => h.close());
  const ca = await createCa({ commonName: 'Visitor Test CA', keyType: 'p256', days: 400 });
  const upload = async (zoneId: string, names: string[], days: number) => {
    const pair = await issueCertificate({ ca, commonName: names[0], usage: 'server', dnsNames: names, keyType: 'p256', days });
    const res = await h.call('POST', `/zones/${zoneId}/custom_certificates`, { body: { certificate: pair.certPem, private_key: pair.keyPem } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().result as { id: string; expires_on: string };
  };
  const scrape = async (token?: string | null) => h.call('GET', '/metrics', { as: token });

  const empty = await scrape();
  assert.equal(empty.statusCode, 200);
  const none = parse(empty.body);
  assert.deepEqual(none.filter((s) => s.name === 'originpull_custom_certificate_expiry_seconds'), []);
  assert.equal(none.find((s) => s.name === 'originpull_custom_certificates')?.value, 0);

  const a = await createZone(h, 'example.com');
  const b = await createZone(h, 'example.net');
  const late = await upload(a, ['www.example.com'], 90);
  const soon = await upload(a, ['*.example.com'], 20);
  const mid = await upload(b, ['example.net'], 40);

  skew += 10_000; // past the scrape cache
  const res = await scrape();
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const samples = parse(res.body);
  const expiry = samples.filter((s) => s.name === 'originpull_custom_certificate_expiry_seconds');
  assert.deepEqual(
    expiry.map((s) => s.labels).sort((x, y) => (x.cert_id < y.cert_id ? -1 : 1)),
    [
      { zone: 'example.com', cert_id: soon.id },
      { zone: 'example.net', cert_id: mid.id },
    ].sort((x, y) => (x.cert_id < y.cert_id ? -1 : 1)),
    'the two soonest to expire, within the limit of two series',
  );
  const now = Date.now() + skew;
  for (const [cert, sample] of [
    [soon, expiry.find((s) => s.labels.cert_id === soon.id)!],
    [mid, expiry.find((s) => s.labels.cert_id === mid.id)!],
  ] as const) {
    const expected = (Date.parse(cert.expires_on) - now) / 1000;
    assert.ok(Math.abs(sample.value - expected) < 120, `${sample.value} s is about ${expected} s`);
  }
  assert.ok(Math.abs(expiry.find((s) => s.labels.cert_id === soon.id)!.value - 20 * DAY / 1000) < 2 * DAY / 1000);
  assert.equal(samples.find((s) => s.name === 'originpull_custom_certificates')?.value, 3);
  assert.equal(samples.find((s) => s.name === 'originpull_custom_certificates_unlisted')?.value, 1);

  // Deleted: it leaves, and the next one moves into its series.
  assert.equal((await h.call('DELETE', `/zones/${a}/custom_certificates/${soon.id}`)).statusCode, 200);
  skew += 10_000;
  const after = parse((await scrape()).body).filter((s) => s.name === 'originpull_custom_certificate_expiry_seconds');
  assert.deepEqual(after.map((s) => s.labels.cert_id).sort(), [late.id, mid.id].sort());

  // Who may scrape: an account-wide token, even read-only; not a zone-scoped one, not anonymous.
  const reader = await createToken(h, { name: 'prometheus', permission: 'read' });
  assert.equal((await scrape(reader)).statusCode, 200);
  const scoped = await createToken(h, { name: 'zone', permission: 'read', zones: [a] });
  const refused = await scrape(scoped);
  assert.equal(refused.statusCode, 403);
  assert.match(refused.json().errors[0].message, /limited to specific zones/);
  assert.equal((await scrape(null)).statusCode, 401);
});

test('GET /metrics: seconds to expiry per certificate pack certificate, bounded like the custom ones', async (t) => {
  let skew = 0;
  const h = await startApi({ now: () => Date.now() + skew, metrics: { maxCertificateSeries: 2 } });
  t.after(() => h.close());
  const ca = await createCa({ commonName: 'Pack Metrics CA', keyType: 'p256', days: 400 });
  const zone = await createZone(h, 'example.org');
  const order = async (host: string) => {
    const res = await h.call('POST', `/zones/${zone}/ssl/certificate_packs/order`, {
      body: { type: 'advanced', hosts: [host], validation_method: 'http', validity_days: 90, certificate_authority: 'lets_encrypt' },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().result as { id: string };
  };
  /** What the orderer stores once the CA issued. */
  const issue = async (packId: string, host: string, days: number) => {
    const pair = await issueCertificate({ ca, commonName: host, usage: 'server', dnsNames: [host], keyType: 'p256', days });
    const x = new X509Certificate(pair.certPem);
    await h.store.storeCertificatePackCertificate(packId, {
      certificatePem: pair.certPem,
      privateKeySealed: h.secretBox.seal(pair.keyPem),
      issuer: x.issuer,
      serialNumber: x.serialNumber,
      signature: 'ECDSAWithSHA256',
      fingerprintSha256: x.fingerprint256.replaceAll(':', '').toLowerCase(),
      notBefore: Date.parse(x.validFrom),
      expiresOn: Date.parse(x.validTo),
      renewAt: Date.parse(x.validTo) - (days * DAY) / 3,
    });
    return Date.parse(x.validTo);
  };
  const packSamples = async () => {
    skew += 10_000; // past the scrape cache
    const res = await h.call('GET', '/metrics');
    assert.equal(res.statusCode, 200);
    return parse(res.body);
  };
  const pending = await order('pending.example.org');
  const a = await order('a.example.org');
  const b = await order('b.example.org');
  const c = await order('c.example.org');
  const aExpires = await issue(a.id, 'a.example.org', 60);
  await issue(b.id, 'b.example.org', 20);
  const cExpires = await issue(c.id, 'c.example.org', 30);

  let samples = await packSamples();
  const expiry = samples.filter((s) => s.name === 'originpull_certificate_pack_expiry_seconds');
  assert.deepEqual(
    expiry.map((s) => s.labels.pack_id).sort(),
    [b.id, c.id].sort(),
    'the two soonest to expire, within the limit; the pack without a certificate has no series',
  );
  assert.ok(expiry.every((s) => s.labels.zone === 'example.org' && s.labels.type === 'advanced'));
  const cSample = expiry.find((s) => s.labels.pack_id === c.id)!;
  assert.ok(Math.abs(cSample.value - (cExpires - Date.now() - skew) / 1000) < 120);
  assert.equal(samples.find((s) => s.name === 'originpull_certificate_packs_unlisted')?.value, 1);
  assert.ok(!expiry.some((s) => s.labels.pack_id === pending.id));

  assert.equal((await h.call('DELETE', `/zones/${zone}/ssl/certificate_packs/${b.id}`)).statusCode, 200);
  samples = await packSamples();
  const after = samples.filter((s) => s.name === 'originpull_certificate_pack_expiry_seconds');
  assert.deepEqual(after.map((s) => s.labels.pack_id).sort(), [a.id, c.id].sort());
  assert.ok(Math.abs(after.find((s) => s.labels.pack_id === a.id)!.value - (aExpires - Date.now() - skew) / 1000) < 120);
  assert.equal(samples.find((s) => s.name === 'originpull_certificate_packs_unlisted')?.value, 0);
});
