// Row mappers shared by both engines. PostgreSQL returns BIGINT as a string and SQLite returns
// numbers, so every numeric column goes through Number(); booleans are stored as SMALLINT 0/1.
// Mappers build fresh literals (one object shape each) and are kept tight: loadConfig runs them
// over every record and certificate of the installation.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type {
  Account,
  ApiToken,
  CertKind,
  DnsRecord,
  DnsRecordType,
  EdgeNode,
  HostnameAssociation,
  InstallationPki,
  OnOff,
  SslMode,
  StoredCertificate,
  TokenPermission,
  Zone,
  MinTlsVersion,
  StrictTransportSecurity,
  Tls13,
  ZoneEdgeSettingKey,
} from '../../domain/index.ts';
import { DEFAULT_EDGE_SETTINGS } from '../../domain/index.ts';
import type { AlertDelivery, AlertDeliveryStatus, AlertPolicy, AlertWebhook } from '../store.ts';

/** What a driver hands back for a BIGINT/SMALLINT column. */
type Num = number | string;

export interface AccountRow { id: string; name: string; created_on: Num }

export interface ZoneRow {
  id: string;
  account_id: string;
  name: string;
  created_on: Num;
  modified_on: Num;
  ssl_mode: string;
  ssl_modified_on: Num;
  tls_client_auth: string;
  tls_client_auth_modified_on: Num;
  aop_enabled: Num;
  aop_modified_on: Num;
  always_use_https: string;
  always_use_https_modified_on: Num | null;
  min_tls_version: string;
  min_tls_version_modified_on: Num | null;
  tls_1_3: string;
  tls_1_3_modified_on: Num | null;
  http2: string;
  http2_modified_on: Num | null;
  websockets: string;
  websockets_modified_on: Num | null;
  security_header: string;
  security_header_modified_on: Num | null;
}

export interface DnsRecordRow {
  id: string;
  zone_id: string;
  name: string;
  type: string;
  content: string;
  proxied: Num;
  ttl: Num;
  origin_http_port: Num;
  origin_https_port: Num;
  origin_sni: string | null;
  origin_host_header: string | null;
  comment: string | null;
  created_on: Num;
  modified_on: Num;
}

export interface CertificateRow {
  id: string;
  zone_id: string;
  kind: string;
  certificate_pem: string;
  private_key_sealed: string;
  issuer: string;
  serial_number: string;
  signature: string;
  fingerprint_sha256: string;
  not_before: Num;
  expires_on: Num;
  uploaded_on: Num;
  deploy_version: Num;
  delete_version: Num | null;
  delete_requested_on: Num | null;
}

export interface AssociationRow {
  zone_id: string;
  hostname: string;
  cert_id: string;
  enabled: Num;
  created_at: Num;
  updated_at: Num;
  version: Num;
}

export interface TokenRow {
  id: string;
  name: string;
  secret_hash: string;
  zone_ids: string | null;
  permission: string;
  admin: Num;
  created_on: Num;
}

export interface EdgeRow { id: string; name: string; started_at: Num; last_heartbeat: Num; applied_version: Num }

export interface PkiRow {
  origin_pull_ca_pem: string;
  origin_pull_ca_key_sealed: string;
  global_cert_pem: string;
  global_key_sealed: string;
  edge_ca_pem: string;
  edge_ca_key_sealed: string;
  ticket_keys_sealed: string | null;
  ticket_keys_rotated_on: Num | null;
}

export function toAccount(r: AccountRow): Account {
  return { id: r.id, name: r.name, createdOn: Number(r.created_on) };
}

export function toZone(r: ZoneRow): Zone {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    createdOn: Number(r.created_on),
    modifiedOn: Number(r.modified_on),
    sslMode: r.ssl_mode as SslMode,
    sslModifiedOn: Number(r.ssl_modified_on),
    tlsClientAuth: r.tls_client_auth as OnOff,
    tlsClientAuthModifiedOn: Number(r.tls_client_auth_modified_on),
    aopEnabled: Number(r.aop_enabled) === 1,
    aopModifiedOn: Number(r.aop_modified_on),
    edge: {
      alwaysUseHttps: r.always_use_https as OnOff,
      minTlsVersion: r.min_tls_version as MinTlsVersion,
      tls13: r.tls_1_3 as Tls13,
      http2: r.http2 as OnOff,
      websockets: r.websockets as OnOff,
      securityHeader: securityHeaderOf(r.security_header),
    },
    edgeModifiedOn: edgeModifiedOn(r),
  };
}

