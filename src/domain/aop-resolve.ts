// Which client certificate the edge presents to a hostname's origin, and why.
// Precedence (DESIGN, reference §6): hostname > zone > global > none; nothing below `full`.
import type { AopLevel, HostnameAssociation, SslMode, StoredCertificate, Zone } from './types.ts';

export type AopReason =
  | 'ssl_mode_below_full'
  | 'hostname_association_enabled'
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
}

export interface AopInputs {
  zone: Zone;
  /** The association for this exact hostname, if any. */
  association: HostnameAssociation | undefined;
  /** Hostname certificates of the zone by id (deletion not requested). */
  hostnameCertsById: ReadonlyMap<string, StoredCertificate>;
  /** The zone's newest usable zone-level certificate (see newestZoneCertificate), if any. */
  zoneCertificate: StoredCertificate | undefined;
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
    if (cert) return { level: 'hostname', reason: 'hostname_association_enabled', certificate: cert };
  }
  if (zone.aopEnabled) {
    if (input.zoneCertificate) return { level: 'zone', reason: 'zone_level_enabled', certificate: input.zoneCertificate };
    // Zone-level AOP without an upload uses the installation certificate (reference §2.1).
    return { level: 'global', reason: 'zone_level_enabled_no_certificate', certificate: null };
  }
  if (zone.tlsClientAuth === 'on') return { level: 'global', reason: 'global_tls_client_auth_on', certificate: null };
  return { level: 'none', reason: 'no_aop_enabled', certificate: null };
}

/**
 * The zone's certificate: the most recently uploaded one that the edge may use. Expired
 * certificates stay selectable (they are only removed by delete), as at Cloudflare.
 */
export function newestZoneCertificate(certs: Iterable<StoredCertificate>): StoredCertificate | undefined {
  let best: StoredCertificate | undefined;
  for (const c of certs) {
    if (c.kind !== 'zone' || c.deleteVersion !== null) continue;
    if (!best || c.uploadedOn > best.uploadedOn || (c.uploadedOn === best.uploadedOn && c.deployVersion > best.deployVersion)) best = c;
  }
  return best;
}
