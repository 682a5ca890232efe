// The generic webhook payload (Cloudflare's webhook-payload-schema), with `data`
// modelled on the documented access_custom_certificate_expiration_type example:
//
//   { name, text, data, ts, account_id, policy_id, policy_name, alert_type, alert_correlation_id,
//     alert_event: "ALERT_STATE_EVENT_START" }
//   data: { certificate_id, days_til_expiration, expires_on, hostnames, zone_tag, zone_name,
//           account_tag, account_name, level: "zone" | "hostname" | "edge", threshold: 30 | 14 | 0 }
//
// `ts` is epoch seconds. `alert_correlation_id` is derived from (certificate, event, policy), so
// every destination of one alert, and any resend, carries the same id: receivers can dedupe on it.
// `days_til_expiration` is whole days, negative once expired; `threshold` is 0 for the
// expired-in-use alert and for an expired edge certificate. `level: "edge"` is a custom edge
// certificate (what visitors see); its `hostnames` are the proxied hostnames it serves now.
// `level: "universal" | "advanced"` is a certificate pack: `hostnames` are the names it covers,
// `event` says which (`30d`, `14d`, `expired`, `validation_failed`, `issuance_failed`),
// `validation_errors` carries the CA's error; a pack that never held a certificate has
// `expires_on` and `days_til_expiration` null.
// Tested in test/notify/notifier.test.ts and test/notify/notifier-nodes.test.ts.
import { createHash } from 'node:crypto';
import type { Account, CertificatePack, Zone } from '../domain/index.ts';
import type { AlertPolicy } from '../store/index.ts';
import { alertTypeInfo, EXPIRED_IN_USE_ALERT, type WatchedKind } from './alert-types.ts';

const DAY = 86_400_000;

export interface AlertData {
  certificate_id: string;
  days_til_expiration: number | null;
  expires_on: string | null;
  hostnames: string[];
  zone_tag: string;
  zone_name: string;
  account_tag: string;
  account_name: string;
  level: 'zone' | 'hostname' | 'edge' | 'universal' | 'advanced';
  threshold: number;
  /** Certificate packs only. */
  event?: string;
  status?: string;
  validation_errors?: { message: string }[];
}

export interface AlertPayload {
  name: string;
  text: string;
  data: AlertData;
  ts: number;
  account_id: string;
  policy_id: string;
  policy_name: string;
  alert_type: string;
  alert_correlation_id: string;
  alert_event: 'ALERT_STATE_EVENT_START';
}

export interface PayloadInput {
  policy: AlertPolicy;
  account: Account;
  zone: Zone;
  cert: { id: string; expiresOn: number };
  kind: WatchedKind;
  /** Hostnames whose origins are presented this certificate now. */
  hostnames: string[];
  event: string;
  threshold: number;
  now: number;
  /** Set for the certificate pack types. */
  pack?: CertificatePack;
}

export function buildPayload(input: PayloadInput): AlertPayload {
  const { policy, account, zone, cert, hostnames, now } = input;
  const days = Math.trunc((cert.expiresOn - now) / DAY) + 0; // + 0: never -0
  if (input.pack) return packPayload(input, input.pack, days);
  return {
    name: policy.name,
    text: alertText(input, days),
    data: {
      certificate_id: cert.id,
      days_til_expiration: days,
      expires_on: new Date(cert.expiresOn).toISOString(),
      hostnames,
      zone_tag: zone.id,
      zone_name: zone.name,
      account_tag: account.id,
      account_name: account.name,
      level: input.kind === 'edge_custom' ? 'edge' : input.kind === 'pack_universal' ? 'universal' : input.kind === 'pack_advanced' ? 'advanced' : input.kind,
      threshold: input.threshold,
    },
    ts: Math.floor(now / 1000),
    account_id: account.id,
    policy_id: policy.id,
    policy_name: policy.name,
    alert_type: policy.alertType,
    alert_correlation_id: correlationId(cert.id, input.event, policy.id),
    alert_event: 'ALERT_STATE_EVENT_START',
  };
}

