// Cause: a name was checked only against the zone it was written in, and routing looked at every zone's records at once, so a token of t5a.test could create names under the zone sub.t5a.test and the parent's wildcards served every name under the child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startEdgeNode } from '../../src/sync/index.ts';
import { startHttpOrigin, type TestOrigin } from '../helpers/origin.ts';
import { Visitor } from '../edge/harness.ts';
import { createToken, createZone, startApi } from '../api/harness.ts';

test('a name belongs to the most specific zone: the parent zone cannot create names of a child zone', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const parent = await createZone(h, 't5a.test');
  const child = await createZone(h, 'sub.t5a.test');
  const token = await createToken(h, { name: 'parent only', permission: 'edit', zones: [parent] });
  const record = (zoneId: string, name: string, as?: string) =>
    h.call('POST', `/zones/${zoneId}/dns_records`, { body: { type: 'A', name, content: '127.0.0.1', proxied: true }, ...(as ? { as } : {}) });

  for (const name of ['shop.sub.t5a.test', '*.sub.t5a.test', 'sub.t5a.test', 'a.b.sub.t5a.test']) {
    for (const as of [token, h.token]) {
      const refused = await record(parent, name, as);
      assert.equal(refused.statusCode, 400, `${name}: ${refused.body}`);
      const [error] = refused.json().errors;
      assert.equal(error.code, 1144);
      assert.match(error.message, /belongs to the zone sub\.t5a\.test, which is more specific than t5a\.test/);
      assert.equal(error.source.pointer, '/name');
    }
  }
  // Renaming a parent record into the child is refused too.
  const www = (await record(parent, 'www.t5a.test', token)).json().result;
  assert.equal((await h.call('PATCH', `/zones/${parent}/dns_records/${www.id}`, { body: { name: 'www.sub.t5a.test' }, as: token })).statusCode, 400);
  // Associations and the effective answer follow the same rule.
  const put = await h.call('PUT', `/zones/${parent}/origin_tls_client_auth/hostnames`, { body: { config: [{ hostname: 'shop.sub.t5a.test', cert_id: 'x', enabled: true }] } });
  assert.equal(put.json().errors[0].code, 1144);
  assert.equal((await h.call('GET', `/zones/${parent}/origin_tls_client_auth/effective/shop.sub.t5a.test`)).json().errors[0].code, 1144);

  // The child's own records work, wildcard included; the parent keeps its other names.
  for (const name of ['shop.sub.t5a.test', '*.sub.t5a.test', 'sub.t5a.test']) assert.equal((await record(child, name)).statusCode, 200, name);
  assert.equal((await record(parent, '*.t5a.test', token)).statusCode, 200);

  // A zone whose names an enclosing zone's records already use is refused, naming them.
  assert.equal((await record(parent, 'x.other.t5a.test', token)).statusCode, 200);
  assert.equal((await record(parent, '*.other.t5a.test', token)).statusCode, 200);
  const taken = await h.call('POST', '/zones', { body: { name: 'other.t5a.test' } });
  assert.equal(taken.statusCode, 409, taken.body);
  assert.equal(taken.json().errors[0].code, 1103);
  assert.match(taken.json().errors[0].message, /records of the zone t5a\.test use its names \(\*\.other\.t5a\.test, x\.other\.t5a\.test\)/);
  assert.equal((await h.call('GET', '/zones?name=other.t5a.test')).json().result.length, 0, 'nothing stored');
});

test('routing picks the most specific zone: records written before the child zone existed do not serve its names', async (t) => {
  const h = await startApi();
  t.after(() => h.close());
  const origins: TestOrigin[] = [];
  const named = async (label: string) => {
    const o = await startHttpOrigin({ handler: (_req, res) => res.end(label) });
    origins.push(o);
    return o;
  };
  const parentOrigin = await named('parent');
  const childOrigin = await named('child');
  t.after(() => Promise.all(origins.map((o) => o.close())));
  const config = loadConfig({ env: {}, flags: { httpListen: '127.0.0.1:0', httpsListen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', heartbeatIntervalMs: 100 } });
  const node = await startEdgeNode({ store: h.store, secretBox: h.secretBox, config, logger: pino({ level: 'silent' }), nodeName: 'nested' });
  t.after(() => node.destroy());
  const visitor = new Visitor();
  t.after(() => visitor.close());
  const get = async (host: string) => {
    const res = await visitor.get(node.addresses.http!.port, host);
    return res.status === 200 ? res.text : res.status;
  };
  const settle = async () => {
    const version = await h.store.currentVersion();
    while (node.appliedVersion < version) await new Promise((r) => setTimeout(r, 10));
  };

  // Written straight to the store, as records made before the child zone was created are.
  const account = await h.store.ensureDefaultAccount();
  const record = (zoneId: string, name: string, port: number) =>
    h.store.createDnsRecord({ zoneId, name, type: 'A', content: '127.0.0.1', proxied: true, ttl: 1, originHttpPort: port, originHttpsPort: 443, comment: null });
  const parent = await h.store.createZone({ accountId: account.id, name: 't5a.test' });
  await h.store.updateZoneSettings(parent.id, { sslMode: 'off' });
  await record(parent.id, '*.t5a.test', parentOrigin.port);
  await record(parent.id, '*.sub.t5a.test', parentOrigin.port);
  await record(parent.id, 'shop.sub.t5a.test', parentOrigin.port);
  await settle();
  assert.equal(await get('other.sub.t5a.test'), 'parent', 'no child zone yet: the parent owns the names');
  assert.equal(await get('shop.sub.t5a.test'), 'parent');

  const child = await h.store.createZone({ accountId: account.id, name: 'sub.t5a.test' });
  await h.store.updateZoneSettings(child.id, { sslMode: 'off' });
  await record(child.id, 'www.sub.t5a.test', childOrigin.port);
  await settle();
  assert.equal(await get('www.sub.t5a.test'), 'child');
  for (const host of ['other.sub.t5a.test', 'shop.sub.t5a.test', 'sub.t5a.test', 'a.b.sub.t5a.test']) {
    assert.equal(await get(host), 404, `${host}: the child zone has no record for it, and the parent's do not apply`);
  }
  assert.equal(await get('x.t5a.test'), 'parent', "the parent's wildcard still serves its own names");

  await h.store.deleteZone(child.id);
  await settle();
  assert.equal(await get('other.sub.t5a.test'), 'parent', 'the child zone gone, the parent owns the names again');
  assert.equal(await get('shop.sub.t5a.test'), 'parent');
});
