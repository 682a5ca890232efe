// Domain objects → v4 wire shapes (reference §2–§4). Times become RFC 3339; statuses come from
// status.ts. No function here has access to a private key, sealed or not.
// Tested in test/api/sdk.test.ts and test/api/keys-at-rest.test.ts.
import type {
  Account,
  ApiToken,
  DeploymentView,
  DnsRecord,
  HostnameAssociation,
  StoredCertificate,
  Zone,
} from '../domain/index.ts';
import { associationDeployment, certificateDeployment, certificateStatus, namesLaggingEdges, type Deployment } from './status.ts';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * `lagging_edges` (ours): on a pending or timed-out status, the live edges that have not applied
 * the change, with the version each serves. Absent on settled statuses.
 */
export function laggingEdgesWire(deployment: Deployment) {
  if (!namesLaggingEdges(deployment.status)) return {};
  const lagging_edges = deployment.lagging.map((e) => ({ id: e.id, name: e.name, applied_version: e.appliedVersion }));
  // `no_live_edge` (ours): pending because no edge is live at all, so nothing can time out yet.
  return deployment.noLiveEdge ? { lagging_edges, no_live_edge: true as const } : { lagging_edges };
}

/** The one rendering of a stored certificate, zone-level or per-hostname. */
export function certificateWire(cert: StoredCertificate, view: DeploymentView, deployment: Deployment = certificateDeployment(cert, view)) {
  const { status } = deployment;
  return {
    id: cert.id,
    certificate: cert.certificatePem,
    expires_on: iso(cert.expiresOn),
    issuer: cert.issuer,
    serial_number: cert.serialNumber,
    signature: cert.signature,
    status,
    uploaded_on: iso(cert.uploadedOn),
    fingerprint_sha256: cert.fingerprintSha256,
    not_before: iso(cert.notBefore),
    ...laggingEdgesWire(deployment),
  };
}

export function zoneCertificateWire(cert: StoredCertificate, zone: Zone, view: DeploymentView) {
  return { ...certificateWire(cert, view), enabled: zone.aopEnabled };
}

/** An association with its certificate's details (`cert_status` from the certificate, `status` from the association). */
export function associationWire(assoc: HostnameAssociation, cert: StoredCertificate | undefined, view: DeploymentView) {
  const deployment = associationDeployment(assoc, view);
  return {
    id: assoc.certId,
    hostname: assoc.hostname,
    cert_id: assoc.certId,
    enabled: assoc.enabled as boolean | null,
    status: deployment.status,
    created_at: iso(assoc.createdAt),
    updated_at: iso(assoc.updatedAt),
    ...(cert ? certificateDetails(cert, view) : {}),
    ...laggingEdgesWire(deployment),
  };
}

/** What PUT …/hostnames answers for an `enabled: null` item: the association as removed. */
export function removedAssociationWire(hostname: string, certId: string, deployment: Deployment, cert: StoredCertificate | undefined, view: DeploymentView) {
  return {
    id: certId,
    hostname,
    cert_id: certId,
    enabled: null,
    status: deployment.status,
    ...(cert ? certificateDetails(cert, view) : {}),
    ...laggingEdgesWire(deployment),
  };
}

function certificateDetails(cert: StoredCertificate, view: DeploymentView) {
  return {
    cert_status: certificateStatus(cert, view),
    certificate: cert.certificatePem,
    issuer: cert.issuer,
    signature: cert.signature,
    serial_number: cert.serialNumber,
    expires_on: iso(cert.expiresOn),
    cert_uploaded_on: iso(cert.uploadedOn),
    cert_updated_at: iso(cert.uploadedOn),
  };
}

export function accountWire(account: Account) {
  return { id: account.id, name: account.name, type: 'standard', created_on: iso(account.createdOn), settings: {} };
}

export function zoneWire(zone: Zone, account: Account | null) {
  return {
    id: zone.id,
    name: zone.name,
    status: 'active',
    paused: false,
    type: 'full',
    development_mode: 0,
    name_servers: [] as string[],
    original_name_servers: null,
    created_on: iso(zone.createdOn),
    modified_on: iso(zone.modifiedOn),
    activated_on: iso(zone.createdOn),
    account: { id: zone.accountId, name: account?.name ?? '' },
    meta: {},
  };
}

export function dnsRecordWire(record: DnsRecord, zone: Zone) {
  return {
    id: record.id,
    zone_id: record.zoneId,
    zone_name: zone.name,
    name: record.name,
    type: record.type,
    content: record.content,
    proxiable: true,
    proxied: record.proxied,
    ttl: record.ttl,
    locked: false,
    comment: record.comment,
    tags: [] as string[],
    meta: {},
    settings: {},
    origin_http_port: record.originHttpPort,
    origin_https_port: record.originHttpsPort,
    origin_sni: record.originSni,
    origin_host_header: record.originHostHeader,
    created_on: iso(record.createdOn),
    modified_on: iso(record.modifiedOn),
  };
}

export function tokenWire(token: ApiToken, secret?: string) {
  return {
    id: token.id,
    name: token.name,
    status: 'active',
    permission: token.permission,
    zones: token.zoneIds,
    admin: token.admin,
    issued_on: iso(token.createdOn),
    modified_on: iso(token.createdOn),
    ...(secret === undefined ? {} : { value: secret }),
  };
}
