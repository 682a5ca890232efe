// Deployment status is derived, never assumed: a change is `active` only once every live edge
// reports a config version at or past the commit that made it (DESIGN: "status tells the truth").
// A status once reached does not regress: the store keeps a monotonic mark of the highest version
// every live edge was seen to apply at once, so an edge that lapsed (frozen, partitioned) and comes
// back with a stale first heartbeat does not turn `active` back into `pending_deployment`. With no
// live edge at all nothing can be deployed or confirmed: that is its own state (`noLiveEdge`), not
// a time-out.
import type { CertStatus, EdgeNode } from './basics.ts';

export interface DeploymentView {
  /** Edges counted as live (heartbeat within the lapse window). */
  liveEdges: EdgeNode[];
  now: number;
  /** How long a change may stay pending before it is reported as timed out. */
  deadlineMs: number;
  /**
   * The highest version every live edge has been seen to apply at once (the store's deployed
   * mark, raised by `deployedMarkCandidate`). Changes at or below it are deployed for good.
   */
  deployedVersion: number;
}

export interface DerivedStatus {
  status: CertStatus;
  /** Live edges that have not applied the version yet (names the laggards on time-outs). */
  laggingEdges: string[];
  /** Still pending because no edge is live: waiting for an edge, not timed out. */
  noLiveEdge: boolean;
}

export function liveEdges(edges: EdgeNode[], now: number, heartbeatLapseMs: number): EdgeNode[] {
  return edges.filter((e) => now - e.lastHeartbeat <= heartbeatLapseMs);
}

/** The version every one of `live` has applied (0 with none live: nothing is confirmed). */
export function deployedMarkCandidate(live: readonly EdgeNode[]): number {
  if (live.length === 0) return 0;
  let min = Infinity;
  for (const e of live) if (e.appliedVersion < min) min = e.appliedVersion;
  return min;
}

function lagging(view: DeploymentView, version: number): string[] {
  return view.liveEdges.filter((e) => e.appliedVersion < version).map((e) => e.id);
}

/** Whether `version` has been applied by every live edge, now or at some earlier observation. */
function deployed(view: DeploymentView, version: number): boolean {
  return version <= view.deployedVersion || (view.liveEdges.length > 0 && version <= deployedMarkCandidate(view.liveEdges));
}

/**
 * Status of something created at `deployVersion` and, when deletion was requested, removed at
 * `deleteVersion`. With no live edge at all nothing can be deployed: it stays pending (never
 * timed out) with `noLiveEdge`, unless it was deployed before the edges went away.
 */
export function deriveStatus(
  item: { deployVersion: number; createdOn: number; deleteVersion: number | null; deleteRequestedOn: number | null },
  view: DeploymentView,
): DerivedStatus {
  const noLiveEdge = view.liveEdges.length === 0;
  if (item.deleteVersion !== null) {
    if (deployed(view, item.deleteVersion)) return { status: 'deleted', laggingEdges: [], noLiveEdge: false };
    if (noLiveEdge) return { status: 'pending_deletion', laggingEdges: [], noLiveEdge };
    const since = item.deleteRequestedOn ?? view.now;
    const timedOut = view.now - since > view.deadlineMs;
    return { status: timedOut ? 'deletion_timed_out' : 'pending_deletion', laggingEdges: lagging(view, item.deleteVersion), noLiveEdge };
  }
  if (deployed(view, item.deployVersion)) return { status: 'active', laggingEdges: [], noLiveEdge: false };
  if (noLiveEdge) return { status: 'pending_deployment', laggingEdges: [], noLiveEdge };
  const timedOut = view.now - item.createdOn > view.deadlineMs;
  return { status: timedOut ? 'deployment_timed_out' : 'pending_deployment', laggingEdges: lagging(view, item.deployVersion), noLiveEdge };
}
