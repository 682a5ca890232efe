import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deployedMarkCandidate, deriveStatus, liveEdges, type EdgeNode } from '../../src/domain/index.ts';

const edge = (id: string, appliedVersion: number, lastHeartbeat = 1_000): EdgeNode => ({ id, name: id, startedAt: 0, lastHeartbeat, appliedVersion });
const item = (deployVersion: number, extra: Partial<{ createdOn: number; deleteVersion: number | null; deleteRequestedOn: number | null }> = {}) => ({
  deployVersion,
  createdOn: 1_000,
  deleteVersion: null,
  deleteRequestedOn: null,
  ...extra,
});

test('liveEdges keeps edges whose heartbeat is within the lapse', () => {
  const edges = [edge('a', 1, 1_000), edge('b', 1, 9_000), edge('c', 1, 10_000)];
  assert.deepEqual(liveEdges(edges, 10_000, 1_000).map((e) => e.id), ['b', 'c']);
});

test('no live edge: pending with noLiveEdge, never timed out; deployed before stays active', () => {
  const none = { liveEdges: [], now: 1_500, deadlineMs: 1_000, deployedVersion: 3 };
  assert.deepEqual(deriveStatus(item(5), none), { status: 'pending_deployment', laggingEdges: [], noLiveEdge: true });
  assert.deepEqual(deriveStatus(item(5), { ...none, now: 1_000_000 }), { status: 'pending_deployment', laggingEdges: [], noLiveEdge: true });
  assert.deepEqual(deriveStatus(item(3), { ...none, now: 1_000_000 }), { status: 'active', laggingEdges: [], noLiveEdge: false });
  const del = item(2, { deleteVersion: 7, deleteRequestedOn: 1_000 });
  assert.deepEqual(deriveStatus(del, { ...none, now: 1_000_000 }), { status: 'pending_deletion', laggingEdges: [], noLiveEdge: true });
  assert.equal(deriveStatus(del, { ...none, deployedVersion: 7 }).status, 'deleted');
});

test('a status once reached does not regress: a stale edge that comes back leaves the deployed mark', () => {
  const view = { liveEdges: [edge('a', 6), edge('thawed', 2)], now: 1_100, deadlineMs: 1_000, deployedVersion: 5 };
  assert.equal(deriveStatus(item(5), view).status, 'active');
  assert.deepEqual(deriveStatus(item(6), view), { status: 'pending_deployment', laggingEdges: ['thawed'], noLiveEdge: false });
  assert.equal(deployedMarkCandidate(view.liveEdges), 2);
  assert.equal(deployedMarkCandidate([]), 0);
});

test('active once every live edge applied the version; laggards are named', () => {
  const view = { liveEdges: [edge('a', 5), edge('b', 4)], now: 1_100, deadlineMs: 1_000, deployedVersion: 0 };
  assert.deepEqual(deriveStatus(item(5), view), { status: 'pending_deployment', laggingEdges: ['b'], noLiveEdge: false });
  assert.equal(deriveStatus(item(4), view).status, 'active');
  assert.equal(deriveStatus(item(5), { ...view, liveEdges: [edge('a', 6), edge('b', 5)] }).status, 'active');
});

test('deletion: pending_deletion, deleted once applied, deletion_timed_out past the deadline', () => {
  const del = item(2, { deleteVersion: 7, deleteRequestedOn: 5_000 });
  assert.equal(deriveStatus(del, { liveEdges: [edge('a', 6)], now: 5_500, deadlineMs: 1_000, deployedVersion: 0 }).status, 'pending_deletion');
  assert.equal(deriveStatus(del, { liveEdges: [edge('a', 7)], now: 5_500, deadlineMs: 1_000, deployedVersion: 0 }).status, 'deleted');
  const late = deriveStatus(del, { liveEdges: [edge('a', 6)], now: 6_001, deadlineMs: 1_000, deployedVersion: 0 });
  assert.deepEqual(late, { status: 'deletion_timed_out', laggingEdges: ['a'], noLiveEdge: false });
});