/** Zone edge setting → its columns (value, modified_on); the value column holds the domain value (JSON for objects). */
export const EDGE_SETTING_COLUMNS: Readonly<Record<ZoneEdgeSettingKey, string>> = {
  alwaysUseHttps: 'always_use_https',
  minTlsVersion: 'min_tls_version',
  tls13: 'tls_1_3',
  http2: 'http2',
  websockets: 'websockets',
  securityHeader: 'security_header',
};

// The stored JSON was written by the store from a validated value; parsed ones are shared, since
// loadConfig maps every zone of the installation and most zones share a handful of values.
const securityHeaders = new Map<string, StrictTransportSecurity>();

function securityHeaderOf(json: string): StrictTransportSecurity {
  let value = securityHeaders.get(json);
  if (value === undefined) {
    const raw = JSON.parse(json) as Partial<StrictTransportSecurity>;
    const d = DEFAULT_EDGE_SETTINGS.securityHeader;
    value = Object.freeze({
      enabled: raw.enabled ?? d.enabled,
      maxAge: raw.maxAge ?? d.maxAge,
      includeSubdomains: raw.includeSubdomains ?? d.includeSubdomains,
      preload: raw.preload ?? d.preload,
      nosniff: raw.nosniff ?? d.nosniff,
    });
    if (securityHeaders.size > 256) securityHeaders.clear();
    securityHeaders.set(json, value);
  }
  return value;
}

function edgeModifiedOn(r: ZoneRow): Partial<Record<ZoneEdgeSettingKey, number>> {
  const out: Partial<Record<ZoneEdgeSettingKey, number>> = {};
  for (const [key, column] of Object.entries(EDGE_SETTING_COLUMNS) as [ZoneEdgeSettingKey, string][]) {
    const at = r[`${column}_modified_on` as keyof ZoneRow];
    if (at !== null && at !== undefined) out[key] = Number(at);
  }
  return out;
}

export function toDnsRecord(r: DnsRecordRow): DnsRecord {
  return {
    id: r.id,
    zoneId: r.zone_id,
    name: r.name,
    type: r.type as DnsRecordType,
    content: r.content,
    proxied: Number(r.proxied) === 1,
    ttl: Number(r.ttl),
    originHttpPort: Number(r.origin_http_port),
    originHttpsPort: Number(r.origin_https_port),
    originSni: r.origin_sni ?? null,
    originHostHeader: r.origin_host_header ?? null,
    comment: r.comment,
    createdOn: Number(r.created_on),
    modifiedOn: Number(r.modified_on),
  };
}

export function toCertificate(r: CertificateRow): StoredCertificate {
  return {
    id: r.id,
    zoneId: r.zone_id,
    kind: r.kind as CertKind,
    certificatePem: r.certificate_pem,
    privateKeySealed: r.private_key_sealed,
    issuer: r.issuer,
    serialNumber: r.serial_number,
    signature: r.signature,
    fingerprintSha256: r.fingerprint_sha256,
    notBefore: Number(r.not_before),
    expiresOn: Number(r.expires_on),
    uploadedOn: Number(r.uploaded_on),
    deployVersion: Number(r.deploy_version),
    deleteVersion: r.delete_version === null ? null : Number(r.delete_version),
    deleteRequestedOn: r.delete_requested_on === null ? null : Number(r.delete_requested_on),
  };
}

export function toAssociation(r: AssociationRow): HostnameAssociation {
  return {
    zoneId: r.zone_id,
    hostname: r.hostname,
    certId: r.cert_id,
    enabled: Number(r.enabled) === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
  };
}