function packPayload(input: PayloadInput, pack: CertificatePack, days: number): AlertPayload {
  const { policy, account, zone, now } = input;
  const held = pack.certificate;
  const event = input.event.split(':')[0];
  return {
    name: policy.name,
    text: packAlertText(input, pack, event, days),
    data: {
      certificate_id: pack.id,
      days_til_expiration: held === null ? null : days,
      expires_on: held === null ? null : new Date(held.expiresOn).toISOString(),
      hostnames: input.hostnames,
      zone_tag: zone.id,
      zone_name: zone.name,
      account_tag: account.id,
      account_name: account.name,
      level: pack.type,
      threshold: input.threshold,
      event,
      status: event === 'validation_failed' || event === 'issuance_failed' ? event : held !== null && held.expiresOn <= now ? 'expired' : 'active',
      validation_errors: pack.errorText === null ? [] : [{ message: pack.errorText }],
    },
    ts: Math.floor(now / 1000),
    account_id: account.id,
    policy_id: policy.id,
    policy_name: policy.name,
    alert_type: policy.alertType,
    alert_correlation_id: correlationId(pack.id, input.event, policy.id),
    alert_event: 'ALERT_STATE_EVENT_START',
  };
}

function packAlertText(input: PayloadInput, pack: CertificatePack, event: string, days: number): string {
  const title = alertTypeInfo(input.policy.alertType)?.displayName ?? 'Certificate pack alert';
  const what = `the ${pack.type} certificate pack ${pack.id} of ${input.zone.name} (${listHostnames(input.hostnames)})`;
  if (event === 'validation_failed' || event === 'issuance_failed') {
    const stage = event === 'validation_failed' ? 'Validation' : 'Issuance';
    const serving = pack.certificate === null ? 'Until a certificate is issued its hostnames get a custom certificate or the fallback.' : 'The edge keeps serving its current certificate meanwhile.';
    return `${title}: ${stage} failed for ${what}: ${pack.errorText ?? 'the CA gave no reason'}. It is retried after a backoff (PATCH the pack to retry now). ${serving}`;
  }
  const expires = new Date(input.cert.expiresOn).toISOString();
  if (event === 'expired') return `${title}: the certificate of ${what} expired on ${expires}: it was not renewed. Browsers refuse it; see the pack's validation_errors.`;
  return `${title}: the certificate of ${what} expires in ${days === 1 ? '1 day' : `${days} days`}, on ${expires}, and has not been renewed yet; see the pack's status and validation_errors.`;
}

function alertText(input: PayloadInput, days: number): string {
  if (input.kind === 'edge_custom') return edgeAlertText(input, days);
  const { cert, zone, hostnames } = input;
  const level = input.kind === 'zone' ? 'zone-level' : 'hostname-level';
  const expires = new Date(cert.expiresOn).toISOString();
  const used = hostnames.length === 0 ? '' : ` It is presented to the origins of ${listHostnames(hostnames)}.`;
  const title = alertTypeInfo(input.policy.alertType)?.displayName ?? 'Authenticated Origin Pulls alert';
  if (input.policy.alertType === EXPIRED_IN_USE_ALERT) {
    return (
      `${title}: the ${level} Authenticated Origin Pulls certificate ${cert.id} of ${zone.name} expired on ${expires} ` +
      `and is still presented to the origins of ${listHostnames(hostnames)}. Origins that verify client certificates refuse it: ` +
      'upload a valid certificate.'
    );
  }
  const expired = cert.expiresOn <= input.now;
  const when = expired ? `expired on ${expires}` : `expires in ${days === 1 ? '1 day' : `${days} days`}, on ${expires}`;
  return `${title}: the ${level} Authenticated Origin Pulls certificate ${cert.id} of ${zone.name} ${when}.${used} Upload a replacement${expired ? '' : ' before it expires'}.`;
}

function edgeAlertText(input: PayloadInput, days: number): string {
  const { cert, zone, hostnames } = input;
  const expires = new Date(cert.expiresOn).toISOString();
  const title = alertTypeInfo(input.policy.alertType)?.displayName ?? 'Custom edge certificate alert';
  const expired = cert.expiresOn <= input.now;
  const when = expired ? `expired on ${expires}` : `expires in ${days === 1 ? '1 day' : `${days} days`}, on ${expires}`;
  const used =
    hostnames.length === 0
      ? ' No proxied hostname is served it now.'
      : expired
        ? ` Browsers refuse it for ${listHostnames(hostnames)}.`
        : ` Visitors to ${listHostnames(hostnames)} are served it.`;
  return `${title}: the custom edge certificate ${cert.id} of ${zone.name} ${when}.${used} Upload a renewed certificate${expired ? '' : ' before it expires'}.`;
}

function listHostnames(hostnames: string[]): string {
  const shown = hostnames.slice(0, 5).join(', ');
  return hostnames.length > 5 ? `${shown} and ${hostnames.length - 5} more` : shown;
}

/** A stable UUID-shaped id for (certificate, event, policy). */
export function correlationId(certificateId: string, event: string, policyId: string): string {
  const h = createHash('sha256').update(`${certificateId}|${event}|${policyId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
