// The Store contract for alerting: webhook destinations, policies and the delivery
// outbox, run against every implementation (registered from sqlite.test.ts and postgres.test.ts).
// What makes exactly-once hold is tested here across two instances on one database: an outbox
// row is inserted once whoever enqueues it, and a due delivery is claimed by one instance only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, type NewAlertDelivery, type Store } from '../../src/store/index.ts';
import { certFixture, type StoreFixture } from './contract.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const T0 = 1_800_000_000_000;

export function alertingContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  async function withStore(fn: (ctx: { store: Store; fixture: StoreFixture }) => Promise<void>): Promise<void> {
    const fixture = await makeStore();
    try {
      await fixture.store.migrate();
      await fn({ store: fixture.store, fixture });
    } finally {
      await fixture.cleanup();
    }
  }

  /** Account, zone, a zone certificate, a webhook and an enabled policy using it. */
  async function setup(store: Store) {
    const account = await store.ensureDefaultAccount();
    const zone = await store.createZone({ accountId: account.id, name: 'alerts.example' });
    const cert = await store.insertCertificate(certFixture(zone.id, 'zone'));
    const webhook = await store.createAlertWebhook({ accountId: account.id, name: 'hook', url: 'http://127.0.0.1:1/h', secretSealed: 'v1:s', createdAt: T0, lastSuccess: T0 });
    const policy = await store.createAlertPolicy({
      accountId: account.id,
      name: 'p',
      description: '',
      enabled: true,
      alertType: 'zone_aop_custom_certificate_expiration_type',
      alertInterval: null,
      webhookIds: [webhook.id],
      filters: {},
      created: T0,
    });
    return { account, zone, cert, webhook, policy };
  }

  function delivery(s: Awaited<ReturnType<typeof setup>>, event = '30d', over: Partial<NewAlertDelivery> = {}): NewAlertDelivery {
    return {
      dedupeKey: `${s.cert.id}|${event}|${s.policy.id}|${s.webhook.id}`,
      accountId: s.account.id,
      zoneId: s.zone.id,
      certificateId: s.cert.id,
      policyId: s.policy.id,
      webhookId: s.webhook.id,
      alertType: s.policy.alertType,
      event,
      payload: JSON.stringify({ event }),
      createdAt: T0,
      nextAttemptAt: T0,
      giveUpAt: T0 + 86_400_000,
      ...over,
    };
  }

  test(`${name}: alerting: webhook destinations are created, listed, updated and deleted without bumping the config version`, () =>
    withStore(async ({ store }) => {
      const account = await store.ensureDefaultAccount();
      const v0 = await store.currentVersion();
      await assert.rejects(
        store.createAlertWebhook({ accountId: 'f'.repeat(32), name: 'x', url: 'http://x', secretSealed: null, createdAt: T0, lastSuccess: null }),
        NotFoundError,
      );
      const a = await store.createAlertWebhook({ accountId: account.id, name: 'a', url: 'http://a.example/', secretSealed: 'v1:sealed', createdAt: T0, lastSuccess: T0 });
      assert.match(a.id, UUID);
      assert.deepEqual(a, { id: a.id, accountId: account.id, name: 'a', url: 'http://a.example/', type: 'generic', secretSealed: 'v1:sealed', createdAt: T0, lastSuccess: T0, lastFailure: null });
      const b = await store.createAlertWebhook({ accountId: account.id, name: 'b', url: 'http://b.example/', secretSealed: null, createdAt: T0 + 1, lastSuccess: null });
      assert.deepEqual((await store.listAlertWebhooks(account.id)).map((w) => w.name), ['a', 'b']);
      assert.deepEqual(await store.listAlertWebhooks('0'.repeat(32)), []);
      assert.deepEqual(await store.getAlertWebhook(account.id, b.id), b);
      assert.equal(await store.getAlertWebhook('0'.repeat(32), b.id), null, 'scoped to the account');

      const renamed = await store.updateAlertWebhook(account.id, a.id, { name: 'a2', lastSuccess: T0 + 5 });
      assert.equal(renamed.secretSealed, 'v1:sealed', 'an omitted secret is kept');
      assert.equal(renamed.url, 'http://a.example/');
      assert.equal(renamed.lastSuccess, T0 + 5);
      const cleared = await store.updateAlertWebhook(account.id, a.id, { url: 'https://a.example/x', secretSealed: null });
      assert.equal(cleared.secretSealed, null, 'null removes the secret');
      assert.equal(cleared.name, 'a2');
      await assert.rejects(store.updateAlertWebhook(account.id, crypto.randomUUID(), { name: 'x' }), NotFoundError);

      assert.equal(await store.deleteAlertWebhook(account.id, b.id, T0), true);
      assert.equal(await store.deleteAlertWebhook(account.id, b.id, T0), false);
      assert.equal(await store.getAlertWebhook(account.id, b.id), null);
      assert.equal(await store.currentVersion(), v0, 'alerting is not edge config');
    }));

  test(`${name}: alerting: policies keep their webhooks in order, check them, and a webhook in use cannot be deleted`, () =>
    withStore(async ({ store }) => {
      const s = await setup(store);
      const w2 = await store.createAlertWebhook({ accountId: s.account.id, name: 'two', url: 'http://two/', secretSealed: null, createdAt: T0, lastSuccess: null });
      const input = {
        accountId: s.account.id,
        name: 'hostnames',
        description: 'd',
        enabled: false,
        alertType: 'hostname_aop_custom_certificate_expiration_type',
        alertInterval: '1h',
        webhookIds: [w2.id, s.webhook.id, w2.id],
        filters: { zones: [s.zone.id] },
        created: T0 + 10,
      };
      const p = await store.createAlertPolicy(input);
      assert.match(p.id, UUID);
      assert.deepEqual(p, { ...input, id: p.id, webhookIds: [w2.id, s.webhook.id], modified: T0 + 10, created: T0 + 10 });
      assert.deepEqual(await store.getAlertPolicy(s.account.id, p.id), p);
      assert.equal(await store.getAlertPolicy('0'.repeat(32), p.id), null);
      assert.deepEqual((await store.listAlertPolicies(s.account.id)).map((x) => x.id), [s.policy.id, p.id]);
      assert.deepEqual((await store.listAlertPolicies()).map((x) => x.id), [s.policy.id, p.id]);
      assert.deepEqual(await store.listAlertPolicies('0'.repeat(32)), []);

      await assert.rejects(store.createAlertPolicy({ ...input, webhookIds: [crypto.randomUUID()] }), NotFoundError);
      await assert.rejects(store.createAlertPolicy({ ...input, accountId: 'f'.repeat(32) }), NotFoundError);
      assert.equal((await store.listAlertPolicies()).length, 2, 'failed creates store nothing');

      const up = await store.updateAlertPolicy(s.account.id, p.id, { enabled: true, webhookIds: [s.webhook.id], alertInterval: null, modified: T0 + 20 });
      assert.deepEqual(up, { ...p, enabled: true, webhookIds: [s.webhook.id], alertInterval: null, modified: T0 + 20 });
      const kept = await store.updateAlertPolicy(s.account.id, p.id, { name: 'renamed', modified: T0 + 30 });
      assert.deepEqual(kept.webhookIds, [s.webhook.id], 'omitted webhookIds are kept');
      assert.equal(kept.name, 'renamed');
      assert.deepEqual(kept.filters, { zones: [s.zone.id] });
      await assert.rejects(store.updateAlertPolicy(s.account.id, p.id, { webhookIds: ['nope'], modified: T0 }), NotFoundError);
      assert.deepEqual((await store.getAlertPolicy(s.account.id, p.id))!.webhookIds, [s.webhook.id], 'a failed update changes nothing');
      await assert.rejects(store.updateAlertPolicy(s.account.id, crypto.randomUUID(), { modified: T0 }), NotFoundError);

      // w2 is no longer used: deletable. s.webhook is used by two policies: refused, naming them.
      assert.equal(await store.deleteAlertWebhook(s.account.id, w2.id, T0), true);
      await assert.rejects(store.deleteAlertWebhook(s.account.id, s.webhook.id, T0), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.match(err.message, /"p".*"renamed"/);
        return true;
      });
      assert.equal(await store.deleteAlertPolicy(s.account.id, p.id, T0), true);
      assert.equal(await store.deleteAlertPolicy(s.account.id, p.id, T0), false);
      assert.equal(await store.deleteAlertPolicy(s.account.id, s.policy.id, T0), true);
      assert.equal(await store.deleteAlertWebhook(s.account.id, s.webhook.id, T0), true);
    }));

  test(`${name}: alerting: an outbox row is inserted once, even when two instances enqueue it together`, () =>
    withStore(async ({ store, fixture }) => {
      const s = await setup(store);
      const other = await fixture.another();
      const rows = [delivery(s, '30d'), delivery(s, '14d')];
      const [a, b] = await Promise.all([store.enqueueAlertDeliveries(rows), other.enqueueAlertDeliveries([...rows].reverse())]);
      assert.equal(a + b, 2, `inserted ${a} + ${b}`);
      assert.equal(await store.enqueueAlertDeliveries(rows), 0);
      assert.equal(await store.enqueueAlertDeliveries([]), 0);
      const all = await store.listAlertDeliveries();
      assert.equal(all.length, 2);
      const d = all.find((x) => x.event === '30d')!;
      assert.match(d.id, UUID);
      assert.deepEqual(d, {
        ...delivery(s, '30d'),
        id: d.id,
        status: 'pending',
        attempts: 0,
        lastAttemptAt: null,
        lastStatus: null,
        lastError: null,
        deliveredAt: null,
        leaseOwner: null,
        leaseUntil: null,
      });
    }));

  test(`${name}: alerting: of two instances claiming at once, each due delivery goes to exactly one; leases lapse`, () =>
    withStore(async ({ store, fixture }) => {
      const s = await setup(store);
      const other = await fixture.another();
      const certs = [s.cert];
      for (let i = 0; i < 5; i++) certs.push(await store.insertCertificate(certFixture(s.zone.id, 'zone')));
      await store.enqueueAlertDeliveries(certs.map((c) => delivery(s, '30d', { dedupeKey: `${c.id}|30d`, certificateId: c.id })));
      await store.enqueueAlertDeliveries([delivery(s, '14d', { nextAttemptAt: T0 + 60_000 })]); // not due yet

      const claim = (st: Store, owner: string, now = T0) => st.claimAlertDeliveries({ owner, now, leaseMs: 60_000, limit: 10 });
      const [mine, theirs] = await Promise.all([claim(store, 'a'), claim(other, 'b')]);
      const ids = [...mine, ...theirs].map((d) => d.id);
      assert.equal(ids.length, 6, `claimed ${mine.length} + ${theirs.length}`);
      assert.equal(new Set(ids).size, 6, 'no delivery claimed twice');
      for (const d of mine) assert.deepEqual([d.leaseOwner, d.leaseUntil, d.attempts, d.lastAttemptAt], ['a', T0 + 60_000, 1, T0]);
      assert.deepEqual(await claim(store, 'a', T0 + 59_999), [], 'leased rows wait; the 14d one is not due');

      const later = await claim(other, 'b', T0 + 60_000);
      assert.equal(later.length, 7, 'lapsed leases are retaken, and the 14d row is due now');
      assert.ok(later.every((d) => d.leaseOwner === 'b'));
      assert.equal(later.find((d) => d.certificateId === s.cert.id && d.event === '30d')!.attempts, 2, 'each claim counts an attempt');
    }));

  test(`${name}: alerting: finishing records the result for the lease holder only and stamps the webhook`, () =>
    withStore(async ({ store }) => {
      const s = await setup(store);
      await store.enqueueAlertDeliveries([delivery(s, '30d'), delivery(s, '14d')]);
      const [d1, d2] = await store.claimAlertDeliveries({ owner: 'a', now: T0, leaseMs: 60_000, limit: 10 });
      assert.equal(await store.finishAlertDelivery(d1.id, 'b', { outcome: 'delivered', at: T0 + 1, httpStatus: 200 }), false, 'not the holder');

      assert.equal(await store.finishAlertDelivery(d1.id, 'a', { outcome: 'retry', at: T0 + 2, httpStatus: 503, error: 'the receiver answered HTTP 503', nextAttemptAt: T0 + 30_000 }), true);
      let row = (await store.listAlertDeliveries()).find((d) => d.id === d1.id)!;
      assert.deepEqual(
        [row.status, row.nextAttemptAt, row.lastStatus, row.lastError, row.leaseOwner, row.leaseUntil],
        ['pending', T0 + 30_000, 503, 'the receiver answered HTTP 503', null, null],
      );
      assert.equal((await store.getAlertWebhook(s.account.id, s.webhook.id))!.lastFailure, T0 + 2);
      assert.equal(await store.finishAlertDelivery(d1.id, 'a', { outcome: 'delivered', at: T0 + 3, httpStatus: 200 }), false, 'the lease was released');

      assert.deepEqual(await store.claimAlertDeliveries({ owner: 'a', now: T0 + 29_999, leaseMs: 60_000, limit: 10 }), []);
      const [again] = await store.claimAlertDeliveries({ owner: 'a', now: T0 + 30_000, leaseMs: 60_000, limit: 10 });
      assert.equal(again.id, d1.id);
      assert.equal(await store.finishAlertDelivery(d1.id, 'a', { outcome: 'delivered', at: T0 + 30_001, httpStatus: 204 }), true);
      row = (await store.listAlertDeliveries({ status: 'delivered' }))[0];
      assert.deepEqual(
        [row.id, row.attempts, row.deliveredAt, row.lastStatus, row.lastError, row.nextAttemptAt, row.leaseOwner],
        [d1.id, 2, T0 + 30_001, 204, null, null, null],
      );
      assert.equal((await store.getAlertWebhook(s.account.id, s.webhook.id))!.lastSuccess, T0 + 30_001);

      assert.equal(await store.finishAlertDelivery(d2.id, 'a', { outcome: 'failed', at: T0 + 4, httpStatus: null, error: 'gave up' }), true);
      assert.deepEqual((await store.listAlertDeliveries({ status: 'failed' })).map((d) => [d.id, d.lastError, d.nextAttemptAt]), [[d2.id, 'gave up', null]]);
      assert.deepEqual(await store.claimAlertDeliveries({ owner: 'a', now: T0 + 10_000_000, leaseMs: 60_000, limit: 10 }), [], 'final rows are never claimed');
    }));

  test(`${name}: alerting: deleted certificates, disabled or deleted policies and cancellations stop deliveries`, () =>
    withStore(async ({ store }) => {
      const s = await setup(store);
      const other = await store.insertCertificate(certFixture(s.zone.id, 'zone'));
      await store.enqueueAlertDeliveries([
        delivery(s, '30d'),
        delivery(s, '30d', { dedupeKey: 'other', certificateId: other.id }),
        delivery(s, '14d'),
      ]);
      await store.requestCertificateDeletion(s.zone.id, 'zone', other.id);
      await store.updateAlertPolicy(s.account.id, s.policy.id, { enabled: false, modified: T0 });
      const claim = () => store.claimAlertDeliveries({ owner: 'a', now: T0, leaseMs: 60_000, limit: 10 });
      assert.deepEqual(await claim(), [], 'policy disabled: nothing is claimed');
      await store.updateAlertPolicy(s.account.id, s.policy.id, { enabled: true, modified: T0 });
      const claimed = await claim();
      assert.deepEqual(claimed.map((d) => d.certificateId).sort(), [s.cert.id, s.cert.id], 'the deleted certificate is never claimed');
      const leased = claimed.find((d) => d.event === '14d')!;
      await store.finishAlertDelivery(claimed.find((d) => d.event === '30d')!.id, 'a', { outcome: 'retry', at: T0, httpStatus: 500, error: 'x', nextAttemptAt: T0 });

      const pending = await store.listAlertDeliveries({ status: 'pending' });
      assert.equal(pending.length, 3);
      assert.equal(await store.cancelAlertDeliveries(pending.map((d) => d.id), 'cancelled: test', T0), 2, 'the leased row is left to its sender');
      assert.deepEqual((await store.listAlertDeliveries({ status: 'pending' })).map((d) => d.id), [leased.id]);
      assert.ok((await store.listAlertDeliveries({ status: 'cancelled' })).every((d) => d.lastError === 'cancelled: test' && d.nextAttemptAt === null));
      assert.equal(await store.cancelAlertDeliveries([], 'x', T0), 0);

      // Deleting the policy cancels what is pending once the lease is released.
      await store.finishAlertDelivery(leased.id, 'a', { outcome: 'retry', at: T0, httpStatus: 500, error: 'x', nextAttemptAt: T0 + 1 });
      assert.equal(await store.deleteAlertPolicy(s.account.id, s.policy.id, T0), true);
      assert.deepEqual(await store.listAlertDeliveries({ status: 'pending' }), []);
      assert.equal((await store.listAlertDeliveries({ status: 'cancelled' })).find((d) => d.id === leased.id)!.lastError, 'cancelled: the policy was deleted');
    }));

  test(`${name}: alerting: the delivery log filters and lists newest first`, () =>
    withStore(async ({ store }) => {
      const s = await setup(store);
      await store.enqueueAlertDeliveries([
        delivery(s, '30d', { createdAt: T0 }),
        delivery(s, '14d', { createdAt: T0 + 1 }),
        delivery(s, 'expired', { createdAt: T0 + 2, dedupeKey: 'x', certificateId: 'gone', policyId: 'p2' }),
      ]);
      assert.deepEqual((await store.listAlertDeliveries()).map((d) => d.event), ['expired', '14d', '30d']);
      assert.deepEqual((await store.listAlertDeliveries({ accountId: s.account.id, limit: 2 })).map((d) => d.event), ['expired', '14d']);
      assert.deepEqual((await store.listAlertDeliveries({ certificateId: s.cert.id })).map((d) => d.event), ['14d', '30d']);
      assert.deepEqual((await store.listAlertDeliveries({ policyId: 'p2' })).map((d) => d.event), ['expired']);
      assert.deepEqual((await store.listAlertDeliveries({ webhookId: s.webhook.id, status: 'delivered' })).map((d) => d.event), []);
      assert.deepEqual(await store.listAlertDeliveries({ accountId: '0'.repeat(32) }), []);
    }));

  test(`${name}: alerting: the delivery log is paged in the store, with the filter's total and exact page boundaries`, () =>
    withStore(async ({ store }) => {
      const s = await setup(store);
      // Seven rows, two pairs sharing a created_at (the id orders those), plus one of another account.
      const at = [T0, T0 + 1, T0 + 1, T0 + 2, T0 + 3, T0 + 3, T0 + 4];
      await store.enqueueAlertDeliveries(at.map((createdAt, i) => delivery(s, `e${i}`, { createdAt, dedupeKey: `k${i}`, ...(i % 2 ? { policyId: 'odd' } : {}) })));
      await store.enqueueAlertDeliveries([delivery(s, 'theirs', { accountId: 'f'.repeat(32), dedupeKey: 'theirs', createdAt: T0 + 9 })]);
      const mine = { accountId: s.account.id };
      const all = (await store.listAlertDeliveries(mine)).map((d) => d.id);
      assert.equal(all.length, 7);

      const ids = async (page: number, perPage: number, filter: object = mine) => {
        const p = await store.pageAlertDeliveries(filter, page, perPage);
        return { ids: p.rows.map((d) => d.id), total: p.total };
      };
      for (let perPage = 1; perPage <= 8; perPage++) {
        const pages: string[] = [];
        for (let page = 1; page <= Math.ceil(7 / perPage); page++) {
          const p = await ids(page, perPage);
          assert.equal(p.total, 7);
          assert.equal(p.ids.length, Math.min(perPage, 7 - (page - 1) * perPage), `page ${page} of ${perPage}`);
          pages.push(...p.ids);
        }
        // Sizes 2 and 5 put a page boundary inside a created_at tie.
        assert.deepEqual(pages, all, `pages of ${perPage}: every row once, in the listed order`);
      }
      assert.deepEqual(await ids(1, 3), { ids: all.slice(0, 3), total: 7 });
      assert.deepEqual(await ids(2, 3), { ids: all.slice(3, 6), total: 7 });
      assert.deepEqual(await ids(3, 3), { ids: all.slice(6), total: 7 }, 'the last page is short');
      assert.deepEqual(await ids(4, 3), { ids: [], total: 7 }, 'past the end: no rows, the total still');
      assert.deepEqual(await ids(1, 7), { ids: all, total: 7 });
      assert.deepEqual(await ids(2, 7), { ids: [], total: 7 });
      assert.deepEqual(await ids(1, 1000), { ids: all, total: 7 });
      assert.deepEqual(await ids(7, 1), { ids: all.slice(6), total: 7 });
      assert.deepEqual(await ids(1e20, 1000), { ids: [], total: 7 }, 'a page number no OFFSET could take');
      assert.deepEqual((await store.pageAlertDeliveries(mine, 1, 3)).rows, (await store.listAlertDeliveries(mine)).slice(0, 3), 'whole rows, as listed');

      const odd = (await store.listAlertDeliveries({ ...mine, policyId: 'odd' })).map((d) => d.id);
      assert.equal(odd.length, 3);
      assert.deepEqual(await ids(2, 2, { ...mine, policyId: 'odd' }), { ids: odd.slice(2), total: 3 }, 'the total counts the filtered rows');
      assert.deepEqual(await ids(1, 50, {}), { ids: (await store.listAlertDeliveries()).map((d) => d.id), total: 8 }, 'no filter: every account');
      assert.deepEqual(await ids(1, 50, { accountId: '0'.repeat(32) }), { ids: [], total: 0 });
      assert.deepEqual(await ids(1, 50, { ...mine, status: 'delivered' }), { ids: [], total: 0 });
    }));
}
