// What should have been sent by now: from the stored certificates, zones, records, associations
// and policies, the outbox rows that must exist, and why a pending one no longer applies. Pure: no
// I/O, the clock is an argument.
//
// Which certificates alert (decided, documented in docs/alerting.md):
// - zone-level: only the zone's current certificate (the newest upload not being deleted); an older
//   one replaced by a newer upload stops alerting and its pending deliveries are cancelled;
// - hostname-level: every uploaded certificate not being deleted (hostname certificates are not
//   replaced, they are deleted once no association uses them);
// - deletion requested: stops alerting, pending deliveries cancelled.
// - custom edge certificates: every one not being deleted, whether or not a hostname is served it
//   now (a certificate kept "just in case" still expires).
// Events per certificate: `30d` once 30 days or fewer remain, `14d` once 14 or fewer remain (also
// after expiry for the AOP types). Only the most advanced one is due, so a certificate first seen
// with 10 days left alerts once (14d), not twice. `expired`: for the in-use type, expired and
// presented to an origin; for the edge type, expired (after its 30d and 14d, or alone when first
// seen expired).
// Certificate packs (ACME): every pack not being deleted. Their certificate is replaced in place at
// renewal, so a pack's expiry events name the certificate they are about (`30d:<fingerprint>`):
// the renewed one alerts afresh, and a pending alert about the replaced one is cancelled. A
// failed validation or issuance is one event per failure of a certificate generation
// (`validation_failed:<fingerprint of the certificate held, or none>`): the orderer's retries of
// the same failure do not repeat it; a later renewal that fails again alerts again.
import {
  edgeCertificateCandidates,
  type CertificatePack,
  selectZoneCertificate,
  resolveAop,
  type Account,
  type ConfigData,
  type EdgeCertificate,
  type HostnameAssociation,
  type StoredCertificate,
  type Zone,
} from '../domain/index.ts';
import type { AlertDelivery, AlertPolicy, NewAlertDelivery } from '../store/index.ts';
import { alertTypeInfo, EXPIRY_THRESHOLDS_DAYS, type AlertTypeInfo, type WatchedKind } from './alert-types.ts';
import { buildPayload } from './payload.ts';

const DAY = 86_400_000;

export interface PlanInputs {
  config: Pick<ConfigData, 'zones' | 'records' | 'certificates' | 'associations'> & Partial<Pick<ConfigData, 'edgeCertificates' | 'certificatePacks'>>;
  accounts: ReadonlyMap<string, Account>;
  /** All policies (disabled ones too: they explain cancellations). */
  policies: readonly AlertPolicy[];
  now: number;
  giveUpAfterMs: number;
  /** Dedupe keys known to be stored already: skipped without building their payload. */
  known?: (dedupeKey: string) => boolean;
}

export interface AlertPlan {
  /** Rows that must exist; the store keeps the first of each dedupe key. */
  deliveries: NewAlertDelivery[];
  /** Why a pending delivery should be cancelled, or null while it still applies. */
  cancelReason(d: AlertDelivery): string | null;
}

interface CertInfo {
  cert: StoredCertificate | EdgeCertificate | { id: string; expiresOn: number };
  /** For certificate packs: the pack (its certificate, stage and error). */
  pack?: CertificatePack;
  kind: WatchedKind;
  zone: Zone;
  /** Alerts apply (see above). */
  current: boolean;
  /** Hostnames whose origins (AOP) or visitors (edge) get this certificate now, sorted. */
  hostnames: string[];
}

export function dedupeKey(certificateId: string, event: string, policyId: string, webhookId: string): string {
  return `${certificateId}|${event}|${policyId}|${webhookId}`;
}

