// The edge zone settings and the origin override fields at the API border: every value refused
// with a 400 that names what is wrong, stored nothing and bumped nothing; security_header's
// object shape; origin_sni / origin_host_header validated, normalized, cleared with null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from './harness.ts';

async function expectError(h: Harness, method: string, url: string, body: unknown, code: number, message: RegExp) {
  const res = await h.call(method, url, { body });
  assert.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(body)}: ${res.body.slice(0, 300)}`);
  assert.equal(res.json().errors[0].code, code, res.body);
  assert.match(res.json().errors[0].message, message);
}

async function zoneOf(h: Harness, name: string): Promise<string> {
  const res = await h.call('POST', '/zones', { body: { name } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().result.id;
}

test('edge settings: defaults with no modified_on, each value refused with its reason, nothing stored on a refusal', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await zoneOf(h, 'example.com');
  const base = `/zones/${zoneId}/settings`;
  const listed = (await h.call('GET', base)).json().result as { id: string; value: unknown; modified_on: string | null; editable: boolean }[];
  const byId = new Map(listed.map((s) => [s.id, s]));
  for (const [id, value] of [['always_use_https', 'off'], ['min_tls_version', '1.2'], ['tls_1_3', 'on'], ['http2', 'on'], ['websockets', 'on']]) {
    assert.equal(byId.get(id)?.value, value, id);
    assert.equal(byId.get(id)?.modified_on, null, `${id} was never changed`);
    assert.equal(byId.get(id)?.editable, true);
  }

  const version = await h.store.currentVersion();
  await expectError(h, 'PATCH', `${base}/always_use_https`, { value: true }, 1121, /allowed values are on, off/);
  await expectError(h, 'PATCH', `${base}/min_tls_version`, { value: '1.1' }, 1121, /cannot serve visitors from TLS 1\.1; use 1\.2 or 1\.3/);
  await expectError(h, 'PATCH', `${base}/min_tls_version`, { value: 1.2 }, 1121, /allowed values are 1\.0, 1\.1, 1\.2, 1\.3/);
  await expectError(h, 'PATCH', `${base}/tls_1_3`, { value: 'maybe' }, 1121, /allowed values are on, off, zrt/);
  await expectError(h, 'PATCH', `${base}/http2`, { value: 'ON' }, 1121, /allowed values are on, off/);
  await expectError(h, 'PATCH', `${base}/websockets`, { value: null }, 1121, /allowed values are on, off/);
  assert.equal(await h.store.currentVersion(), version, 'refused writes bump nothing');

  // The pair that leaves no TLS version is refused from either side.
  assert.equal((await h.call('PATCH', `${base}/min_tls_version`, { body: { value: '1.3' } })).statusCode, 200);
  await expectError(h, 'PATCH', `${base}/tls_1_3`, { value: 'off' }, 1122, /min_tls_version 1\.3 needs tls_1_3 on/);
  assert.equal((await h.call('GET', `${base}/tls_1_3`)).json().result.value, 'on', 'the refused write stored nothing');
  assert.equal((await h.call('PATCH', `${base}/min_tls_version`, { body: { value: '1.2' } })).statusCode, 200);
  assert.equal((await h.call('PATCH', `${base}/tls_1_3`, { body: { value: 'off' } })).statusCode, 200);
  await expectError(h, 'PATCH', `${base}/min_tls_version`, { value: '1.3' }, 1122, /min_tls_version 1\.3 needs tls_1_3 on/);
  const changed = (await h.call('GET', `${base}/tls_1_3`)).json().result;
  assert.ok(Date.parse(changed.modified_on), 'a changed setting has its time');
});

test('security_header: Cloudflare shape in and out, partial changes, unknown fields and bad values named', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await zoneOf(h, 'example.com');
  const url = `/zones/${zoneId}/settings/security_header`;
  const off = { strict_transport_security: { enabled: false, max_age: 0, include_subdomains: false, preload: false, nosniff: false } };
  assert.deepEqual((await h.call('GET', url)).json().result.value, off);

  await expectError(h, 'PATCH', url, { value: 'on' }, 1121, /expected \{"strict_transport_security"/);
  await expectError(h, 'PATCH', url, { value: { hsts: {} } }, 1121, /expected \{"strict_transport_security"/);
  await expectError(h, 'PATCH', url, { value: { strict_transport_security: { max_age: -1 } } }, 1121, /max_age must be a whole number of seconds from 0 to 63072000/);
  await expectError(h, 'PATCH', url, { value: { strict_transport_security: { max_age: 1.5 } } }, 1121, /max_age must be a whole number/);
  await expectError(h, 'PATCH', url, { value: { strict_transport_security: { enabled: 'yes' } } }, 1121, /strict_transport_security\.enabled must be true or false/);
  await expectError(h, 'PATCH', url, { value: { strict_transport_security: { maxAge: 10 } } }, 1121, /unknown field strict_transport_security\.maxAge/);
  await expectError(h, 'PATCH', url, { value: { strict_transport_security: { enabled: true, preload: true, max_age: 600 } } }, 1121, /preload needs max_age of at least 31536000/);
  assert.deepEqual((await h.call('GET', url)).json().result.value, off, 'nothing stored');

  const on = await h.call('PATCH', url, { body: { value: { strict_transport_security: { enabled: true, max_age: 86_400 } } } });
  assert.equal(on.statusCode, 200, on.body);
  assert.deepEqual(on.json().result.value, { strict_transport_security: { enabled: true, max_age: 86_400, include_subdomains: false, preload: false, nosniff: false } });
  const more = await h.call('PATCH', url, { body: { id: 'security_header', value: { strict_transport_security: { nosniff: true } } } });
  assert.deepEqual(more.json().result.value.strict_transport_security, { enabled: true, max_age: 86_400, include_subdomains: false, preload: false, nosniff: true });
  assert.deepEqual((await h.store.getZone(zoneId))!.edge.securityHeader, { enabled: true, maxAge: 86_400, includeSubdomains: false, preload: false, nosniff: true });
});

test('origin overrides on DNS records: validated, normalized, kept by unrelated patches, cleared with null', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const zoneId = await zoneOf(h, 'example.com');
  const base = `/zones/${zoneId}/dns_records`;
  const created = await h.call('POST', base, {
    body: { type: 'A', name: 'app', content: '192.0.2.1', origin_sni: 'Origin.Example.NET.', origin_host_header: 'Origin.example.net:8443' },
  });
  assert.equal(created.statusCode, 200, created.body);
  const record = created.json().result;
  assert.equal(record.origin_sni, 'origin.example.net');
  assert.equal(record.origin_host_header, 'origin.example.net:8443');
  const plain = (await h.call('POST', base, { body: { type: 'A', name: 'www', content: '192.0.2.1' } })).json().result;
  assert.equal(plain.origin_sni, null);
  assert.equal(plain.origin_host_header, null);

  const refusals: [string, unknown, RegExp][] = [
    ['origin_sni', '192.0.2.7', /origin_sni must be a host name, not an IP address/],
    ['origin_sni', '::1', /origin_sni must be a host name, not an IP address/],
    ['origin_sni', 'bad name.example', /origin_sni must be a host name such as origin\.example\.net/],
    ['origin_sni', '*.example.net', /origin_sni must be a host name/],
    ['origin_sni', '', /origin_sni must be a host name/],
    ['origin_host_header', 'origin.example.net:99999', /origin_host_header must be a host name with an optional port/],
    ['origin_host_header', 'a b', /origin_host_header must be a host name/],
    ['origin_host_header', 'host/path', /origin_host_header must be a host name/],
    ['origin_host_header', 'x\r\ninjected: 1', /origin_host_header must be a host name/],
  ];
  for (const [field, value, message] of refusals) {
    await expectError(h, 'PATCH', `${base}/${record.id}`, { [field]: value }, 1111, message);
  }
  assert.equal((await h.call('GET', `${base}/${record.id}`)).json().result.origin_sni, 'origin.example.net', 'refused patches stored nothing');

  for (const ok of ['10.0.0.1', '10.0.0.1:8080', '[2001:db8::1]:443', 'localhost']) {
    const res = await h.call('PATCH', `${base}/${record.id}`, { body: { origin_host_header: ok } });
    assert.equal(res.statusCode, 200, `${ok}: ${res.body}`);
    assert.equal(res.json().result.origin_host_header, ok);
  }
  const unrelated = (await h.call('PATCH', `${base}/${record.id}`, { body: { ttl: 300 } })).json().result;
  assert.equal(unrelated.origin_sni, 'origin.example.net', 'a patch of other fields keeps the overrides');
  const put = (await h.call('PUT', `${base}/${record.id}`, { body: { type: 'A', name: 'app', content: '192.0.2.2' } })).json().result;
  assert.equal(put.origin_sni, null, 'PUT replaces the record whole');
  const again = (await h.call('PATCH', `${base}/${record.id}`, { body: { origin_sni: 'origin.example.net' } })).json().result;
  assert.equal(again.origin_sni, 'origin.example.net');
  const cleared = (await h.call('PATCH', `${base}/${record.id}`, { body: { origin_sni: null } })).json().result;
  assert.equal(cleared.origin_sni, null);
});
