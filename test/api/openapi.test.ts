// The OpenAPI document and the CA PEM are public; every failure is a JSON envelope with a 4xx
// status: unknown route 404 (7003), wrong method 405, bad JSON, wrong media type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createZone, startApi } from './harness.ts';

test('GET /client/v4/openapi.json documents the routes from the validating schemas', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const res = await h.call('GET', '/openapi.json', { as: null });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /application\/json/);
  const doc = res.json();
  assert.equal(doc.openapi, '3.0.3');
  assert.deepEqual(doc.servers, [{ url: '/client/v4' }]);
  for (const path of [
    '/zones',
    '/zones/{zone_id}',
    '/zones/{zone_id}/dns_records',
    '/zones/{zone_id}/settings/{setting_id}',
    '/zones/{zone_id}/origin_tls_client_auth',
    '/zones/{zone_id}/origin_tls_client_auth/settings',
    '/zones/{zone_id}/origin_tls_client_auth/{certificate_id}',
    '/zones/{zone_id}/origin_tls_client_auth/hostnames',
    '/zones/{zone_id}/origin_tls_client_auth/hostnames/{hostname}',
    '/zones/{zone_id}/origin_tls_client_auth/hostnames/certificates',
    '/zones/{zone_id}/origin_tls_client_auth/hostnames/certificates/{certificate_id}',
    '/zones/{zone_id}/origin_tls_client_auth/effective/{hostname}',
    '/user/tokens',
    '/user/tokens/verify',
    '/ssl/static/authenticated_origin_pull_ca.pem',
  ]) {
    assert.ok(doc.paths[path], `missing ${path}`);
  }
  // The request schema is the one that validates: required fields and types are there.
  const upload = doc.paths['/zones/{zone_id}/origin_tls_client_auth'].post;
  const body = upload.requestBody.content['application/json'].schema;
  assert.deepEqual(body.required.sort(), ['certificate', 'private_key']);
  assert.equal(body.properties.certificate.type, 'string');
  const put = doc.paths['/zones/{zone_id}/origin_tls_client_auth/hostnames'].put;
  assert.ok(put.requestBody.content['application/json'].schema.properties.config);
  assert.ok(upload.responses['200'].content['application/json'].schema.properties.result.properties.status);
  assert.ok(doc.components.securitySchemes.api_token);
});

test('the origin-pull CA PEM is served without auth at the root and under the prefix', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const pki = (await h.store.getPki())!;
  for (const url of ['/ssl/static/authenticated_origin_pull_ca.pem', '/client/v4/ssl/static/authenticated_origin_pull_ca.pem']) {
    const res = await h.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.headers['content-type'], 'application/x-pem-file');
    assert.equal(res.body, pki.originPullCaPem);
    const ca = new X509Certificate(res.body);
    assert.ok(ca.ca);
    assert.match(ca.subject, /CN=originpull origin-pull CA/);
    assert.ok(new X509Certificate(pki.globalCertPem).checkIssued(ca), 'the global client certificate is signed by it');
  }
});

test('errors are JSON envelopes: 404 route, 405 method, malformed JSON, media type, unknown ids', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const check = async (res: Awaited<ReturnType<typeof h.call>>, status: number, code: number, message: RegExp) => {
    assert.equal(res.statusCode, status, res.body);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['errors', 'messages', 'result', 'success']);
    assert.equal(body.success, false);
    assert.equal(body.result, null);
    assert.equal(body.errors[0].code, code);
    assert.match(body.errors[0].message, message);
    return res;
  };
  await check(await h.call('GET', '/nothing/here'), 404, 7003, /No route for the URI/);
  await check(await h.call('GET', '/nothing/here', { as: null }), 404, 7003, /No route for the URI/);
  const wrong = await check(await h.call('POST', `/zones/${zoneId}/settings/ssl`, { body: { value: 'full' } }), 405, 7001, /POST is not allowed/);
  assert.match(wrong.headers.allow as string, /PATCH/);
  await check(await h.call('PUT', '/zones', { body: {} }), 405, 7001, /GET|POST/);
  const raw = (payload: string, type: string) =>
    h.app.inject({ method: 'PATCH', url: `/client/v4/zones/${zoneId}/settings/ssl`, headers: { authorization: `Bearer ${h.token}`, 'content-type': type }, payload });
  await check(await raw('{"value":', 'application/json'), 400, 6007, /Malformed JSON/);
  await check(await raw('value=full', 'application/x-www-form-urlencoded'), 415, 1015, /application\/json/);
  await check(await h.call('GET', '/zones/0123456789abcdef0123456789abcdef'), 404, 1101, /Zone not found/);
  await check(await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/2458ce5a-0c35-4c7f-82c7-8e9487d3ff60`), 404, 1130, /No zone-level certificate/);
  await check(await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/certificates/nope`), 404, 1130, /No hostname certificate/);
  await check(await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/app.example.com`), 404, 1140, /No certificate is associated with app\.example\.com/);
  await check(await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/app.other.com`), 400, 1142, /does not belong to zone example\.com/);
  await check(await h.call('GET', `/zones/${zoneId}/dns_records/nope`), 404, 81044, /Record does not exist/);
  await check(await h.call('GET', `/accounts/nope`), 404, 1100, /Account not found/);
  // A DELETE with an empty JSON body (2024 spec) or none (SDK) both work.
  const del = await h.app.inject({ method: 'DELETE', url: `/client/v4/zones/${zoneId}`, headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, payload: '' });
  assert.equal(del.statusCode, 200, del.body);
  assert.deepEqual(del.json().result, { id: zoneId });
});
