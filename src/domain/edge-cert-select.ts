// Which custom edge certificate a visitor gets for a host name, as one rule the snapshot builder
// (building the edge's lookup maps) and the API (the effective-certificate answer) both apply:
// a certificate naming the host exactly beats a wildcard one (`www.example.com` over
// `*.example.com`); among equals an unexpired certificate beats an expired one, then the higher
// `priority`, then the newer upload.
// Tested in test/edge/visitor-certificates.test.ts and test/api/custom-certificates.test.ts.
import { servedNames } from './edge-cert-validate.ts';
import type { CertificatePack } from './certificate-packs.ts';
import type { EdgeCertificate } from './types.ts';

export type EdgeCertMatch = 'exact' | 'wildcard';

export interface EdgeCertCandidate {
  certificate: EdgeCertificate;
  match: EdgeCertMatch;
  /** The SAN that covers the host name. */
  san: string;
}

/** Negative when `a` is served before `b` for the same name. */
export function compareEdgeCertificates(a: EdgeCertificate, b: EdgeCertificate, now: number): number {
  const expiredA = a.expiresOn <= now ? 1 : 0;
  const expiredB = b.expiresOn <= now ? 1 : 0;
  if (expiredA !== expiredB) return expiredA - expiredB;
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.uploadedOn !== b.uploadedOn) return b.uploadedOn - a.uploadedOn;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The wildcard SAN that covers `hostname` (one label only, as browsers match), or null. */
export function wildcardSanFor(hostname: string): string | null {
  const dot = hostname.indexOf('.');
  return dot > 0 && hostname.indexOf('.', dot + 1) > 0 ? '*' + hostname.slice(dot) : null;
}

/** Every certificate of the zone that covers `hostname`, the one served first. */
export function edgeCertificateCandidates(hostname: string, certificates: readonly EdgeCertificate[], zoneName: string, now: number): EdgeCertCandidate[] {
  const wildcard = wildcardSanFor(hostname);
  const exact: EdgeCertCandidate[] = [];
  const wild: EdgeCertCandidate[] = [];
  for (const certificate of certificates) {
    if (certificate.deleteVersion !== null) continue;
    const names = servedNames(certificate.hosts, zoneName);
    if (names.includes(hostname)) exact.push({ certificate, match: 'exact', san: hostname });
    else if (wildcard !== null && names.includes(wildcard)) wild.push({ certificate, match: 'wildcard', san: wildcard });
  }
  const order = (a: EdgeCertCandidate, b: EdgeCertCandidate) => compareEdgeCertificates(a.certificate, b.certificate, now);
  return [...exact.sort(order), ...wild.sort(order)];
}

/**
 * After every custom certificate: the zone's ACME certificate (a certificate pack holding one) for
 * a name its hosts list; of two, the unexpired one, then the newer. Negative when `a` wins.
 */
export function compareAcmeCertificates(a: CertificatePack, b: CertificatePack, now: number): number {
  const expiredA = a.certificate!.expiresOn <= now ? 1 : 0;
  const expiredB = b.certificate!.expiresOn <= now ? 1 : 0;
  if (expiredA !== expiredB) return expiredA - expiredB;
  return b.certificate!.notBefore - a.certificate!.notBefore || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The certificate pack whose certificate visitors get for `hostname` when no custom certificate covers it. */
export function acmePackFor(hostname: string, packs: readonly CertificatePack[], now: number): CertificatePack | null {
  let best: CertificatePack | null = null;
  for (const pack of packs) {
    if (pack.certificate === null || pack.deleteVersion !== null || !pack.hosts.includes(hostname)) continue;
    if (best === null || compareAcmeCertificates(pack, best, now) < 0) best = pack;
  }
  return best;
}
