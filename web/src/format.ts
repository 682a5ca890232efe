// Small display helpers: dates, days to expiry and their colour band, status wording.
import type { CertStatus } from './types.ts';

const DAY = 86_400_000;

export function formatDate(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/**
 * Whole days to expiry, rounded towards the present: 1.5 days left is 1, expired 1.5 days ago is
 * -1 (flooring would say -2, a day too many for every expired certificate). An hour past expiry is
 * 0 whole days, so expiryBand and expiryText decide "expired" from the time, not from this number.
 */
export function daysLeft(expires: string | Date, now = Date.now()): number {
  return Math.trunc((expiryTime(expires) - now) / DAY);
}

function expiryTime(expires: string | Date): number {
  return typeof expires === 'string' ? Date.parse(expires) : expires.getTime();
}

/** The colour band: `expired` (red), `critical` under 14 days (orange), `warning` under 30 (amber). */
export function expiryBand(expires: string | Date, now = Date.now()): 'expired' | 'critical' | 'warning' | 'ok' {
  if (expiryTime(expires) <= now) return 'expired';
  const days = daysLeft(expires, now);
  if (days < 14) return 'critical';
  if (days < 30) return 'warning';
  return 'ok';
}

export function expiryText(expires: string | Date, now = Date.now()): string {
  const days = daysLeft(expires, now);
  if (expiryTime(expires) <= now) return days === 0 ? 'expired today' : `expired ${-days} day${days === -1 ? '' : 's'} ago`;
  if (days === 0) return 'expires today';
  return `${days} day${days === 1 ? '' : 's'} left`;
}

const STATUS_TEXT: Record<CertStatus, string> = {
  initializing: 'initializing',
  pending_deployment: 'pending deployment',
  pending_deletion: 'pending deletion',
  active: 'active',
  deleted: 'deleted',
  deployment_timed_out: 'deployment timed out',
  deletion_timed_out: 'deletion timed out',
};

export function statusText(status: CertStatus): string {
  return STATUS_TEXT[status] ?? status;
}

export function isPending(status: CertStatus): boolean {
  return status === 'initializing' || status === 'pending_deployment' || status === 'pending_deletion';
}

export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

/** `ab12cd…` → `AB:12:CD:…`, the way origins (openssl, nginx) print fingerprints. */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}
