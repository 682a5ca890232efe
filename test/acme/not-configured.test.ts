// With no ACME directory configured nothing contacts a CA: the orderer still keeps the universal
// packs in line with the records and the setting, every pack says "ACME not configured", the
// effective certificate is the edge-CA fallback, and the SDK's calls get Cloudflare's shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';
import { startAcmeOrderer } from '../../src/acme/index.ts';
import type { Store } from '../../src/store/index.ts';
import { startApi } from '../api/harness.ts';
import { eventually } from './harness.ts';

test('ACME not configured: packs are listed with the reason, none is ordered, the fallback serves', async (t) => {
  const h = await startApi({ listen: true });
  t.after(() => h.close());
  assert.equal(h.config.acme, null);
  // Counts every call that would reach an ACME account (and so a CA).
  const accountCalls: string[] = [];
  const store = new Proxy(h.store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && /AcmeAccount|AcmeChallenge|CertificatePackCertificate/.test(prop)) accountCalls.push(prop);
      return value.bind(target);
    },
  }) as Store;
  const orderer = startAcmeOrderer({ store, secretBox: h.secretBox, config: h.config, intervalMs: 100 });
  t.after(() => orderer.close());
  await h.edgeApplied();
  const cf = new Cloudflare({ apiToken: h.token, baseURL: h.baseURL, maxRetries: 0 });
  const [account] = (await cf.accounts.list()).result;
  const zone_id = (await cf.zones.create({ account: { id: account.id }, name: 'quiet.test' })).id;
  const www = await cf.dns.records.create({ zone_id, type: 'A', name: 'www.quiet.test', content: '127.0.0.1', proxied: true, ttl: 1 });
  await cf.dns.records.create({ zone_id, type: 'A', name: '*.quiet.test', content: '127.0.0.1', proxied: true, ttl: 1 });
  await cf.dns.records.create({ zone_id, type: 'A', name: 'direct.quiet.test', content: '127.0.0.1', proxied: false, ttl: 1 });

  const packs = await eventually('the universal pack', async () => {
    const list = (await cf.ssl.certificatePacks.list({ zone_id })).result;
    return list.length > 0 ? list : undefined;
  }, 10_000);
  await new Promise((r) => setTimeout(r, 500)); // a few more rounds
  const again = (await cf.ssl.certificatePacks.list({ zone_id })).result;
  assert.deepEqual(again.map((p) => p.hosts), [['www.quiet.test']], 'one pack per proxied exact name: not the wildcard, not the DNS-only record');
  const pack = again[0];
  assert.equal(pack.id, packs[0].id);
  assert.equal(pack.type, 'universal');
  assert.equal(pack.status, 'initializing');
  assert.deepEqual(pack.certificates, []);
  assert.match(pack.validation_errors![0].message!, /^ACME not configured: set an ACME directory/);
  assert.deepEqual(accountCalls, [], 'no account, challenge or certificate was ever touched');

  const verification = await cf.ssl.verification.get({ zone_id });
  assert.equal(verification.length, 1);
  assert.equal(verification[0].certificate_status, 'initializing');
  assert.equal(verification[0].verification_status, false);

  const effective = (await cf.get(`/zones/${zone_id}/edge_certificates/effective/www.quiet.test`)) as { result: { source: string } };
  assert.equal(effective.result.source, 'edge_ca_fallback');

  // An advanced order is taken, and says the same.
  const ordered = await cf.ssl.certificatePacks.create({ zone_id, type: 'advanced', hosts: ['api.quiet.test', 'API.quiet.test'], validation_method: 'http', validity_days: 90, certificate_authority: 'lets_encrypt' });
  assert.deepEqual(ordered.hosts, ['api.quiet.test']);
  assert.match(ordered.validation_errors![0].message!, /ACME not configured/);
  for (const [body, pattern] of [
    [{ validation_method: 'txt' }, /validation_method txt is not supported/],
    [{ certificate_authority: 'google' }, /certificate_authority google is not available/],
    [{ validity_days: 7 }, /validity_days must be one of 14, 30, 90, 365/],
    [{ hosts: ['*.quiet.test'] }, /wildcard cannot be validated over HTTP-01/],
    [{ hosts: ['www.elsewhere.test'] }, /does not belong to zone quiet.test/],
  ] as const) {
    const order = { zone_id, type: 'advanced' as const, hosts: ['x.quiet.test'], validation_method: 'http' as const, validity_days: 90 as const, certificate_authority: 'lets_encrypt' as const, ...body };
    await assert.rejects(cf.ssl.certificatePacks.create(order as Parameters<typeof cf.ssl.certificatePacks.create>[0]), (err: Error & { status?: number }) => err.status === 400 && pattern.test(err.message));
  }
  await assert.rejects(cf.ssl.certificatePacks.delete(pack.id, { zone_id }), (err: Error & { status?: number }) => err.status === 400 && /turn Universal SSL off/.test(err.message));
  assert.deepEqual(await cf.ssl.certificatePacks.delete(ordered.id, { zone_id }), { id: ordered.id });
  await assert.rejects(cf.ssl.certificatePacks.get('00000000-0000-4000-8000-000000000000', { zone_id }), (err: Error & { status?: number }) => err.status === 404);

  // The record goes: so does its universal pack.
  await cf.dns.records.delete(www.id, { zone_id });
  await eventually('the pack of the removed record to go', async () => {
    await h.edgeApplied();
    const list = (await cf.ssl.certificatePacks.list({ zone_id })).result;
    return list.every((p) => p.type !== 'universal') ? true : undefined;
  }, 10_000);

  // Universal SSL off: no pack even for a new proxied record; on again: it comes.
  assert.deepEqual(await cf.ssl.universal.settings.edit({ zone_id, enabled: false }), { enabled: false });
  await cf.dns.records.create({ zone_id, type: 'A', name: 'shop.quiet.test', content: '127.0.0.1', proxied: true, ttl: 1 });
  await new Promise((r) => setTimeout(r, 500));
  assert.ok((await cf.ssl.certificatePacks.list({ zone_id })).result.every((p) => p.type !== 'universal'));
  await cf.ssl.universal.settings.edit({ zone_id, enabled: true });
  await eventually('the pack once Universal SSL is on again', async () => {
    const list = (await cf.ssl.certificatePacks.list({ zone_id })).result;
    return list.some((p) => p.type === 'universal' && p.hosts[0] === 'shop.quiet.test') ? true : undefined;
  }, 10_000);
  assert.deepEqual(accountCalls, []);
});
