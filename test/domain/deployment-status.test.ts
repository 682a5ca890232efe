import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveStatus, liveEdges, type EdgeNode } from '../../src/domain/index.ts';

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

test('no live edge: pending until the deadline, then timed out', () => {
  assert.deepEqual(deriveStatus(item(5), { liveEdges: [], now: 1_500, deadlineMs: 1_000 }), { status: 'pending_deployment', laggingEdges: [] });
  assert.equal(deriveStatus(item(5), { liveEdges: [], now: 2_001, deadlineMs: 1_000 }).status, 'deployment_timed_out');
});

test('active once every live edge applied the version; laggards are named', () => {
  const view = { liveEdges: [edge('a', 5), edge('b', 4)], now: 1_100, deadlineMs: 1_000 };
  assert.deepEqual(deriveStatus(item(5), view), { status: 'pending_deployment', laggingEdges: ['b'] });
  assert.equal(deriveStatus(item(4), view).status, 'active');
  assert.equal(deriveStatus(item(5), { ...view, liveEdges: [edge('a', 6), edge('b', 5)] }).status, 'active');
});

test('deletion: pending_deletion, deleted once applied, deletion_timed_out past the deadline', () => {
  const del = item(2, { deleteVersion: 7, deleteRequestedOn: 5_000 });
  assert.equal(deriveStatus(del, { liveEdges: [edge('a', 6)], now: 5_500, deadlineMs: 1_000 }).status, 'pending_deletion');
  assert.equal(deriveStatus(del, { liveEdges: [edge('a', 7)], now: 5_500, deadlineMs: 1_000 }).status, 'deleted');
  const late = deriveStatus(del, { liveEdges: [edge('a', 6)], now: 6_001, deadlineMs: 1_000 });
  assert.deepEqual(late, { status: 'deletion_timed_out', laggingEdges: ['a'] });
});
