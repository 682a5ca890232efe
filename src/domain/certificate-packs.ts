// Certificate packs: the certificates the installation orders from an ACME CA (Universal SSL for
// every proxied hostname, advanced packs on request), and the rules about them that the orderer,
// the API and the snapshot builder share: which packs a zone should have, what status a pack
// shows, when it is renewed and how long a failure waits before the next attempt.
import type { EdgeNode } from './basics.ts';
import { deriveStatus, type DeploymentView } from './deployment-status.ts';

export type CertificatePackType = 'universal' | 'advanced';

/** Shown on packs while no ACME directory is configured (and no CA is ever contacted). */
export const ACME_NOT_CONFIGURED =
  'ACME not configured: set an ACME directory (ORIGINPULL_ACME_DIRECTORY or --acme-directory) for certificates to be ordered; until then the edge serves the fallback';

/**
 * Where the current order stands. `issued`: the certificate columns hold what the CA issued (a
 * renewal then starts again from `initializing` while the issued certificate keeps being served).
 */
export const ORDER_STAGES = ['initializing', 'pending_validation', 'pending_issuance', 'issued', 'validation_failed', 'issuance_failed'] as const;
export type OrderStage = (typeof ORDER_STAGES)[number];

/** The certificate a pack holds: what edges serve while the pack has one. */
export interface PackCertificate {
  /** Leaf first, then the chain, as the CA sent it. */
  certificatePem: string;
  /** Sealed by the secret box. */
  privateKeySealed: string;
  issuer: string;
  serialNumber: string;
  signature: string;
  fingerprintSha256: string;
  notBefore: number;
  expiresOn: number;
  /** When the orderer renews it (one third of the lifetime left, or the CA's renewal window). */
  renewAt: number;
  /** Config version whose commit stored it: the pack is active once every live edge applied it. */
  deployVersion: number;
}

export interface CertificatePack {
  id: string;
  zoneId: string;
  type: CertificatePackType;
  /** Lower case, in order; the first is the primary name. */
  hosts: string[];
  validationMethod: 'http' | 'tls-alpn';
  validityDays: number;
  /** Cloudflare's name for the CA; every value maps to the configured directory. */
  certificateAuthority: string;
  stage: OrderStage;
  /** The CA's (or the orderer's) last error, shown as `validation_errors`; null after a success. */
  errorText: string | null;
  /** Failed attempts in a row (backoff). */
  attempts: number;
  /** Not before this time is the pack worked on again (backoff, rate limits); null: now. */
  nextAttemptAt: number | null;
  certificate: PackCertificate | null;
  createdOn: number;
  modifiedOn: number;
  deleteVersion: number | null;
  deleteRequestedOn: number | null;
}

export type AcmeChallengeType = 'http-01' | 'tls-alpn-01';

/** A challenge every edge must answer while the CA validates a name. */
export interface AcmeChallenge {
  /** HTTP-01: the token in the URL; TLS-ALPN-01: the host name (one per name at a time). */
  token: string;
  zoneId: string;
  packId: string;
  hostname: string;
  type: AcmeChallengeType;
  /** HTTP-01: the body to answer; TLS-ALPN-01: the key authorization the certificate digests. */
  keyAuthorization: string;
  /** TLS-ALPN-01: the self-signed challenge certificate and its sealed key; null for HTTP-01. */
  certificatePem: string | null;
  privateKeySealed: string | null;
  /** `pending` while the CA validates, then `valid` or `invalid`. */
  status: 'pending' | 'valid' | 'invalid';
  createdOn: number;
}

/** Cloudflare's certificate pack statuses that originpull shows. */
export type PackStatus =
  | 'initializing'
  | 'pending_validation'
  | 'pending_issuance'
  | 'pending_deployment'
  | 'active'
  | 'expired'
  | 'pending_deletion'
  | 'deleted'
  | 'validation_timed_out'
  | 'issuance_timed_out'
  | 'deployment_timed_out'
  | 'deletion_timed_out';

/**
 * What the API shows: a pack with a certificate shows that certificate's deployment (a renewal in
 * progress does not hide it: the edges keep serving it); one without shows its order stage.
 */
export function packStatus(pack: CertificatePack, view: DeploymentView): PackStatus {
  if (pack.deleteVersion !== null) {
    const d = deriveStatus({ deployVersion: 0, createdOn: pack.createdOn, deleteVersion: pack.deleteVersion, deleteRequestedOn: pack.deleteRequestedOn }, view);
    return d.status as PackStatus;
  }
  const cert = pack.certificate;
  if (cert !== null) {
    if (cert.expiresOn <= view.now) return 'expired';
    const d = deriveStatus({ deployVersion: cert.deployVersion, createdOn: pack.modifiedOn, deleteVersion: null, deleteRequestedOn: null }, view);
    return d.status as PackStatus;
  }
  switch (pack.stage) {
    case 'validation_failed':
      return 'validation_timed_out';
    case 'issuance_failed':
      return 'issuance_timed_out';
    case 'issued':
      return 'pending_deployment';
    default:
      return pack.stage;
  }
}

/** Renewal with one third of the lifetime left (as Let's Encrypt advises for 90-day certificates). */
export function renewalTime(notBefore: number, expiresOn: number): number {
  return expiresOn - Math.floor((expiresOn - notBefore) / 3);
}

/** Exponential backoff after `attempts` failures in a row: 1 min, 2, 4 … capped at 6 h. */
export function retryDelayMs(attempts: number, opts: { minMs?: number; maxMs?: number } = {}): number {
  const min = opts.minMs ?? 60_000;
  const max = opts.maxMs ?? 6 * 3_600_000;
  return Math.min(max, min * 2 ** Math.max(0, Math.min(30, attempts - 1)));
}

/** Whether the orderer has work on the pack at `now`. */
export function packDue(pack: CertificatePack, now: number): boolean {
  if (pack.deleteVersion !== null) return false;
  if (pack.nextAttemptAt !== null && pack.nextAttemptAt > now) return false;
  if (pack.stage !== 'issued') return true;
  return pack.certificate !== null && pack.certificate.renewAt <= now;
}

export interface UniversalPlan {
  /** Host names that need a universal pack. */
  create: string[];
  /** Universal packs to delete (their name has no proxied record, or Universal SSL is off). */
  remove: CertificatePack[];
}

/**
 * The universal packs a zone should have: one per proxied exact host name while Universal SSL is
 * on (HTTP-01 cannot validate a wildcard, so wildcard records get none), none while it is off.
 */
export function planUniversalPacks(enabled: boolean, proxiedNames: readonly string[], packs: readonly CertificatePack[]): UniversalPlan {
  const wanted = new Set(enabled ? proxiedNames.filter((n) => !n.startsWith('*.')) : []);
  const have = new Set<string>();
  const remove: CertificatePack[] = [];
  for (const pack of packs) {
    if (pack.type !== 'universal' || pack.deleteVersion !== null) continue;
    const host = pack.hosts[0];
    if (wanted.has(host) && !have.has(host)) have.add(host);
    else remove.push(pack);
  }
  return { create: [...wanted].filter((n) => !have.has(n)).sort(), remove };
}

/** The edges that have not applied `version` (the orderer waits for them before asking the CA). */
export function edgesBehind(live: readonly EdgeNode[], version: number): EdgeNode[] {
  return live.filter((e) => e.appliedVersion < version);
}
