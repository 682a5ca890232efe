// Cause: statuses were derived from the current edge reports alone, so an edge that lapsed and came back with a stale first heartbeat turned `active` back into `pending_deployment`, and with no live edge every certificate read `deployment_timed_out`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { certFixtures, hasOpenssl } from '../helpers/cert-fixtures.ts';
import { createZone, startApi } from '../api/harness.ts';

const skip = hasOpenssl() ? false : 'openssl not installed: apt-get install openssl';
const LAPSE_MS = 400;

test('an edge that lapses and returns stale does not regress active; no live edge is its own state', { skip }, async (t) => {
  const f = await certFixtures();
  const h = await startApi({ deadlineMs: 300, heartbeatLapseMs: LAPSE_MS });
  t.after(() => h.close());
  const zoneId = await createZone(h, 'thaw.test');
  const base = `/zones/${zoneId}/origin_tls_client_auth`;
  const get = async (id: string) => (await h.call('GET', `${base}/${id}`)).json().result;

  // Two edges serve the same version; then "frozen" stops reporting (what SIGSTOP does).
  const before = await h.store.currentVersion();
  await h.store.reportEdge({ id: 'frozen', name: 'frozen', startedAt: 1, appliedVersion: before });
  await h.store.reportEdge({ id: 'running', name: 'running', startedAt: 1, appliedVersion: before });
  const cert = (await h.call('POST', base, { body: { certificate: f.leaf.certificate, private_key: f.leaf.privateKey } })).json().result;
  await sleep(LAPSE_MS + 200);
  await h.edgeApplied('running');
  assert.equal((await get(cert.id)).status, 'active', 'the only live edge applied it');

  // SIGCONT: the thawed edge's first heartbeat carries the version it served when frozen.
  await h.store.reportEdge({ id: 'frozen', name: 'frozen', startedAt: 1, appliedVersion: before });
  const thawed = await get(cert.id);
  assert.equal(thawed.status, 'active', 'a status once reached does not regress');
  assert.equal(thawed.lagging_edges, undefined);

  // A change made now does wait for the thawed edge.
  const next = (await h.call('POST', base, { body: { certificate: f.other.certificate, private_key: f.other.privateKey } })).json().result;
  await h.edgeApplied('running');
  const pending = await get(next.id);
  assert.equal(pending.status, 'pending_deployment');
  assert.deepEqual(pending.lagging_edges.map((e: { id: string }) => e.id), ['frozen']);

  // Every edge gone, long past the deadline: deployed certificates stay active, the pending one
  // waits for an edge instead of reading deployment_timed_out.
  await sleep(LAPSE_MS + 200);
  assert.equal((await get(cert.id)).status, 'active');
  const none = await get(next.id);
  assert.equal(none.status, 'pending_deployment');
  assert.equal(none.no_live_edge, true);
  assert.deepEqual(none.lagging_edges, []);
});
