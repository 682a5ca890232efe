// The one place the API turns deployment facts into statuses: edges' reports (store.listEdges),
// the heartbeat lapse and the deployment deadline go through domain/deriveStatus.
import { deriveStatus, liveEdges, type CertStatus, type DeploymentView, type HostnameAssociation, type StoredCertificate } from '../domain/index.ts';
import type { ApiContext } from './context.ts';

export async function deploymentView(ctx: ApiContext): Promise<DeploymentView> {
  const now = ctx.now();
  const edges = await ctx.store.listEdges();
  return { liveEdges: liveEdges(edges, now, ctx.config.deployment.heartbeatLapseMs), now, deadlineMs: ctx.config.deployment.deadlineMs };
}

export function certificateStatus(cert: StoredCertificate, view: DeploymentView): CertStatus {
  return deriveStatus(
    { deployVersion: cert.deployVersion, createdOn: cert.uploadedOn, deleteVersion: cert.deleteVersion, deleteRequestedOn: cert.deleteRequestedOn },
    view,
  ).status;
}

export function associationStatus(assoc: HostnameAssociation, view: DeploymentView): CertStatus {
  return deriveStatus({ deployVersion: assoc.version, createdOn: assoc.updatedAt, deleteVersion: null, deleteRequestedOn: null }, view).status;
}

/** A removal committed at `version` (associations keep no row once removed). */
export function removalStatus(version: number, requestedOn: number, view: DeploymentView): CertStatus {
  return deriveStatus({ deployVersion: version, createdOn: requestedOn, deleteVersion: version, deleteRequestedOn: requestedOn }, view).status;
}

/** Still converging: a `?wait=active` request keeps waiting while any status is one of these. */
export function isPending(status: CertStatus): boolean {
  return status === 'pending_deployment' || status === 'pending_deletion' || status === 'initializing';
}
