// Zones, proxied hostnames (DNS records with origin ports) and zone settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createZone, startApi, type Harness } from './harness.ts';

async function expectError(h: Harness, method: string, url: string, body: unknown, status: number, code: number, message: RegExp) {
  const res = await h.call(method, url, { body });
  assert.equal(res.statusCode, status, `${method} ${url} ${JSON.stringify(body)}: ${res.body.slice(0, 300)}`);
  assert.equal(res.json().errors[0].code, code, res.body);
  assert.match(res.json().errors[0].message, message);
  return res;
}

test('zones: create, normalize, refuse bad and duplicate names, filter and page', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const created = await h.call('POST', '/zones', { body: { name: 'Example.COM.', type: 'full', jump_start: false } });
  assert.equal(created.statusCode, 200);
  const zone = created.json().result;
  assert.equal(zone.name, 'example.com');
  assert.match(zone.id, /^[0-9a-f]{32}$/);
  assert.equal(zone.status, 'active');
  assert.equal(zone.account.name.length > 0, true);

  await expectError(h, 'POST', '/zones', { name: 'example.com' }, 409, 1061, /already exists/);
  await expectError(h, 'POST', '/zones', { name: 'not a domain' }, 400, 1102, /Invalid zone name/);
  await expectError(h, 'POST', '/zones', { name: 'localhost' }, 400, 1102, /Invalid zone name/);
  await expectError(h, 'POST', '/zones', { name: 'x.example', account: { id: 'nope' } }, 404, 1100, /Account not found/);
  await expectError(h, 'POST', '/zones', { name: 7 }, 400, 1004, /name must be string/);
  const dup = await h.call('POST', '/zones', { body: { name: 'example.com' } });
  assert.equal(dup.headers['x-should-retry'], 'false');

  await createZone(h, 'b.example');
  await createZone(h, 'c.example');
  assert.deepEqual((await h.call('GET', '/zones?name=EXAMPLE.com')).json().result.map((z: { id: string }) => z.id), [zone.id]);
  const page2 = (await h.call('GET', '/zones?per_page=2&page=2')).json();
  assert.equal(page2.result.length, 1);
  assert.deepEqual(page2.result_info, { page: 2, per_page: 2, count: 1, total_count: 3, total_pages: 2 });
  assert.deepEqual((await h.call('GET', '/zones?per_page=2&page=3')).json().result, []);
  await expectError(h, 'GET', '/zones?page=first', undefined, 400, 1004, /query parameter page must match pattern/);

  assert.equal((await h.call('DELETE', `/zones/${zone.id}`)).statusCode, 200);
  await expectError(h, 'GET', `/zones/${zone.id}`, undefined, 404, 1101, /Zone not found/);
  await expectError(h, 'DELETE', `/zones/${zone.id}`, undefined, 404, 1101, /Zone not found/);
});