export function toToken(r: TokenRow): ApiToken {
  return {
    id: r.id,
    name: r.name,
    secretHash: r.secret_hash,
    zoneIds: r.zone_ids === null ? null : (JSON.parse(r.zone_ids) as string[]),
    permission: r.permission as TokenPermission,
    createdOn: Number(r.created_on),
    admin: Number(r.admin) === 1,
  };
}

export function toEdge(r: EdgeRow): EdgeNode {
  return {
    id: r.id,
    name: r.name,
    startedAt: Number(r.started_at),
    lastHeartbeat: Number(r.last_heartbeat),
    appliedVersion: Number(r.applied_version),
  };
}

export function toPki(r: PkiRow): InstallationPki {
  return {
    originPullCaPem: r.origin_pull_ca_pem,
    originPullCaKeySealed: r.origin_pull_ca_key_sealed,
    globalCertPem: r.global_cert_pem,
    globalKeySealed: r.global_key_sealed,
    edgeCaPem: r.edge_ca_pem,
    edgeCaKeySealed: r.edge_ca_key_sealed,
    ticketKeysSealed: r.ticket_keys_sealed ?? null,
    ticketKeysRotatedOn: r.ticket_keys_rotated_on === null || r.ticket_keys_rotated_on === undefined ? null : Number(r.ticket_keys_rotated_on),
  };
}

export function bool(value: boolean): number {
  return value ? 1 : 0;
}

// ── alerting ───────────────────────────────────────────────────────

export interface AlertWebhookRow {
  id: string;
  account_id: string;
  name: string;
  url: string;
  type: string;
  secret_sealed: string | null;
  created_at: Num;
  last_success: Num | null;
  last_failure: Num | null;
}

export interface AlertPolicyRow {
  id: string;
  account_id: string;
  name: string;
  description: string;
  enabled: Num;
  alert_type: string;
  alert_interval: string | null;
  filters: string;
  created: Num;
  modified: Num;
}

export interface AlertDeliveryRow {
  id: string;
  dedupe_key: string;
  account_id: string;
  zone_id: string;
  certificate_id: string;
  policy_id: string;
  webhook_id: string;
  alert_type: string;
  event: string;
  payload: string;
  status: string;
  attempts: Num;
  created_at: Num;
  next_attempt_at: Num | null;
  give_up_at: Num;
  last_attempt_at: Num | null;
  last_status: Num | null;
  last_error: string | null;
  delivered_at: Num | null;
  lease_owner: string | null;
  lease_until: Num | null;
}

function numOrNull(v: Num | null): number | null {
  return v === null ? null : Number(v);
}

export function toAlertWebhook(r: AlertWebhookRow): AlertWebhook {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    url: r.url,
    type: 'generic',
    secretSealed: r.secret_sealed,
    createdAt: Number(r.created_at),
    lastSuccess: numOrNull(r.last_success),
    lastFailure: numOrNull(r.last_failure),
  };
}

/** `webhookIds` come from alert_policy_webhooks, read separately. */
export function toAlertPolicy(r: AlertPolicyRow, webhookIds: string[]): AlertPolicy {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    description: r.description,
    enabled: Number(r.enabled) === 1,
    alertType: r.alert_type,
    alertInterval: r.alert_interval,
    webhookIds,
    filters: JSON.parse(r.filters) as Record<string, string[]>,
    created: Number(r.created),
    modified: Number(r.modified),
  };
}

export function toAlertDelivery(r: AlertDeliveryRow): AlertDelivery {
  return {
    id: r.id,
    dedupeKey: r.dedupe_key,
    accountId: r.account_id,
    zoneId: r.zone_id,
    certificateId: r.certificate_id,
    policyId: r.policy_id,
    webhookId: r.webhook_id,
    alertType: r.alert_type,
    event: r.event,
    payload: r.payload,
    status: r.status as AlertDeliveryStatus,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    nextAttemptAt: numOrNull(r.next_attempt_at),
    giveUpAt: Number(r.give_up_at),
    lastAttemptAt: numOrNull(r.last_attempt_at),
    lastStatus: numOrNull(r.last_status),
    lastError: r.last_error,
    deliveredAt: numOrNull(r.delivered_at),
    leaseOwner: r.lease_owner,
    leaseUntil: numOrNull(r.lease_until),
  };
}
