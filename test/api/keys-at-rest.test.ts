// Private keys never leave: not in any API answer, not in the database file (nor its WAL), only
// sealed. The grep looks for every base64 line of each key and for PEM key headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { createZone, startApi } from './harness.ts';

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';

/** Distinctive lines of a PEM key body (the short last line may be too generic to search for). */
function keyLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
}

test('private keys appear in no response and not in the database file', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const uploads = [f.leaf, f.rsaPkcs1, f.ecSec1WithParams, f.ed25519];
  const bodies: string[] = [];
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await h.call(method, url, { body });
    assert.equal(res.statusCode, 200, `${method} ${url}: ${res.body.slice(0, 200)}`);
    bodies.push(res.body);
    return res.json().result;
  };

  const zoneCert = await call('POST', `/zones/${zoneId}/origin_tls_client_auth`, { certificate: f.leaf.certificate, private_key: f.leaf.privateKey });
  const hostCerts = [];
  for (const u of uploads.slice(1)) hostCerts.push(await call('POST', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`, { certificate: u.certificate, private_key: u.privateKey }));
  await call('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { enabled: true });
  await call('PUT', `/zones/${zoneId}/origin_tls_client_auth/hostnames`, { config: [{ hostname: 'app.example.com', cert_id: hostCerts[0].id, enabled: true }] });
  await h.edgeApplied();
  await call('GET', `/zones/${zoneId}/origin_tls_client_auth`);
  await call('GET', `/zones/${zoneId}/origin_tls_client_auth/${zoneCert.id}`);
  await call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`);
  for (const c of hostCerts) await call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates/${c.id}`);
  await call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames`);
  await call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/app.example.com`);
  await call('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/app.example.com`);
  await call('GET', `/zones/${zoneId}/origin_tls_client_auth/effective/other.example.com`);
  await call('DELETE', `/zones/${zoneId}/origin_tls_client_auth/${zoneCert.id}`);
  bodies.push((await h.call('GET', '/openapi.json', { as: null })).body);

  // The installation's own keys too.
  const pki = (await h.store.getPki())!;
  const installationKeys = [pki.originPullCaKeySealed, pki.globalKeySealed, pki.edgeCaKeySealed].map((s) => h.secretBox.open(s));
  const allKeys = [...uploads.map((u) => u.privateKey), ...installationKeys];
  // An EC key's last line holds only its public point, which its certificate carries too.
  const publicPems = [...uploads.map((u) => u.certificate), pki.originPullCaPem, pki.globalCertPem, pki.edgeCaPem].join('\n');
  const lines = allKeys.flatMap(keyLines).filter((l) => !publicPems.includes(l));
  assert.ok(lines.length > 20);

  const answers = bodies.join('\n');
  assert.doesNotMatch(answers, /PRIVATE KEY-----/);
  assert.doesNotMatch(answers, /private_key"\s*:\s*"/, 'no private_key field in any answer');
  for (const line of lines) assert.ok(!answers.includes(line), 'a response holds key material');

  // Stored sealed: the store row opens to the normalized PKCS#8 key.
  const [stored] = await h.store.listCertificates(zoneId, 'zone');
  assert.match(stored.privateKeySealed, /^v1:/);
  assert.match(h.secretBox.open(stored.privateKeySealed), /^-----BEGIN PRIVATE KEY-----/);

  // Read while open: the database file plus its WAL hold everything committed.
  const files = readdirSync(h.dir).filter((n) => n.startsWith('originpull.db'));
  assert.ok(files.includes('originpull.db'));
  const bytes = Buffer.concat(files.map((n) => join(h.dir, n)).filter(existsSync).map((p) => readFileSync(p)));
  assert.ok(bytes.includes(stored.privateKeySealed), 'the grep reads the right bytes');
  assert.equal(bytes.includes('PRIVATE KEY'), false, 'no PEM key header in the database');
  for (const line of lines) assert.equal(bytes.includes(line), false, `key material in the database file: ${line} of key ${allKeys.findIndex((k) => k.includes(line))}`);
});
