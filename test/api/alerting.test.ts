// Alerting v3 over HTTP (inject, plus a real webhook receiver on 127.0.0.1): webhook destinations
// with their test message, policies, available alerts, the delivery log, clear 400s for bad
// input, the allow-list setting, and account-level authorization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { createNotifier, type AlertPayload } from '../../src/notify/index.ts';
import { closedPort, startReceiver, type Receiver } from '../notify/receiver.ts';
import { createToken, createZone, startApi, type Harness } from './harness.ts';
// The receivers listen on loopback, which webhooks may reach only when allowed explicitly.
process.env.ORIGINPULL_WEBHOOK_ALLOW = 'loopback';

const DAY = 86_400_000;

async function setup(t: { after: (fn: () => Promise<void>) => void }, respond?: (n: number) => number | 'hang') {
  const h = await startApi();
  const receiver = await startReceiver({ respond });
  t.after(async () => {
    await h.close();
    await receiver.close();
  });
  const account = (await h.call('GET', '/accounts')).json().result[0].id as string;
  return { h, receiver, account, base: `/accounts/${account}/alerting/v3` };
}

async function createWebhook(h: Harness, base: string, receiver: Receiver, body: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call('POST', `${base}/destinations/webhooks`, { body: { name: 'ops', url: receiver.url, secret: 'hush', ...body } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().result.id;
}

function error(res: { statusCode: number; json(): { errors: { code: number; message: string; source?: { pointer?: string } }[] } }) {
  return { status: res.statusCode, ...res.json().errors[0] };
}

test('webhooks: create sends the test message with the secret; the secret is never returned; update and delete', async (t) => {
  const { h, receiver, base } = await setup(t);
  const created = await h.call('POST', `${base}/destinations/webhooks`, { body: { name: 'ops', url: receiver.url, secret: 'hush' } });
  assert.equal(created.statusCode, 200);
  const id = created.json().result.id as string;
  assert.deepEqual(created.json().result, { id });
  assert.equal(receiver.received.length, 1);
  assert.deepEqual(receiver.received[0].body, { text: 'Hello World! This is a test message sent from originpull. If you can see this, your webhook is configured properly.' });
  assert.equal(receiver.received[0].headers['cf-webhook-auth'], 'hush');

  const got = (await h.call('GET', `${base}/destinations/webhooks/${id}`)).json().result;
  assert.deepEqual(Object.keys(got).sort(), ['created_at', 'id', 'last_failure', 'last_success', 'name', 'type', 'url']);
  assert.deepEqual([got.id, got.name, got.url, got.type, got.last_failure], [id, 'ops', receiver.url, 'generic', null]);
  assert.ok(Date.parse(got.created_at) > 0 && got.last_success === got.created_at);
  const list = await h.call('GET', `${base}/destinations/webhooks`);
  assert.deepEqual(list.json().result, [got]);
  assert.doesNotMatch(list.body + JSON.stringify(got), /hush/);

  // Update without a secret keeps it; with one replaces it; "" removes it. Each update is tested.
  assert.equal((await h.call('PUT', `${base}/destinations/webhooks/${id}`, { body: { name: 'ops 2', url: `${receiver.url}?v=2` } })).statusCode, 200);
  assert.equal(receiver.received[1].headers['cf-webhook-auth'], 'hush');
  assert.equal(receiver.received[1].path, '/hook?v=2');
  await h.call('PUT', `${base}/destinations/webhooks/${id}`, { body: { name: 'ops 3', url: receiver.url, secret: 'new' } });
  assert.equal(receiver.received[2].headers['cf-webhook-auth'], 'new');
  await h.call('PUT', `${base}/destinations/webhooks/${id}`, { body: { name: 'ops 4', url: receiver.url, secret: '' } });
  assert.equal(receiver.received[3].headers['cf-webhook-auth'], undefined);
  assert.equal((await h.call('GET', `${base}/destinations/webhooks/${id}`)).json().result.name, 'ops 4');

  const deleted = await h.call('DELETE', `${base}/destinations/webhooks/${id}`);
  assert.deepEqual(deleted.json(), { success: true, errors: [], messages: [], result: { id } });
  assert.deepEqual(error(await h.call('GET', `${base}/destinations/webhooks/${id}`)), { status: 404, code: 1170, message: `Webhook destination not found: ${id}` });
  assert.equal((await h.call('DELETE', `${base}/destinations/webhooks/${id}`)).statusCode, 404);
  assert.equal((await h.call('PUT', `${base}/destinations/webhooks/${id}`, { body: { name: 'x', url: receiver.url } })).statusCode, 404);
});

test('webhooks: a failing receiver, malformed URLs, a secret over 1 KiB → clear 400s, nothing stored', async (t) => {
  const { h, receiver, base } = await setup(t, () => 500);
  const post = (body: Record<string, unknown>) => h.call('POST', `${base}/destinations/webhooks`, { body: { name: 'x', ...body } });
  const port = await closedPort();
  const cases: [Record<string, unknown>, number, RegExp, string][] = [
    [{ url: receiver.url }, 1173, /^The test message to http:\/\/127\.0\.0\.1:\d+\/hook was not accepted \(no 2xx answer within 2\.5 s\)\. Nothing was saved\.$/, '/url'],
    // The same words for a closed port as for an answering one: a save is no port scanner.
    [{ url: `http://127.0.0.1:${port}/x` }, 1173, new RegExp(`^The test message to http://127\\.0\\.0\\.1:${port}/x was not accepted \\(no 2xx answer within 2\\.5 s\\)\\. Nothing was saved\\.$`), '/url'],
    [{ url: 'not a url' }, 1172, /not a valid absolute URL/, '/url'],
    [{ url: 'ftp://example.com/x' }, 1172, /must use http or https, not ftp/, '/url'],
    [{ url: 'https://u:p@example.com/' }, 1172, /credentials/, '/url'],
    [{ url: receiver.url, secret: 'x'.repeat(1025) }, 1172, /^secret is 1025 bytes; the limit is 1024 bytes \(1 KiB\)$/, '/secret'],
    [{ url: receiver.url, secret: 'é'.repeat(600) }, 1172, /1200 bytes/, '/secret'],
    [{ url: receiver.url, secret: 'line\nbreak' }, 1172, /printable ASCII/, '/secret'],
    [{ url: receiver.url, name: '' }, 1004, /body field name must NOT have fewer than 1 characters/, '/name'],
    [{ url: 42 }, 1004, /body field url must be string/, '/url'],
  ];
  for (const [body, code, message, pointer] of cases) {
    const res = await post(body);
    const e = error(res);
    assert.equal(e.status, 400, JSON.stringify(body).slice(0, 80));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    assert.equal(e.source?.pointer, pointer);
  }
  assert.equal(receiver.received.length, 1, 'only the first case reached the receiver (checks come before the test message)');
  assert.deepEqual((await h.call('GET', `${base}/destinations/webhooks`)).json().result, []);
  assert.equal((await post({ url: receiver.url, secret: 'x'.repeat(1024) })).statusCode, 400, 'exactly 1 KiB passes the size check (the receiver then fails)');
  assert.match(error(await post({ url: receiver.url, secret: 'x'.repeat(1024) })).message, /was not accepted/);
});

test('webhooks: ORIGINPULL_WEBHOOK_ALLOW limits the targets', async (t) => {
  const receiver = await startReceiver();
  const before = process.env.ORIGINPULL_WEBHOOK_ALLOW;
  process.env.ORIGINPULL_WEBHOOK_ALLOW = `${receiver.url}/allowed/`;
  let h: Harness;
  try {
    h = await startApi();
  } finally {
    if (before === undefined) delete process.env.ORIGINPULL_WEBHOOK_ALLOW;
    else process.env.ORIGINPULL_WEBHOOK_ALLOW = before;
  }
  t.after(async () => {
    await h.close();
    await receiver.close();
  });
  const account = (await h.call('GET', '/accounts')).json().result[0].id;
  const post = (url: string) => h.call('POST', `/accounts/${account}/alerting/v3/destinations/webhooks`, { body: { name: 'x', url } });
  const refused = error(await post(`${receiver.url}/elsewhere`));
  assert.equal(refused.status, 400);
  assert.match(refused.message, /^url is not allowed by this installation \(ORIGINPULL_WEBHOOK_ALLOW: URLs starting with http:\/\/127\.0\.0\.1:\d+\/hook\/allowed\/\)$/);
  // The listed prefix is the explicit permission its loopback host needs.
  assert.equal((await post(`${receiver.url}/allowed/x`)).statusCode, 200);
});

test('policies: create, get, list, update, delete; available alerts; bad input is a clear 400', async (t) => {
  const { h, receiver, account, base } = await setup(t);
  const webhook = await createWebhook(h, base, receiver);
  const zone = await createZone(h, 'example.com');
  const body = {
    name: 'AOP expiry',
    alert_type: 'zone_aop_custom_certificate_expiration_type',
    enabled: true,
    mechanisms: { webhooks: [{ id: webhook }] },
    filters: { zones: [zone] },
    description: 'zone certs',
  };
  const created = await h.call('POST', `${base}/policies`, { body });
  assert.equal(created.statusCode, 200, created.body);
  const id = created.json().result.id as string;
  assert.deepEqual(created.json().result, { id });
  const got = (await h.call('GET', `${base}/policies/${id}`)).json().result;
  assert.deepEqual({ ...got, created: 'x', modified: 'x' }, { id, ...body, created: 'x', modified: 'x' });
  assert.ok(Date.parse(got.created) > 0 && got.modified === got.created);
  assert.deepEqual((await h.call('GET', `${base}/policies`)).json().result, [got]);

  const updated = await h.call('PUT', `${base}/policies/${id}`, { body: { enabled: false, name: 'renamed', alert_interval: '1h' } });
  assert.deepEqual(updated.json().result, { id });
  const after = (await h.call('GET', `${base}/policies/${id}`)).json().result;
  assert.deepEqual([after.enabled, after.name, after.alert_interval, after.mechanisms, after.filters], [false, 'renamed', '1h', body.mechanisms, body.filters]);

  // Bad input: each a 400 naming the problem, and nothing stored.
  const other = await h.call('POST', '/zones', { body: { name: 'other.example' } });
  const bad: [Record<string, unknown>, RegExp, string][] = [
    [{ alert_type: 'dos_attack_l7' }, /^Unknown alert_type "dos_attack_l7": originpull sends zone_aop_custom_certificate_expiration_type, hostname_aop_custom_certificate_expiration_type, aop_expired_certificate_in_use_type/, '/alert_type'],
    [{ mechanisms: undefined }, /^Invalid request: body field mechanisms is required$/, '/mechanisms'],
    [{ mechanisms: {} }, /^mechanisms\.webhooks must name at least one webhook destination/, '/mechanisms/webhooks'],
    [{ mechanisms: { webhooks: [] } }, /at least one webhook destination/, '/mechanisms/webhooks'],
    [{ mechanisms: { webhooks: [{ id: 'f0f0f0f0-0000-4000-8000-000000000000' }] } }, /^mechanisms\.webhooks\[0\]\.id: no webhook destination f0f0f0f0-0000-4000-8000-000000000000 in this account$/, '/mechanisms/webhooks/0/id'],
    [{ mechanisms: { webhooks: [{ id: webhook }], email: [{ id: 'a@b.c' }] } }, /^mechanisms\.email is not supported: originpull delivers alerts to webhooks only$/, '/mechanisms/email'],
    [{ filters: { event_type: ['x'] } }, /^filters\.event_type is not supported/, '/filters/event_type'],
    [{ filters: { zones: [zone, '0'.repeat(32)] } }, /^filters\.zones\[1\]: no zone 0{32} in this account$/, '/filters/zones/1'],
    [{ enabled: 'yes' }, /body field enabled must be boolean/, '/enabled'],
  ];
  assert.equal(other.statusCode, 200);
  for (const [patch, message, pointer] of bad) {
    const res = await h.call('POST', `${base}/policies`, { body: { ...body, ...patch } });
    const e = error(res);
    assert.equal(e.status, 400, `${JSON.stringify(patch)}: ${res.body}`);
    assert.match(e.message, message);
    assert.equal(e.source?.pointer, pointer);
  }
  const badUpdate = error(await h.call('PUT', `${base}/policies/${id}`, { body: { mechanisms: { webhooks: [] } } }));
  assert.equal(badUpdate.status, 400);
  assert.equal((await h.call('GET', `${base}/policies`)).json().result.length, 1, 'nothing stored');

  // A webhook used by a policy cannot be deleted (and the SDK is told not to retry the 409).
  const inUse = await h.call('DELETE', `${base}/destinations/webhooks/${webhook}`);
  assert.equal(inUse.statusCode, 409);
  assert.equal(inUse.headers['x-should-retry'], 'false');
  assert.match(error(inUse).message, /used by the policy "renamed"/);

  const available = (await h.call('GET', `${base}/available_alerts`)).json().result;
  assert.deepEqual(Object.keys(available), ['SSL/TLS']);
  assert.deepEqual(
    available['SSL/TLS'].map((a: { type: string }) => a.type),
    [
      'zone_aop_custom_certificate_expiration_type',
      'hostname_aop_custom_certificate_expiration_type',
      'aop_expired_certificate_in_use_type',
      'custom_ssl_certificate_event_type',
      'universal_ssl_event_type',
      'dedicated_ssl_certificate_event_type',
    ],
  );
  assert.equal(available['SSL/TLS'][0].display_name, 'Zone-level Authenticated Origin Pulls Certificate Expiration Alert');

  assert.deepEqual((await h.call('DELETE', `${base}/policies/${id}`)).json().result, { id });
  assert.equal(error(await h.call('GET', `${base}/policies/${id}`)).code, 1171);
  assert.equal((await h.call('DELETE', `${base}/destinations/webhooks/${webhook}`)).statusCode, 200, 'deletable once unused');
  assert.equal(error(await h.call('GET', `/accounts/${'0'.repeat(32)}/alerting/v3/policies`)).status, 404);
  assert.equal(account.length, 32);
});

test('authorization: account-level only; read tokens read, zone-scoped tokens are refused', async (t) => {
  const { h, receiver, base } = await setup(t);
  const zone = await createZone(h, 'example.com');
  const scoped = await createToken(h, { name: 'zone', permission: 'edit', zones: [zone] });
  const reader = await createToken(h, { name: 'reader', permission: 'read' });
  const webhook = await createWebhook(h, base, receiver);
  const paths = ['/available_alerts', '/destinations/webhooks', `/destinations/webhooks/${webhook}`, '/policies', '/deliveries'];
  for (const path of paths) {
    const res = await h.call('GET', `${base}${path}`, { as: scoped });
    assert.equal(res.statusCode, 403, path);
    assert.match(error(res).message, /limited to specific zones/);
    assert.equal((await h.call('GET', `${base}${path}`, { as: reader })).statusCode, 200, path);
  }
  const write = await h.call('POST', `${base}/destinations/webhooks`, { as: reader, body: { name: 'x', url: receiver.url } });
  assert.equal(write.statusCode, 403);
  assert.match(error(write).message, /may only read/);
  assert.equal((await h.call('GET', `${base}/policies`, { as: null })).statusCode, 401);
});

test('the delivery log shows what the notifier sent for an uploaded certificate', async (t) => {
  const { h, receiver, base } = await setup(t, (n) => (n === 2 ? 502 : 200));
  const zone = await createZone(h, 'example.com');
  const webhook = await createWebhook(h, base, receiver);
  const policy = (await h.call('POST', `${base}/policies`, { body: { name: 'p', alert_type: 'zone_aop_custom_certificate_expiration_type', enabled: true, mechanisms: { webhooks: [{ id: webhook }] } } })).json().result.id;
  const ca = await createCa({ commonName: 'Alert Test CA', keyType: 'p256', days: 30 });
  const now = Date.now();
  const leaf = await issueCertificate({ ca, commonName: 'soon.example.com', usage: 'client', keyType: 'p256', notBefore: new Date(now - DAY), notAfter: new Date(now + 20 * DAY) });
  const upload = await h.call('POST', `/zones/${zone}/origin_tls_client_auth`, { body: { certificate: leaf.certPem, private_key: leaf.keyPem } });
  assert.equal(upload.statusCode, 200, upload.body);
  const certId = upload.json().result.id;

  let clock = now;
  const notifier = createNotifier({ store: h.store, secretBox: h.secretBox, logger: false, now: () => clock });
  t.after(() => notifier.close());
  await notifier.scanOnce(); // the receiver answers 502 (its 2nd request; the 1st was the test message)
  let log = (await h.call('GET', `${base}/deliveries`)).json();
  assert.equal(log.result.length, 1);
  const d = log.result[0];
  assert.deepEqual([d.status, d.attempts, d.last_status, d.last_error, d.certificate_id, d.zone_id, d.policy_id, d.webhook_id, d.event, d.delivered_at], [
    'pending', 1, 502, 'the receiver answered HTTP 502', certId, zone, policy, webhook, '30d', null,
  ]);
  assert.ok(Date.parse(d.next_attempt_at) > clock);
  assert.equal((d.payload as AlertPayload).data.certificate_id, certId);
  assert.equal((d.payload as AlertPayload).data.days_til_expiration, 19);
  assert.equal((await h.call('GET', `${base}/destinations/webhooks/${webhook}`)).json().result.last_failure, d.last_attempt_at);

  clock = Date.parse(d.next_attempt_at);
  await notifier.scanOnce();
  log = (await h.call('GET', `${base}/deliveries?status=delivered`)).json();
  assert.deepEqual(log.result.map((x: { attempts: number; last_status: number; next_attempt_at: null }) => [x.attempts, x.last_status, x.next_attempt_at]), [[2, 200, null]]);
  assert.deepEqual(log.result_info, { page: 1, per_page: 50, count: 1, total_count: 1, total_pages: 1 });
  assert.deepEqual((await h.call('GET', `${base}/deliveries?status=pending`)).json().result, []);
  assert.equal(error(await h.call('GET', `${base}/deliveries?status=bogus`)).status, 400);
  assert.equal(receiver.alerts().length, 2);
});

test('the delivery log is paged by the store: page/per_page, defaults and caps, the total, pages past the end', async (t) => {
  const { h, base, account } = await setup(t);
  const T0 = Date.parse('2030-01-01T00:00:00Z');
  await h.store.enqueueAlertDeliveries(
    Array.from({ length: 5 }, (_, i) => ({
      dedupeKey: `k${i}`,
      accountId: account,
      zoneId: 'z',
      certificateId: `c${i}`,
      policyId: 'p',
      webhookId: 'w',
      alertType: 'zone_aop_custom_certificate_expiration_type',
      event: '30d',
      payload: JSON.stringify({ i }),
      createdAt: T0 + i,
      nextAttemptAt: T0,
      giveUpAt: T0 + DAY,
    })),
  );
  const get = async (query: string) => {
    const res = await h.call('GET', `${base}/deliveries${query}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    return { certs: body.result.map((d: { certificate_id: string }) => d.certificate_id), info: body.result_info };
  };
  assert.deepEqual(await get(''), { certs: ['c4', 'c3', 'c2', 'c1', 'c0'], info: { page: 1, per_page: 50, count: 5, total_count: 5, total_pages: 1 } });
  assert.deepEqual(await get('?per_page=2'), { certs: ['c4', 'c3'], info: { page: 1, per_page: 2, count: 2, total_count: 5, total_pages: 3 } });
  assert.deepEqual(await get('?per_page=2&page=3'), { certs: ['c0'], info: { page: 3, per_page: 2, count: 1, total_count: 5, total_pages: 3 } });
  assert.deepEqual(await get('?per_page=2&page=4'), { certs: [], info: { page: 4, per_page: 2, count: 0, total_count: 5, total_pages: 3 } });
  assert.deepEqual((await get('?per_page=0&page=0')).info, { page: 1, per_page: 50, count: 5, total_count: 5, total_pages: 1 }, '0 means the default');
  assert.equal((await get('?per_page=5000')).info.per_page, 1000, 'capped');
  assert.deepEqual((await get('?page=99999999999999999999')).certs, [], 'a page no OFFSET could take is just past the end');
  assert.deepEqual((await get('?certificate_id=c2')).info, { page: 1, per_page: 50, count: 1, total_count: 1, total_pages: 1 }, 'the total of the filter');
});
