// The wire shapes the dashboard reads, derived from the API's own TypeBox schemas
// (src/api/schemas.ts), so a field the API renames or retypes breaks the dashboard's type check
// instead of its pages. Type-only imports: nothing of the server reaches the bundle.
import type { Static } from '@sinclair/typebox';
import type {
  AssociationSchema,
  CertStatusSchema,
  DnsRecordSchema,
  EffectiveSchema,
  SettingSchema,
  TokenSchema,
  TokenVerifySchema,
  ZoneCertificateSchema,
  ZoneSchema,
} from '../../src/api/schemas.ts';
import type { CustomCertificateSchema, EdgeCertEffectiveSchema } from '../../src/api/custom-certificates.ts';
import type { PackSchema } from '../../src/api/certificate-packs.ts';

export type CertStatus = Static<typeof CertStatusSchema>;
export type SslMode = Effective['ssl_mode'];
export type Zone = Static<typeof ZoneSchema>;
export type DnsRecord = Static<typeof DnsRecordSchema>;
export type Setting = Static<typeof SettingSchema>;
/** Zone and hostname certificates (`enabled`: zone certificates only, whether zone-level AOP is on). */
export type Certificate = Omit<Static<typeof ZoneCertificateSchema>, 'enabled'> & { enabled?: boolean };
export type Association = Static<typeof AssociationSchema>;
export type Effective = Static<typeof EffectiveSchema>;
export type TokenVerify = Static<typeof TokenVerifySchema>;
/** `GET /user/tokens`; `value` (the secret) only in the answer to its creation. */
export type ApiToken = Static<typeof TokenSchema>;

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

// ── custom edge certificates (what visitors' browsers see; src/api/custom-certificates.ts) ──

/** `GET /zones/{z}/custom_certificates`: Cloudflare's fields plus `deployment_status`, `certificate`, `fingerprint_sha256`. */
export type CustomCertificate = Static<typeof CustomCertificateSchema>;
/** `GET /zones/{z}/edge_certificates/effective/{hostname}`: which certificate visitors get, and why. */
export type EdgeCertEffective = Static<typeof EdgeCertEffectiveSchema>;

// ── certificate packs (ACME: Universal SSL and advanced; src/api/certificate-packs.ts) ──

/** `GET /zones/{z}/ssl/certificate_packs`: Cloudflare's fields plus `created_on`, `renew_on`, `next_attempt_on`. */
export type CertificatePack = Static<typeof PackSchema>;
