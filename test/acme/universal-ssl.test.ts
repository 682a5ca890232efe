// Universal SSL against a real ACME CA (Debian's Pebble, its DNS answering 127.0.0.1, its
// validation ports on the edge's listeners), driven through the `cloudflare` SDK: a proxied
// record gets a certificate validated over HTTP-01 by the edge, a TLS client trusting only
// Pebble's root verifies the edge's handshake for that name, the certificate is renewed at a
// third of its (short) lifetime left, and a validation the CA refuses shows the CA's error on the
// pack while the edge keeps serving the certificate it had.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { pebbleMissing } from '../helpers/pebble.ts';
import { eventually, startAcmeHarness, zoneWithRecords, type AcmeHarness } from './harness.ts';

const skip = pebbleMissing();
/** Pebble's certificates live this long here, so renewal (at a third left) comes within the test. */
const VALIDITY_S = 45;

interface Served {
  authorized: boolean;
  error: string | null;
  fingerprint: string;
}

/** A TLS handshake to the edge for `servername`, trusting `ca` only. */
function handshake(h: AcmeHarness, servername: string, ca: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: h.httpsPort, servername, ca, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate() as PeerCertificate;
      resolve({
        authorized: socket.authorized,
        error: socket.authorizationError ? String(socket.authorizationError) : null,
        fingerprint: peer.fingerprint256.replaceAll(':', '').toLowerCase(),
      });
      socket.end();
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timeout')));
  });
}

function httpsGet(h: AcmeHarness, host: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.httpsPort, servername: host, headers: { host }, path: '/', ca, rejectUnauthorized: true }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function packFor(h: AcmeHarness, zone_id: string, host: string) {
  const packs = await h.cf.ssl.certificatePacks.list({ zone_id });
  return packs.result.find((p) => p.hosts.includes(host));
}

test('Universal SSL over HTTP-01 with Pebble: issue, verified handshake, renewal, refused validation', { skip, timeout: 300_000 }, async (t) => {
  const h = await startAcmeHarness({ validitySeconds: VALIDITY_S });
  t.after(() => h.close());
  const root = await h.pebble.root();
  const zone_id = await zoneWithRecords(h, 'shop.test', ['www.shop.test']);

  assert.deepEqual(await h.cf.ssl.universal.settings.get({ zone_id }), { enabled: true }, 'Universal SSL is on by default');

  // ── ordered, validated by the edge, issued and deployed ──────────────────
  const active = await eventually('the universal pack to be active', async () => {
    const pack = await packFor(h, zone_id, 'www.shop.test');
    return pack?.status === 'active' ? pack : undefined;
  });
  assert.equal(active.type, 'universal');
  assert.deepEqual(active.hosts, ['www.shop.test']);
  assert.deepEqual(active.validation_errors, []);
  assert.equal(active.certificates.length, 1);
  const issuedFingerprint = (active.certificates[0] as { fingerprint_sha256?: string }).fingerprint_sha256!;
  assert.match(issuedFingerprint, /^[0-9a-f]{64}$/);
  assert.deepEqual((await h.cf.ssl.certificatePacks.get(active.id, { zone_id })).id, active.id);

  const served = await handshake(h, 'www.shop.test', root);
  assert.equal(served.error, null, 'a client trusting only Pebble\'s root verifies the edge');
  assert.ok(served.authorized);
  assert.equal(served.fingerprint, issuedFingerprint, 'the edge serves the pack\'s certificate');
  const page = await httpsGet(h, 'www.shop.test', root);
  assert.deepEqual(page, { status: 200, body: 'hello from the origin' });

  const verification = await h.cf.ssl.verification.get({ zone_id });
  const mine = verification.find((v) => v.cert_pack_uuid === active.id)!;
  assert.equal(mine.certificate_status, 'active');
  assert.equal(mine.verification_status, true);
  assert.equal(mine.validation_method, 'http');
  const perHost = (mine as unknown as { validation_records: { hostname: string; status: string }[] }).validation_records;
  assert.deepEqual(perHost.map((r) => [r.hostname, r.status]), [['www.shop.test', 'valid']]);

  const effective = (await h.cf.get(`/zones/${zone_id}/edge_certificates/effective/www.shop.test`)) as { result: { source: string; certificate: { id: string } } };
  assert.equal(effective.result.source, 'acme');
  assert.equal(effective.result.certificate.id, active.id);

  // ── a name whose validation the CA cannot complete ───────────────────────
  // Pebble's DNS sends it to 127.0.0.2, where no edge listens: the CA's connection is refused.
  await h.pebble.addA('bad.shop.test', '127.0.0.2');
  await h.cf.dns.records.create({ zone_id, type: 'A', name: 'bad.shop.test', content: '127.0.0.1', proxied: true, ttl: 1 });
  const refused = await eventually('the refused pack to show the CA\'s error', async () => {
    const pack = await packFor(h, zone_id, 'bad.shop.test');
    return pack?.status === 'validation_timed_out' ? pack : undefined;
  });
  assert.equal(refused.certificates.length, 0);
  const retryAt = Date.parse((refused as { next_attempt_on?: string }).next_attempt_on ?? '');
  assert.ok(retryAt > Date.now() - 5_000, 'the failure is retried later (backoff), not in a loop');
  const caError = refused.validation_errors![0].message!;
  assert.match(caError, /^bad\.shop\.test: /);
  assert.match(caError, /127\.0\.0\.2|connect|refused/i, `the CA's own words: ${caError}`);
  const restarted = await h.cf.ssl.certificatePacks.edit(refused.id, { zone_id });
  assert.equal((restarted as { next_attempt_on?: string | null }).next_attempt_on, null, 'PATCH restarts validation now, not after the backoff');
  const fallback = await handshake(h, 'bad.shop.test', root);
  assert.equal(fallback.authorized, false, 'without a certificate of its own the name gets the edge-CA fallback');

  // ── renewal at a third of the lifetime left ──────────────────────────────
  const cert = new X509Certificate(active.certificates.length ? (await h.store.getCertificatePack(zone_id, active.id))!.certificate!.certificatePem : '');
  const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  assert.ok(lifetime <= (VALIDITY_S + 1) * 1000, `Pebble issued for ${lifetime} ms`);
  const renewed = await eventually('the certificate to be renewed', async () => {
    const pack = await packFor(h, zone_id, 'www.shop.test');
    const fp = (pack?.certificates[0] as { fingerprint_sha256?: string } | undefined)?.fingerprint_sha256;
    return pack?.status === 'active' && fp !== undefined && fp !== issuedFingerprint ? { pack, fp } : undefined;
  });
  const stored = (await h.store.getCertificatePack(zone_id, active.id))!;
  assert.ok(stored.certificate!.notBefore >= Date.parse(cert.validFrom), 'a new certificate, not the old one');
  assert.ok(Date.now() < Date.parse(cert.validTo) + 5_000, 'renewed before the old one ran out (give or take the poll)');
  assert.equal((await handshake(h, 'www.shop.test', root)).fingerprint, renewed.fp, 'the edge switched to the renewed certificate');

  // ── a renewal the CA refuses keeps the certificate the edge serves ───────
  await h.pebble.addA('www.shop.test', '127.0.0.2');
  const failedRenewal = await eventually('the failed renewal to show on the pack', async () => {
    const pack = await packFor(h, zone_id, 'www.shop.test');
    return pack !== undefined && (pack.validation_errors ?? []).length > 0 ? pack : undefined;
  });
  assert.match(failedRenewal.validation_errors![0].message!, /^www\.shop\.test: /);
  assert.equal(failedRenewal.status, 'active', 'the pack still holds a valid certificate');
  const still = await handshake(h, 'www.shop.test', root);
  assert.equal(still.fingerprint, renewed.fp, 'the edge keeps serving the previous certificate');
  assert.ok(still.authorized);
});

