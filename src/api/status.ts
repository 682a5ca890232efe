// The one place the API turns deployment facts into statuses: edges' reports (store.listEdges),
// the heartbeat lapse and the deployment deadline go through domain/deriveStatus. Besides the
// status, a deployment names the live edges that have not applied the change yet (the
// `lagging_edges` extension on pending and timed-out answers).
// Tested in test/api/aop.test.ts, test/regressions/deployment-status.test.ts and test/scale/edges.test.ts.
import {
  deployedMarkCandidate,
  deriveStatus,
  liveEdges,
  type CertStatus,
  type DeploymentView,
  type EdgeNode,
  type HostnameAssociation,
  type StoredCertificate,
} from '../domain/index.ts';
import type { ApiContext } from './context.ts';

export interface Deployment {
  status: CertStatus;
  /** Live edges still below the version the status waits for. */
  lagging: EdgeNode[];
  /** Pending only because no edge is live (see domain/deployment-status.ts). */
  noLiveEdge: boolean;
}

export async function deploymentView(ctx: ApiContext): Promise<DeploymentView> {
  const now = ctx.now();
  const edges = await ctx.store.listEdges();
  const live = liveEdges(edges, now, ctx.config.deployment.heartbeatLapseMs);
  // Recorded so that a status once reached survives an edge that lapses and returns stale.
  const deployedVersion = await ctx.store.raiseDeployedMark(deployedMarkCandidate(live));
  return { liveEdges: live, now, deadlineMs: ctx.config.deployment.deadlineMs, deployedVersion };
}

function derive(item: Parameters<typeof deriveStatus>[0], view: DeploymentView): Deployment {
  const { status, laggingEdges, noLiveEdge } = deriveStatus(item, view);
  const ids = new Set(laggingEdges);
  return { status, lagging: view.liveEdges.filter((e) => ids.has(e.id)), noLiveEdge };
}

export function certificateDeployment(cert: StoredCertificate, view: DeploymentView): Deployment {
  return derive(
    { deployVersion: cert.deployVersion, createdOn: cert.uploadedOn, deleteVersion: cert.deleteVersion, deleteRequestedOn: cert.deleteRequestedOn },
    view,
  );
}

export function associationDeployment(assoc: HostnameAssociation, view: DeploymentView): Deployment {
  return derive({ deployVersion: assoc.version, createdOn: assoc.updatedAt, deleteVersion: null, deleteRequestedOn: null }, view);
}

/** A removal committed at `version` (associations keep no row once removed). */
export function removalDeployment(version: number, requestedOn: number, view: DeploymentView): Deployment {
  return derive({ deployVersion: version, createdOn: requestedOn, deleteVersion: version, deleteRequestedOn: requestedOn }, view);
}

export function certificateStatus(cert: StoredCertificate, view: DeploymentView): CertStatus {
  return certificateDeployment(cert, view).status;
}

export function associationStatus(assoc: HostnameAssociation, view: DeploymentView): CertStatus {
  return associationDeployment(assoc, view).status;
}

export function removalStatus(version: number, requestedOn: number, view: DeploymentView): CertStatus {
  return removalDeployment(version, requestedOn, view).status;
}

/** Still converging: a `?wait=active` request keeps waiting while any status is one of these. */
export function isPending(status: CertStatus): boolean {
  return status === 'pending_deployment' || status === 'pending_deletion' || status === 'initializing';
}

/** Statuses whose answer names the lagging edges. */
export function namesLaggingEdges(status: CertStatus): boolean {
  return status === 'pending_deployment' || status === 'pending_deletion' || status === 'deployment_timed_out' || status === 'deletion_timed_out';
}
