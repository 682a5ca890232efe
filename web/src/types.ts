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
  fingerprint_sha256?: string;
  not_before?: string;
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
  /** Present when the API tells (read | edit). */
  permission?: string;
  zones?: string[] | null;
  admin?: boolean;
}


