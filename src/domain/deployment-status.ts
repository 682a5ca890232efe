// Deployment status is derived, never assumed: a change is `active` only once every live edge
// reports a config version at or past the commit that made it (DESIGN: "status tells the truth").
import type { CertStatus, EdgeNode } from './types.ts';

export interface DeploymentView {
  /** Edges counted as live (heartbeat within the lapse window). */
  liveEdges: EdgeNode[];
  now: number;
  /** How long a change may stay pending before it is reported as timed out. */
  deadlineMs: number;
}

export interface DerivedStatus {
  status: CertStatus;
  /** Live edges that have not applied the version yet (names the laggards on time-outs). */
  laggingEdges: string[];
}

export function liveEdges(edges: EdgeNode[], now: number, heartbeatLapseMs: number): EdgeNode[] {
  return edges.filter((e) => now - e.lastHeartbeat <= heartbeatLapseMs);
}

function lagging(view: DeploymentView, version: number): string[] {
  return view.liveEdges.filter((e) => e.appliedVersion < version).map((e) => e.id);
}

/**
 * Status of something created at `deployVersion` and, when deletion was requested, removed at
 * `deleteVersion`. With no live edge at all nothing can be deployed, so it stays pending.
 */
export function deriveStatus(
  item: { deployVersion: number; createdOn: number; deleteVersion: number | null; deleteRequestedOn: number | null },
  view: DeploymentView,
): DerivedStatus {
  if (item.deleteVersion !== null) {
    const behind = lagging(view, item.deleteVersion);
    if (view.liveEdges.length > 0 && behind.length === 0) return { status: 'deleted', laggingEdges: [] };
    const since = item.deleteRequestedOn ?? view.now;
    const timedOut = view.now - since > view.deadlineMs;
    return { status: timedOut ? 'deletion_timed_out' : 'pending_deletion', laggingEdges: behind };
  }
  const behind = lagging(view, item.deployVersion);
  if (view.liveEdges.length > 0 && behind.length === 0) return { status: 'active', laggingEdges: [] };
  const timedOut = view.now - item.createdOn > view.deadlineMs;
  return { status: timedOut ? 'deployment_timed_out' : 'pending_deployment', laggingEdges: behind };
}
