// Which client certificate the edge presents to a hostname's origin, and why.
// Precedence: hostname > zone > global > none; nothing below `full`.
// A certificate is never presented before its not_before (origins refuse it): the zone level keeps
// presenting the newest certificate that is valid already, and the choice names the newer one it
// defers, so whoever builds from it (the snapshot builder) rebuilds at that not_before.
import type { AopLevel, HostnameAssociation, SslMode, StoredCertificate, Zone } from './types.ts';

export type AopReason =
  | 'ssl_mode_below_full'
  | 'hostname_association_enabled'
  | 'hostname_certificate_not_yet_valid'
  | 'hostname_association_disabled'
  | 'zone_level_enabled'
  | 'zone_level_enabled_no_certificate'
  | 'global_tls_client_auth_on'
  | 'no_aop_enabled';

export interface AopChoice {
  level: AopLevel;
  reason: AopReason;
  /** Null for `global` (the installation certificate) and `none`. */
  certificate: StoredCertificate | null;
  /** Present when a certificate that would win is not valid yet: presented from its not_before on. */
  deferred?: StoredCertificate;
}

export interface AopInputs {
  zone: Zone;
  /** The association for this exact hostname, if any. */
  association: HostnameAssociation | undefined;
  /** Hostname certificates of the zone by id (deletion not requested). */
  hostnameCertsById: ReadonlyMap<string, StoredCertificate>;
  /** The zone's zone-level certificate (see selectZoneCertificate), if any. */
  zoneCertificate: StoredCertificate | undefined;
  /** A newer zone certificate not valid yet (selectZoneCertificate's `deferred`). */
  zoneCertificateDeferred?: StoredCertificate;
  /** Validity is judged at this time. */
  now: number;
}

export function aopApplies(mode: SslMode): boolean {
  return mode === 'full' || mode === 'strict';
}

export function resolveAop(input: AopInputs): AopChoice {
  const { zone, association } = input;
  if (!aopApplies(zone.sslMode)) return { level: 'none', reason: 'ssl_mode_below_full', certificate: null };
  if (association) {
    if (!association.enabled) {
      // An explicitly disabled association suppresses the zone certificate for this hostname;
      // the global toggle is an independent switch and still applies.
      return zone.tlsClientAuth === 'on'
        ? { level: 'global', reason: 'hostname_association_disabled', certificate: null }
        : { level: 'none', reason: 'hostname_association_disabled', certificate: null };
    }
    const cert = input.hostnameCertsById.get(association.certId);
    if (cert) {
      if (cert.notBefore <= input.now) return { level: 'hostname', reason: 'hostname_association_enabled', certificate: cert };
      // The API refuses such associations; this covers clocks that disagree with the API node's.
      const below = belowHostname(input);
      return { level: below.level, reason: 'hostname_certificate_not_yet_valid', certificate: below.certificate, deferred: cert };
    }
  }
  return belowHostname(input);
}

function belowHostname(input: AopInputs): AopChoice {
  const { zone } = input;
  if (zone.aopEnabled) {
    if (input.zoneCertificate) {
      const choice: AopChoice = { level: 'zone', reason: 'zone_level_enabled', certificate: input.zoneCertificate };
      if (input.zoneCertificateDeferred) choice.deferred = input.zoneCertificateDeferred;
      return choice;
    }
    // Zone-level AOP without an upload uses the installation certificate.
    return { level: 'global', reason: 'zone_level_enabled_no_certificate', certificate: null };
  }
  if (zone.tlsClientAuth === 'on') return { level: 'global', reason: 'global_tls_client_auth_on', certificate: null };
  return { level: 'none', reason: 'no_aop_enabled', certificate: null };
}

export interface ZoneCertificateSelection {
  /** The zone certificate presented now. */
  certificate: StoredCertificate | undefined;
  /** The newest upload when it is not valid yet and an older valid one is presented instead. */
  deferred: StoredCertificate | undefined;
}

function newer(a: StoredCertificate, b: StoredCertificate | undefined): boolean {
  return !b || a.uploadedOn > b.uploadedOn || (a.uploadedOn === b.uploadedOn && a.deployVersion > b.deployVersion);
}

/**
 * The zone's certificate at `now`: the most recently uploaded one that is valid already, so an
 * upload made ahead of its not_before leaves the current one in place until then. When none is
 * valid yet, the newest (nothing better exists). Expired certificates stay selectable (they are
 * only removed by delete), as at Cloudflare.
 */
export function selectZoneCertificate(certs: Iterable<StoredCertificate>, now: number): ZoneCertificateSelection {
  let newest: StoredCertificate | undefined;
  let valid: StoredCertificate | undefined;
  for (const c of certs) {
    if (c.kind !== 'zone' || c.deleteVersion !== null) continue;
    if (newer(c, newest)) newest = c;
    if (c.notBefore <= now && newer(c, valid)) valid = c;
  }
  if (valid === undefined || valid === newest) return { certificate: newest, deferred: undefined };
  return { certificate: valid, deferred: newest };
}

export function newestZoneCertificate(certs: Iterable<StoredCertificate>, now: number): StoredCertificate | undefined {
  return selectZoneCertificate(certs, now).certificate;
}

/** The earliest not_before after `now` among `certs` (deletion not requested): when a choice can change by itself. */
export function nextNotBefore(certs: Iterable<StoredCertificate>, now: number): number | null {
  let next: number | null = null;
  for (const c of certs) {
    if (c.deleteVersion === null && c.notBefore > now && (next === null || c.notBefore < next)) next = c.notBefore;
  }
  return next;
}
