// The wire shapes the dashboard reads (a subset of the API's; see src/api/schemas.ts).

export type CertStatus =
  | 'initializing'
  | 'pending_deployment'
  | 'pending_deletion'
  | 'active'
  | 'deleted'
  | 'deployment_timed_out'
  | 'deletion_timed_out';

export type SslMode = 'off' | 'flexible' | 'full' | 'strict';

export interface Zone {
  id: string;
  name: string;
  status: string;
  account: { id: string; name: string };
}

export interface DnsRecord {
  id: string;
  name: string;
  type: 'A' | 'AAAA' | 'CNAME';
  content: string;
  proxied: boolean;
  ttl: number;
  comment: string | null;
  origin_http_port: number;
  origin_https_port: number;
}

export interface Setting {
  id: string;
  value: string;
  editable: boolean;
  modified_on: string | null;
}

export interface Certificate {
  id: string;
  certificate: string;
  expires_on: string;
  issuer: string;
  serial_number: string;
  signature: string;
  status: CertStatus;
  uploaded_on: string;
  fingerprint_sha256: string;
  not_before: string;
  /** Zone certificates: whether zone-level AOP is on. */
  enabled?: boolean;
}

export interface Association {
  hostname: string;
  cert_id: string;
  enabled: boolean | null;
  status: CertStatus;
  cert_status?: CertStatus;
  expires_on?: string;
  issuer?: string;
  updated_at?: string;
}

export interface Effective {
  hostname: string;
  ssl_mode: SslMode;
  level: 'hostname' | 'zone' | 'global' | 'none';
  reason: string;
  explanation: string;
  proxied: boolean;
  association: { cert_id: string; enabled: boolean } | null;
  certificate: {
    id: string;
    fingerprint_sha256: string;
    expires_on: string;
    status: CertStatus;
    issuer: string;
    serial_number: string;
  } | null;
}

export interface TokenVerify {
  id: string;
  status: string;
  permission: 'read' | 'edit';
  zones: string[] | null;
  admin: boolean;
}

/** `GET /user/tokens`; `value` (the secret) only in the answer to its creation. */
export interface ApiToken {
  id: string;
  name: string;
  status: string;
  permission: 'read' | 'edit';
  /** Zone ids the token is limited to; null for every zone. */
  zones: string[] | null;
  admin: boolean;
  issued_on: string;
  modified_on: string;
  value?: string;
}



// ── notifications (account-level alerting v3, docs/alerting.md) ──

export interface AlertWebhook {
  id: string;
  name: string;
  url: string;
  type: string;
  created_at: string;
  last_success: string | null;
  last_failure: string | null;
}

export interface AlertPolicy {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  alert_type: string;
  alert_interval?: string;
  mechanisms: { webhooks: { id: string }[] };
  filters: Record<string, string[]>;
  created: string;
  modified: string;
}

export interface AvailableAlert {
  type: string;
  display_name: string;
  description: string;
}

/** `GET …/available_alerts`: alert types grouped by product ("SSL/TLS"). */
export type AvailableAlerts = Record<string, AvailableAlert[]>;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** A row of originpull's delivery log (`GET …/alerting/v3/deliveries`). */
export interface AlertDelivery {
  id: string;
  status: DeliveryStatus;
  alert_type: string;
  event: '30d' | '14d' | 'expired' | string;
  certificate_id: string;
  zone_id: string;
  policy_id: string;
  webhook_id: string;
  attempts: number;
  created_at: string;
  next_attempt_at: string | null;
  give_up_at: string;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
}
