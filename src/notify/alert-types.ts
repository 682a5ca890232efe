// The alert types originpull sends, as `available_alerts` lists them. Three are
// Cloudflare's; `aop_expired_certificate_in_use_type` is ours: an expired
// certificate that the edge still presents, which origins enforcing AOP will refuse.
// `custom_ssl_certificate_event_type` watches custom edge certificates (what visitors see): it is
// Cloudflare's one alert type for customer-provided edge certificates (docs/alerting.md says why
// it and not the Universal SSL or Advanced Certificate types, which belong to certificate packs).
// `universal_ssl_event_type` and `dedicated_ssl_certificate_event_type` are Cloudflare's types for
// those packs (universal and advanced): expiry like the custom type, and a failed validation or
// issuance with the CA's error text.
// Tested in test/notify/plan-alerts.test.ts and test/api/alerting.test.ts (available alerts).
import type { CertKind } from '../domain/index.ts';

export const ZONE_EXPIRY_ALERT = 'zone_aop_custom_certificate_expiration_type';
export const HOSTNAME_EXPIRY_ALERT = 'hostname_aop_custom_certificate_expiration_type';
export const EXPIRED_IN_USE_ALERT = 'aop_expired_certificate_in_use_type';
export const EDGE_CUSTOM_EXPIRY_ALERT = 'custom_ssl_certificate_event_type';
export const UNIVERSAL_SSL_ALERT = 'universal_ssl_event_type';
export const ADVANCED_CERTIFICATE_ALERT = 'dedicated_ssl_certificate_event_type';

/**
 * `expiry`: 30 and 14 days before; `expired_in_use`: expired and still presented to an origin;
 * `expiry_and_expired`: 30 and 14 days before, and once expired; `pack_events`: the same for a
 * certificate pack's certificate, and once per failed validation or issuance.
 */
export type AlertTrigger = 'expiry' | 'expired_in_use' | 'expiry_and_expired' | 'pack_events';

/** What a type watches: AOP client certificates by level, custom edge certificates, or certificate packs by type. */
export type WatchedKind = CertKind | 'edge_custom' | 'pack_universal' | 'pack_advanced';

export interface AlertTypeInfo {
  type: string;
  displayName: string;
  description: string;
  /** Which uploaded certificates it watches. */
  kinds: readonly WatchedKind[];
  trigger: AlertTrigger;
}

/** The product group `available_alerts` files them under. */
export const ALERT_PRODUCT = 'SSL/TLS';

/** Days before expires_on at which the expiry alerts fire, largest first. */
export const EXPIRY_THRESHOLDS_DAYS = [30, 14] as const;

export const ALERT_TYPES: readonly AlertTypeInfo[] = Object.freeze([
  {
    type: ZONE_EXPIRY_ALERT,
    displayName: 'Zone-level Authenticated Origin Pulls Certificate Expiration Alert',
    description: 'Sent 30 days and 14 days before the zone-level Authenticated Origin Pulls certificate of a zone expires.',
    kinds: ['zone'],
    trigger: 'expiry',
  },
  {
    type: HOSTNAME_EXPIRY_ALERT,
    displayName: 'Hostname-level Authenticated Origin Pulls Certificate Expiration Alert',
    description: 'Sent 30 days and 14 days before an uploaded hostname-level Authenticated Origin Pulls certificate expires.',
    kinds: ['hostname'],
    trigger: 'expiry',
  },
  {
    type: EXPIRED_IN_USE_ALERT,
    displayName: 'Expired Authenticated Origin Pulls Certificate Still In Use (originpull)',
    description:
      'originpull extension: sent once when an expired zone-level or hostname-level certificate is still presented to origins. Origins that verify client certificates refuse the edge (525) until a valid certificate is deployed.',
    kinds: ['zone', 'hostname'],
    trigger: 'expired_in_use',
  },
  {
    type: EDGE_CUSTOM_EXPIRY_ALERT,
    displayName: 'Custom Edge Certificate Expiration Alert',
    description:
      'Sent 30 days and 14 days before a custom edge certificate (uploaded, sni_custom) of a zone expires, and once when it has expired. Cloudflare lists this type as the SSL for SaaS Custom Hostnames Alert.',
    kinds: ['edge_custom'],
    trigger: 'expiry_and_expired',
  },
  {
    type: UNIVERSAL_SSL_ALERT,
    displayName: 'Universal SSL Alert',
    description:
      'Sent 30 days and 14 days before the certificate of a universal certificate pack (Universal SSL, from the ACME CA) expires, once when it has expired, and once when its validation or issuance fails, with the CA\'s error.',
    kinds: ['pack_universal'],
    trigger: 'pack_events',
  },
  {
    type: ADVANCED_CERTIFICATE_ALERT,
    displayName: 'Advanced Certificate Alert',
    description:
      'Sent 30 days and 14 days before the certificate of an advanced certificate pack expires, once when it has expired, and once when its validation or issuance fails, with the CA\'s error.',
    kinds: ['pack_advanced'],
    trigger: 'pack_events',
  },
]);

const BY_TYPE = new Map(ALERT_TYPES.map((t) => [t.type, t]));

export function alertTypeInfo(type: string): AlertTypeInfo | undefined {
  return BY_TYPE.get(type);
}

/** Filters a policy of these types may carry: only `zones` (ids of the account's zones). */
export const ALERT_FILTER_KEYS = ['zones'] as const;