export function planAlerts(input: PlanInputs): AlertPlan {
  const { now } = input;
  const certs = describeCertificates(input.config, now);
  for (const [id, info] of describeEdgeCertificates(input.config, now)) certs.set(id, info);
  for (const [id, info] of describeCertificatePacks(input.config)) certs.set(id, info);
  const policiesById = new Map(input.policies.map((p) => [p.id, p]));
  const deliveries: NewAlertDelivery[] = [];

  for (const policy of input.policies) {
    const type = alertTypeInfo(policy.alertType);
    const account = input.accounts.get(policy.accountId);
    if (!policy.enabled || !type || !account) continue;
    for (const info of certs.values()) {
      if (!applies(policy, type, info)) continue;
      for (const due of dueEvents(type, info, now)) {
      const keys = policy.webhookIds.map((w) => dedupeKey(info.cert.id, due.event, policy.id, w));
      if (input.known && keys.every(input.known)) continue;
      const payload = JSON.stringify(
        buildPayload({ policy, account, zone: info.zone, cert: info.cert, kind: info.kind, hostnames: info.hostnames, event: due.event, threshold: due.threshold, now, pack: info.pack }),
      );
      policy.webhookIds.forEach((webhookId, i) => {
        if (input.known?.(keys[i])) return;
        deliveries.push({
          dedupeKey: keys[i],
          accountId: account.id,
          zoneId: info.zone.id,
          certificateId: info.cert.id,
          policyId: policy.id,
          webhookId,
          alertType: policy.alertType,
          event: due.event,
          payload,
          createdAt: now,
          nextAttemptAt: now,
          giveUpAt: now + input.giveUpAfterMs,
        });
      });
      }
    }
  }

  function cancelReason(d: AlertDelivery): string | null {
    const info = certs.get(d.certificateId);
    if (!info) return 'cancelled: the certificate was deleted';
    if (!info.current) return 'cancelled: a newer zone-level certificate replaced this one';
    const policy = policiesById.get(d.policyId);
    if (!policy) return 'cancelled: the policy was deleted';
    if (!policy.enabled) return 'cancelled: the policy was disabled';
    if (policy.alertType !== d.alertType) return "cancelled: the policy's alert type changed";
    if (!policy.webhookIds.includes(d.webhookId)) return 'cancelled: the webhook was removed from the policy';
    const type = alertTypeInfo(policy.alertType);
    if (!type || !applies(policy, type, info)) return "cancelled: the certificate's zone is no longer in the policy's filters";
    if (type.trigger === 'expired_in_use' && info.hostnames.length === 0) return 'cancelled: the certificate is no longer presented to origins';
    if (info.pack && isPackExpiryEvent(d.event) && d.event !== `${d.event.split(':')[0]}:${generation(info.pack)}`) return "cancelled: the pack's certificate was renewed";
    return null;
  }

  return { deliveries, cancelReason };
}

function applies(policy: AlertPolicy, type: AlertTypeInfo, info: CertInfo): boolean {
  if (!info.current || info.zone.accountId !== policy.accountId || !type.kinds.includes(info.kind)) return false;
  const zones = policy.filters.zones;
  return zones === undefined || zones.length === 0 || zones.includes(info.zone.id);
}

type Due = { event: string; threshold: number };

/** The certificate a pack's events are about: its fingerprint, or `none` while it has none. */
function generation(pack: CertificatePack): string {
  return pack.certificate === null ? 'none' : pack.certificate.fingerprintSha256;
}

function isPackExpiryEvent(event: string): boolean {
  return /^(30d|14d|expired):/.test(event);
}

function dueEvents(type: AlertTypeInfo, info: CertInfo, now: number): Due[] {
  if (type.trigger !== 'pack_events') {
    const due = dueEvent(type, info, now);
    return due ? [due] : [];
  }
  const pack = info.pack;
  if (!pack) return [];
  const out: Due[] = [];
  const gen = generation(pack);
  if (pack.certificate !== null) {
    const due = dueEvent({ ...type, trigger: 'expiry_and_expired' }, info, now);
    if (due) out.push({ event: `${due.event}:${gen}`, threshold: due.threshold });
  }
  if (pack.stage === 'validation_failed' || pack.stage === 'issuance_failed') out.push({ event: `${pack.stage}:${gen}`, threshold: 0 });
  return out;
}

function dueEvent(type: AlertTypeInfo, info: CertInfo, now: number): Due | null {
  const left = info.cert.expiresOn - now;
  if (type.trigger === 'expired_in_use') return left <= 0 && info.hostnames.length > 0 ? { event: 'expired', threshold: 0 } : null;
  if (type.trigger === 'expiry_and_expired' && left <= 0) return { event: 'expired', threshold: 0 };
  // The smallest threshold already crossed: 10 days left → 14d only.
  let due: number | null = null;
  for (const days of EXPIRY_THRESHOLDS_DAYS) if (left <= days * DAY && (due === null || days < due)) due = days;
  return due === null ? null : { event: `${due}d`, threshold: due };
}

