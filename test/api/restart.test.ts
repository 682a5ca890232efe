// The store is a file under the data dir: closing and reopening store and server keeps zones,
// records, settings, certificates, associations, tokens, the admin token and the PKI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { createToken, createZone, startApi } from './harness.ts';

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';

test('a restart on the same data dir keeps everything', { skip }, async () => {
  const f = await certFixtures();
  const first = await startApi();
  const zoneId = await createZone(first, 'example.com');
  const record = (await first.call('POST', `/zones/${zoneId}/dns_records`, { body: { type: 'A', name: 'app', content: '127.0.0.1', origin_https_port: 8443 } })).json().result;
  await first.call('PATCH', `/zones/${zoneId}/settings/ssl`, { body: { value: 'strict' } });
  await first.call('PATCH', `/zones/${zoneId}/settings/tls_client_auth`, { body: { value: 'on' } });
  await first.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { body: { enabled: true } });
  const zoneCert = (await first.call('POST', `/zones/${zoneId}/origin_tls_client_auth`, { body: { certificate: f.leaf.certificate, private_key: f.leaf.privateKey } })).json().result;
  const hostCert = (await first.call('POST', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates`, { body: { certificate: f.other.certificate, private_key: f.other.privateKey } })).json().result;
  await first.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/hostnames`, { body: { config: [{ hostname: 'app.example.com', cert_id: hostCert.id, enabled: true }] } });
  const reader = await createToken(first, { name: 'reader', zones: [zoneId] });
  const caPem = (await first.call('GET', '/ssl/static/authenticated_origin_pull_ca.pem', { as: null })).body;
  const adminToken = first.token;
  await first.close({ keep: true });

  const again = await startApi({ dir: first.dir });
  try {
    assert.equal(again.token, adminToken, 'the admin token survives');
    const get = async (url: string, as?: string) => {
      const res = await again.call('GET', url, { as });
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
      return res.json().result;
    };
    assert.equal((await get(`/zones/${zoneId}`)).name, 'example.com');
    const rec = await get(`/zones/${zoneId}/dns_records/${record.id}`);
    assert.equal(rec.name, 'app.example.com');
    assert.equal(rec.origin_https_port, 8443);
    assert.equal((await get(`/zones/${zoneId}/settings/ssl`)).value, 'strict');
    assert.equal((await get(`/zones/${zoneId}/settings/tls_client_auth`)).value, 'on');
    assert.deepEqual(await get(`/zones/${zoneId}/origin_tls_client_auth/settings`), { enabled: true });
    assert.equal((await get(`/zones/${zoneId}/origin_tls_client_auth/${zoneCert.id}`)).serial_number, zoneCert.serial_number);
    assert.equal((await get(`/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates/${hostCert.id}`)).fingerprint_sha256, hostCert.fingerprint_sha256);
    assert.equal((await get(`/zones/${zoneId}/origin_tls_client_auth/hostnames/app.example.com`)).cert_id, hostCert.id);
    assert.equal((await get(`/zones/${zoneId}`, reader)).id, zoneId, 'created tokens survive');
    assert.equal((await again.call('GET', '/ssl/static/authenticated_origin_pull_ca.pem', { as: null })).body, caPem, 'the PKI is not recreated');
    const [stored] = await again.store.listCertificates(zoneId, 'zone');
    assert.match(again.secretBox.open(stored.privateKeySealed), /BEGIN PRIVATE KEY/, 'the secret key file is reused');
  } finally {
    await again.close();
  }
});
