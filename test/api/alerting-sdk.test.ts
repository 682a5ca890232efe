// The official `cloudflare` SDK, unchanged, drives alerting v3 against the running API: webhook
// destinations and policies through create, list, get, update and delete, and available alerts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';
import { startReceiver } from '../notify/receiver.ts';
import { startApi } from './harness.ts';
// The receivers listen on loopback, which webhooks may reach only when allowed explicitly.
process.env.ORIGINPULL_WEBHOOK_ALLOW = 'loopback';

test('the cloudflare SDK manages webhook destinations and notification policies', async (t) => {
  const h = await startApi({ listen: true });
  const receiver = await startReceiver();
  t.after(async () => {
    await h.close();
    await receiver.close();
  });
  const cf = new Cloudflare({ apiToken: h.token, baseURL: h.baseURL, maxRetries: 0 });
  const [account] = (await cf.accounts.list()).result;
  const account_id = account.id;
  const zone = await cf.zones.create({ account: { id: account_id }, name: 'example.com' });

  // ── webhooks ─────────────────────────────────────────────────────────────
  const hooks = cf.alerting.destinations.webhooks;
  const created = await hooks.create({ account_id, name: 'ops', url: receiver.url, secret: 'hush' });
  assert.ok(created.id);
  assert.equal(receiver.received.at(-1)!.headers['cf-webhook-auth'], 'hush', 'the test message carried the secret');
  const listed = await hooks.list({ account_id });
  assert.deepEqual(listed.result.map((w) => [w.id, w.name, w.type, w.url]), [[created.id, 'ops', 'generic', receiver.url]]);
  const got = await hooks.get(created.id!, { account_id });
  assert.equal(got.name, 'ops');
  assert.ok(got.created_at && got.last_success);
  assert.equal((got as unknown as Record<string, unknown>).secret, undefined);
  const updated = await hooks.update(created.id!, { account_id, name: 'ops 2', url: receiver.url, secret: 'new' });
  assert.equal(updated.id, created.id);
  assert.equal((await hooks.get(created.id!, { account_id })).name, 'ops 2');
  await assert.rejects(hooks.create({ account_id, name: 'bad', url: 'not a url' }), (err: unknown) => {
    assert.ok(err instanceof Cloudflare.BadRequestError);
    assert.match(JSON.stringify(err.errors), /not a valid absolute URL/);
    return true;
  });

  // ── policies ─────────────────────────────────────────────────────────────
  const policies = cf.alerting.policies;
  const policy = await policies.create({
    account_id,
    name: 'AOP certificate expiry',
    alert_type: 'hostname_aop_custom_certificate_expiration_type',
    enabled: true,
    mechanisms: { webhooks: [{ id: created.id }] },
    filters: { zones: [zone.id] },
  });
  assert.ok(policy.id);
  const list = await policies.list({ account_id });
  assert.deepEqual(list.result.map((p) => p.id), [policy.id]);
  const p = await policies.get(policy.id!, { account_id });
  assert.equal(p.alert_type, 'hostname_aop_custom_certificate_expiration_type');
  assert.deepEqual(p.mechanisms, { webhooks: [{ id: created.id }] });
  assert.deepEqual(p.filters, { zones: [zone.id] });
  assert.equal(p.enabled, true);
  assert.ok(p.created && p.modified);
  const pu = await policies.update(policy.id!, { account_id, enabled: false, name: 'renamed' });
  assert.equal(pu.id, policy.id);
  const after = await policies.get(policy.id!, { account_id });
  assert.deepEqual([after.enabled, after.name], [false, 'renamed']);
  await assert.rejects(
    policies.create({ account_id, name: 'x', alert_type: 'dos_attack_l7', enabled: true, mechanisms: { webhooks: [{ id: created.id }] } }),
    (err: unknown) => err instanceof Cloudflare.BadRequestError && /Unknown alert_type/.test(err.message),
  );

  const available = await cf.alerting.availableAlerts.list({ account_id });
  assert.deepEqual(Object.keys(available), ['SSL/TLS']);
  assert.ok(available['SSL/TLS'].some((a) => a.type === 'zone_aop_custom_certificate_expiration_type'));
  assert.ok(available['SSL/TLS'].some((a) => a.type === 'universal_ssl_event_type') && available['SSL/TLS'].some((a) => a.type === 'dedicated_ssl_certificate_event_type'));

  // ── the two deletes return the whole envelope ────────────────────────────
  await assert.rejects(hooks.delete(created.id!, { account_id }), Cloudflare.ConflictError, 'in use by the policy');
  const pd = await policies.delete(policy.id!, { account_id });
  assert.equal(pd.success, true);
  assert.deepEqual(pd.errors, []);
  assert.deepEqual((await policies.list({ account_id })).result, []);
  const wd = await hooks.delete(created.id!, { account_id });
  assert.equal(wd.success, true);
  assert.deepEqual((await hooks.list({ account_id })).result, []);
  await assert.rejects(hooks.get(created.id!, { account_id }), Cloudflare.NotFoundError);
});