/** Every stored certificate (deletion not requested) with its zone, currency and users. */
function describeCertificates(config: PlanInputs['config'], now: number): Map<string, CertInfo> {
  const zones = new Map(config.zones.map((z) => [z.id, z]));
  const certsByZone = groupBy(config.certificates, (c) => c.zoneId);
  const recordsByZone = groupBy(
    config.records.filter((r) => r.proxied),
    (r) => r.zoneId,
  );
  const assocByZone = groupBy(config.associations, (a) => a.zoneId);
  const out = new Map<string, CertInfo>();
  for (const [zoneId, certs] of certsByZone) {
    const zone = zones.get(zoneId);
    if (!zone) continue;
    const live = certs.filter((c) => c.deleteVersion === null);
    // A newer upload waiting for its not_before is current too: it is presented from then on.
    const { certificate: zoneCert, deferred } = selectZoneCertificate(live, now);
    const hostnameCerts = new Map(live.filter((c) => c.kind === 'hostname').map((c) => [c.id, c]));
    const associations = new Map<string, HostnameAssociation>((assocByZone.get(zoneId) ?? []).map((a) => [a.hostname, a]));
    // Who gets which certificate: every proxied hostname and every associated one, as the edge resolves it.
    const candidates = new Set<string>((recordsByZone.get(zoneId) ?? []).map((r) => r.name));
    for (const a of associations.values()) if (a.enabled) candidates.add(a.hostname);
    const users = new Map<string, string[]>();
    for (const hostname of candidates) {
      const choice = resolveAop({ zone, association: associations.get(hostname), hostnameCertsById: hostnameCerts, zoneCertificate: zoneCert, now });
      if (!choice.certificate) continue;
      let list = users.get(choice.certificate.id);
      if (!list) users.set(choice.certificate.id, (list = []));
      list.push(hostname);
    }
    for (const cert of live) {
      const current = cert.kind === 'hostname' || cert.id === zoneCert?.id || cert.id === deferred?.id;
      out.set(cert.id, { cert, kind: cert.kind, zone, current, hostnames: (users.get(cert.id) ?? []).sort() });
    }
  }
  return out;
}

/** Every custom edge certificate (deletion not requested) with the proxied hostnames it serves, as the edge chooses. */
function describeEdgeCertificates(config: PlanInputs['config'], now: number): Map<string, CertInfo> {
  const out = new Map<string, CertInfo>();
  const edge = config.edgeCertificates ?? [];
  if (edge.length === 0) return out;
  const zones = new Map(config.zones.map((z) => [z.id, z]));
  const recordsByZone = groupBy(
    config.records.filter((r) => r.proxied),
    (r) => r.zoneId,
  );
  for (const [zoneId, certs] of groupBy(edge, (c) => c.zoneId)) {
    const zone = zones.get(zoneId);
    if (!zone) continue;
    const live = certs.filter((c) => c.deleteVersion === null);
    const users = new Map<string, string[]>();
    for (const name of new Set((recordsByZone.get(zoneId) ?? []).map((r) => r.name))) {
      const winner = edgeCertificateCandidates(name, live, zone.name, now)[0];
      if (!winner) continue;
      let list = users.get(winner.certificate.id);
      if (!list) users.set(winner.certificate.id, (list = []));
      list.push(name);
    }
    for (const cert of live) out.set(cert.id, { cert, kind: 'edge_custom', zone, current: true, hostnames: (users.get(cert.id) ?? []).sort() });
  }
  return out;
}

/** Every certificate pack (deletion not requested) with the names it covers. */
function describeCertificatePacks(config: PlanInputs['config']): Map<string, CertInfo> {
  const out = new Map<string, CertInfo>();
  const zones = new Map(config.zones.map((z) => [z.id, z]));
  for (const pack of config.certificatePacks ?? []) {
    const zone = zones.get(pack.zoneId);
    if (!zone || pack.deleteVersion !== null) continue;
    out.set(pack.id, {
      cert: { id: pack.id, expiresOn: pack.certificate?.expiresOn ?? Number.POSITIVE_INFINITY },
      pack,
      kind: pack.type === 'universal' ? 'pack_universal' : 'pack_advanced',
      zone,
      current: true,
      hostnames: [...pack.hosts].sort(),
    });
  }
  return out;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    let list = out.get(key(item));
    if (!list) out.set(key(item), (list = []));
    list.push(item);
  }
  return out;
}