test('DNS records: names in the zone, wildcards, origin ports, content per type', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const base = `/zones/${zoneId}/dns_records`;
  const create = async (body: object) => {
    const res = await h.call('POST', base, { body });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().result;
  };

  const www = await create({ type: 'A', name: 'www', content: '192.0.2.10' });
  assert.equal(www.name, 'www.example.com');
  assert.equal(www.proxied, true, 'originpull records default to proxied');
  assert.equal(www.origin_http_port, 80);
  assert.equal(www.origin_https_port, 443);
  assert.equal(www.zone_name, 'example.com');
  assert.equal(www.ttl, 1);
  const apex = await create({ type: 'AAAA', name: '@', content: '2001:DB8::1', proxied: true, origin_http_port: 8080, origin_https_port: 8443, comment: 'apex' });
  assert.equal(apex.name, 'example.com');
  assert.equal(apex.content, '2001:db8::1');
  assert.equal(apex.origin_http_port, 8080);
  assert.equal(apex.origin_https_port, 8443);
  assert.equal(apex.comment, 'apex');
  assert.equal((await create({ type: 'CNAME', name: '*', content: 'localhost' })).name, '*.example.com');
  assert.equal((await create({ type: 'cname', name: 'App.Example.com', content: 'origin.internal.example.net.' })).content, 'origin.internal.example.net');
  assert.equal((await create({ type: 'A', name: '*.dev.example.com', content: '127.0.0.1' })).name, '*.dev.example.com');

  await expectError(h, 'POST', base, { type: 'A', name: 'x.other.com', content: '192.0.2.1' }, 400, 1142, /does not belong to zone example\.com/);
  await expectError(h, 'POST', base, { type: 'A', name: 'a.*.example.com', content: '192.0.2.1' }, 400, 1142, /Invalid hostname/);
  await expectError(h, 'POST', base, { type: 'A', name: 'v6', content: '2001:db8::1' }, 400, 1111, /IPv4/);
  await expectError(h, 'POST', base, { type: 'AAAA', name: 'v4', content: '192.0.2.1' }, 400, 1111, /IPv6/);
  await expectError(h, 'POST', base, { type: 'CNAME', name: 'loop', content: 'loop.example.com' }, 400, 1111, /itself/);
  await expectError(h, 'POST', base, { type: 'CNAME', name: 'bad', content: 'not a host' }, 400, 1111, /host name/);
  await expectError(h, 'POST', base, { type: 'MX', name: 'mail', content: 'mx.example.com' }, 400, 1111, /A, AAAA and CNAME/);
  await expectError(h, 'POST', base, { type: 'A', name: 'p', content: '192.0.2.1', origin_https_port: 0 }, 400, 1004, /origin_https_port must be >= 1/);
  await expectError(h, 'POST', base, { type: 'A', name: 'p', content: '192.0.2.1', origin_http_port: '80' }, 400, 1004, /origin_http_port must be integer/);
  await expectError(h, 'POST', base, { type: 'A', name: 'p', content: '192.0.2.1', ttl: 5 }, 400, 1111, /ttl/);
  await expectError(h, 'POST', base, { type: 'A', content: '192.0.2.1' }, 400, 1004, /name is required/);
  const dup = await expectError(h, 'POST', base, { type: 'A', name: 'www.example.com', content: '192.0.2.11' }, 409, 81053, /already exists/);
  assert.equal(dup.headers['x-should-retry'], 'false');

  const byName = (await h.call('GET', `${base}?name=www.example.com`)).json();
  assert.deepEqual(byName.result.map((r: { id: string }) => r.id), [www.id]);
  assert.equal((await h.call('GET', `${base}?type=AAAA`)).json().result.length, 1);
  assert.equal((await h.call('GET', base)).json().result.length, 5);

  const patched = await h.call('PATCH', `${base}/${www.id}`, { body: { content: '192.0.2.20', origin_https_port: 9443 } });
  assert.equal(patched.statusCode, 200);
  assert.equal(patched.json().result.content, '192.0.2.20');
  assert.equal(patched.json().result.origin_https_port, 9443);
  assert.equal(patched.json().result.origin_http_port, 80);
  await expectError(h, 'PATCH', `${base}/${www.id}`, { type: 'AAAA' }, 400, 1111, /IPv6/);
  const put = await h.call('PUT', `${base}/${www.id}`, { body: { type: 'CNAME', name: 'www', content: 'backend.example.net' } });
  assert.equal(put.statusCode, 200);
  assert.equal(put.json().result.type, 'CNAME');
  assert.equal(put.json().result.origin_https_port, 443, 'PUT replaces the record');

  assert.deepEqual((await h.call('DELETE', `${base}/${www.id}`)).json().result, { id: www.id });
  await expectError(h, 'GET', `${base}/${www.id}`, undefined, 404, 81044, /Record does not exist/);
});

test('zone settings: ssl and tls_client_auth, listed, read and changed; bad ids and values named', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await createZone(h, 'example.com');
  const base = `/zones/${zoneId}/settings`;
  const all = (await h.call('GET', base)).json().result;
  assert.deepEqual(all.slice(0, 2).map((s: { id: string; value: string }) => [s.id, s.value]), [['ssl', 'full'], ['tls_client_auth', 'off']]);

  for (const mode of ['off', 'flexible', 'full', 'strict']) {
    const res = await h.call('PATCH', `${base}/ssl`, { body: { id: 'ssl', value: mode } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().result.value, mode);
    assert.equal(res.json().result.editable, true);
    assert.ok(Date.parse(res.json().result.modified_on));
  }
  assert.equal((await h.call('PATCH', `${base}/tls_client_auth`, { body: { value: 'on' } })).json().result.value, 'on');
  assert.equal((await h.call('GET', `${base}/tls_client_auth`)).json().result.value, 'on');
  assert.equal((await h.store.getZone(zoneId))?.tlsClientAuth, 'on');

  await expectError(h, 'GET', `${base}/rocket_loader`, undefined, 400, 1120, /supported settings are ssl, tls_client_auth, always_use_https/);
  await expectError(h, 'PATCH', `${base}/ssl`, { value: 'origin_pull' }, 400, 1121, /allowed values are off, flexible, full, strict/);
  await expectError(h, 'PATCH', `${base}/tls_client_auth`, { value: true }, 400, 1121, /allowed values are on, off/);
  await expectError(h, 'PATCH', `${base}/ssl`, {}, 400, 1004, /value is required/);

  // Zone-level AOP enablement is a separate switch.
  const aop = `/zones/${zoneId}/origin_tls_client_auth/settings`;
  assert.deepEqual((await h.call('GET', aop)).json().result, { enabled: false });
  assert.deepEqual((await h.call('PUT', aop, { body: { enabled: true } })).json().result, { enabled: true });
  assert.equal((await h.call('GET', `${base}/tls_client_auth`)).json().result.value, 'on');
  await expectError(h, 'PUT', aop, { enabled: 'yes' }, 400, 1004, /enabled must be boolean/);
});
