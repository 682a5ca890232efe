// `?wait=active` waits on the store's edge-report signal, not a poll per request: a waiter returns
// as soon as an edge acknowledges (reported through another store instance, as another node's
// edge does: SQLite file and PostgreSQL), the edges are re-read once per signal however many wait,
// and the cap on waiting requests answers 429 with Retry-After before anything is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore, type Store } from '../../src/store/index.ts';
import { clientCert, newCa } from '../helpers/pki.ts';
import { postgresSchema, postgresUnreachable } from '../notify/fixtures.ts';
import { createZone, startApi, type Harness } from './harness.ts';

const pgSkip = await postgresUnreachable();

async function setup(h: Harness) {
  const zoneId = await createZone(h, 'wait.test');
  const ca = await newCa('wait CA');
  const upload = async (wait: boolean) => {
    const pair = await clientCert(ca, `leaf ${Math.random()}`);
    return h.call('POST', `/zones/${zoneId}/origin_tls_client_auth${wait ? '?wait=active' : ''}`, { body: { certificate: pair.certPem, private_key: pair.keyPem } });
  };
  return { zoneId, upload };
}

/** An edge reporting through its own store instance, as an edge on another node does. */
async function edgeOn(store: Store, id = 'far-edge') {
  return {
    report: async (appliedVersion: number) => store.reportEdge({ id, name: id, startedAt: 1, appliedVersion }),
    catchUp: async () => store.reportEdge({ id, name: id, startedAt: 1, appliedVersion: await store.currentVersion() }),
  };
}

for (const engine of ['sqlite', 'postgres'] as const) {
  test(`${engine}: a waiter returns as soon as the edge acknowledges`, { skip: engine === 'postgres' ? (pgSkip ?? false) : false }, async (t) => {
    const schema = engine === 'postgres' ? postgresSchema() : null;
    const h = await startApi({ deadlineMs: 60_000, ...(schema ? { storeUrl: schema.url } : {}) });
    const other = await openStore(schema ? schema.url : `sqlite:${join(h.dir, 'originpull.db')}`, { pollIntervalMs: 50 });
    t.after(async () => {
      await other.close();
      await h.close();
      await schema?.drop();
    });
    const { upload } = await setup(h);
    const edge = await edgeOn(other);
    await edge.report(await other.currentVersion());

    const started = Date.now();
    const pending = upload(true);
    // Held while the only live edge is behind.
    await sleep(500);
    let answered = false;
    void pending.then(() => (answered = true));
    assert.equal(answered, false, 'still waiting for the edge');
    const acked = Date.now();
    await edge.catchUp();
    const res = await pending;
    const returned = Date.now();
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().result.status, 'active');
    t.diagnostic(`answered ${returned - acked} ms after the acknowledgement (${returned - started} ms in all)`);
    assert.ok(returned - acked < 10_000, `returned ${returned - acked} ms after the acknowledgement: far before the 60 s deadline`);
  });
}

test('the edges are re-read once per signal, not once per waiter', async (t) => {
  let listEdges = 0;
  const h = await startApi({
    deadlineMs: 2_000,
    wrapStore: (store) =>
      new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'listEdges') listEdges++;
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
  });
  t.after(() => h.close());
  const { upload } = await setup(h);
  await h.store.reportEdge({ id: 'behind', name: 'behind', startedAt: 1, appliedVersion: 0 });
  const waiters = 20;
  const before = listEdges;
  const answers = await Promise.all(Array.from({ length: waiters }, () => upload(true)));
  assert.deepEqual([...new Set(answers.map((r) => `${r.statusCode} ${r.json().result?.status ?? r.body}`))], ['200 deployment_timed_out']);
  const reads = listEdges - before;
  t.diagnostic(`${reads} reads of the edges for ${waiters} waiters over the 2 s deadline`);
  // A poll per waiter (every 100 ms for 2 s) would read them at least 400 times.
  assert.ok(reads < 200, `${reads} reads`);
});

test('the cap on waiting requests: one more is a 429 with Retry-After and stores nothing', async (t) => {
  const h = await startApi({ deadlineMs: 30_000, maxWaiters: 2 });
  t.after(() => h.close());
  const { zoneId, upload } = await setup(h);
  await h.store.reportEdge({ id: 'behind', name: 'behind', startedAt: 1, appliedVersion: 0 });
  const held = [upload(true), upload(true)];
  while ((await h.store.listCertificates(zoneId, 'zone')).length < 2) await sleep(10);
  const refused = await upload(true);
  assert.equal(refused.statusCode, 429, refused.body);
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(refused.json().errors[0].code, 1016);
  assert.match(refused.json().errors[0].message, /2 requests are already waiting with \?wait=active.*nothing was changed/);
  assert.equal((await h.store.listCertificates(zoneId, 'zone')).length, 2, 'nothing stored');
  assert.equal((await upload(false)).statusCode, 200, 'without ?wait=active there is no cap');

  await h.edgeApplied('behind');
  for (const res of await Promise.all(held)) assert.equal(res.json().result.status, 'active');
  // Slots come back with the answers.
  const again = upload(true);
  while ((await h.store.listCertificates(zoneId, 'zone')).length < 4) await sleep(10);
  await h.edgeApplied('behind');
  const last = await again;
  assert.equal(last.statusCode, 200, last.body);
  assert.equal(last.json().result.status, 'active');
});