test('an advanced pack validated over TLS-ALPN-01 on the edge\'s HTTPS listener', { skip, timeout: 180_000 }, async (t) => {
  const h = await startAcmeHarness();
  t.after(() => h.close());
  const root = await h.pebble.root();
  const zone_id = await zoneWithRecords(h, 'alpn.test', ['www.alpn.test', 'api.alpn.test']);
  // Universal SSL off: the only certificate the name can get is the one ordered here.
  assert.deepEqual(await h.cf.ssl.universal.settings.edit({ zone_id, enabled: false }), { enabled: false });
  const order = { zone_id, type: 'advanced' as const, hosts: ['www.alpn.test', 'api.alpn.test'], validation_method: 'tls-alpn', validity_days: 90 as const, certificate_authority: 'lets_encrypt' as const };
  const ordered = await h.cf.ssl.certificatePacks.create(order as unknown as Parameters<typeof h.cf.ssl.certificatePacks.create>[0]);
  assert.equal(ordered.status, 'initializing');
  assert.equal(ordered.type, 'advanced');
  const active = await eventually('the advanced pack to be active', async () => {
    const pack = await h.cf.ssl.certificatePacks.get(ordered.id, { zone_id });
    return pack.status === 'active' ? pack : undefined;
  });
  assert.equal(active.validation_method as string, 'tls-alpn');
  const packs = await h.cf.ssl.certificatePacks.list({ zone_id });
  assert.deepEqual(packs.result.map((p) => p.type), ['advanced'], 'no universal pack while Universal SSL is off');
  for (const name of ['www.alpn.test', 'api.alpn.test']) {
    const served = await handshake(h, name, root);
    assert.equal(served.error, null, `${name}: verified against Pebble's root`);
    assert.equal(served.fingerprint, (active.certificates[0] as { fingerprint_sha256?: string }).fingerprint_sha256, `${name}: one certificate for both names`);
  }
  // Once issued, an acme-tls/1 handshake for the name is refused: there is no challenge left.
  const refused = await new Promise<string>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: h.httpsPort, servername: 'www.alpn.test', ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false }, () => resolve('handshake'));
    s.on('error', (err) => resolve(err.message));
  });
  assert.match(refused, /no application protocol|alert number 120/i);
  assert.deepEqual(await h.cf.ssl.certificatePacks.delete(ordered.id, { zone_id }), { id: ordered.id });
});
