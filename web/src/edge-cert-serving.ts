// Which certificate visitors get for each proxied hostname, in words: read from the API's
// effective-certificate answer (GET …/edge_certificates/effective/{hostname}), which applies the
// edge's own rule, so the page never re-derives the choice. `?without=` asks the same question as
// if one certificate were deleted, which is what the delete confirmation shows.
import { get, getAll, seg, type Read } from './api.ts';
import { shortId } from './format.ts';
import type { DnsRecord, EdgeCertEffective } from './types.ts';

/** Hostnames asked about at most: beyond that the page says how many it left out. */
export const SERVING_LIMIT = 200;

export interface Serving {
  /** One answer per proxied hostname, in name order. */
  hostnames: EdgeCertEffective[];
  /** Proxied hostnames not asked about (beyond SERVING_LIMIT). */
  omitted: number;
  /** Wildcard records: the answer depends on the name a visitor sends, so they are listed apart. */
  wildcards: string[];
}

/** The zone's proxied host names: exact names, and the wildcard records apart. */
async function proxiedNames(zoneId: string, read?: Read): Promise<{ names: string[]; wildcards: string[] }> {
  const records = await getAll<DnsRecord>(`/zones/${zoneId}/dns_records`, 5000, read);
  const all = [...new Set(records.filter((r) => r.proxied).map((r) => r.name))].sort();
  return { names: all.filter((n) => !n.startsWith('*')), wildcards: all.filter((n) => n.startsWith('*')) };
}

export function effective(zoneId: string, hostname: string, read?: Read, without?: string): Promise<EdgeCertEffective> {
  const query = without === undefined ? '' : `?without=${seg(without)}`;
  return get<EdgeCertEffective>(`/zones/${zoneId}/edge_certificates/effective/${seg(hostname)}${query}`, read);
}

export async function loadServing(zoneId: string, read?: Read): Promise<Serving> {
  const { names, wildcards } = await proxiedNames(zoneId, read);
  const asked = names.slice(0, SERVING_LIMIT);
  const hostnames = await Promise.all(asked.map((h) => effective(zoneId, h, read)));
  return { hostnames, omitted: names.length - asked.length, wildcards };
}

/** What one hostname gets, as a short phrase ("custom certificate 1a2b… (wildcard *.example.com)"). */
export function servedBy(e: EdgeCertEffective): string {
  if (e.source === 'custom' && e.certificate) {
    const how = e.certificate.match === 'exact' ? `names ${e.certificate.san}` : `wildcard ${e.certificate.san}`;
    return `custom certificate ${shortId(e.certificate.id)} (${how})`;
  }
  if (e.source === 'acme' && e.certificate) return `${e.reason === 'acme_advanced' ? 'advanced' : 'universal'} certificate pack ${shortId(e.certificate.id)} (ACME)`;
  if (e.source === 'edge_ca_fallback') return 'the installation’s edge CA certificate (fallback)';
  return 'no certificate';
}

/** Why, and what a visitor's browser makes of it. */
export function servingReason(e: EdgeCertEffective): string {
  switch (e.reason) {
    case 'custom_exact_san':
    case 'custom_wildcard_san': {
      const exact = e.reason === 'custom_exact_san';
      // Rivals of the same kind lose on priority then age; an exact name beats every wildcard outright.
      const same = e.candidates.slice(1).filter((c) => c.match === e.certificate?.match).length;
      const wildcards = exact ? e.candidates.filter((c) => c.match === 'wildcard').length : 0;
      const parts: string[] = [];
      if (same > 0) parts.push(`it is ahead of ${same} other ${exact ? 'certificate naming it' : 'wildcard certificate'}${same === 1 ? '' : 's'} by priority (${e.certificate?.priority ?? 0}), then newest upload`);
      if (wildcards > 0) parts.push(`an exact name beats the ${wildcards === 1 ? 'wildcard certificate' : `${wildcards} wildcard certificates`} that also cover${wildcards === 1 ? 's' : ''} it`);
      return `${exact ? 'It names this hostname exactly' : 'Its wildcard covers this hostname'}${parts.length > 0 ? `; ${parts.join('; ')}` : ''}.`;
    }
    case 'acme_universal':
    case 'acme_advanced':
      return 'No custom certificate covers this hostname; the certificate pack from the ACME CA names it.';
    case 'edge_ca_fallback':
      return 'No custom certificate covers this hostname. Browsers warn about the edge CA’s certificate unless they trust your edge CA: upload a certificate from a public CA.';
    case 'no_certificate_fallback_off':
      return 'No custom certificate covers this hostname and the edge CA fallback is off: browsers get a TLS error (unrecognized_name).';
    case 'not_proxied':
      return 'No custom certificate covers this hostname and no proxied record routes it: browsers get a TLS error (unrecognized_name).';
    default:
      return e.explanation;
  }
}

/** Where the winner is in its deployment: whether every live edge already serves it. */
export function deploymentNote(e: EdgeCertEffective): string | null {
  if (e.source !== 'custom') return null;
  const waiting = e.deployment.edges.filter((x) => !x.applied);
  if (waiting.length === 0) return null;
  const one = waiting.length === 1;
  return `Not yet applied by ${one ? 'edge' : 'edges'} ${waiting.map((x) => x.name).join(', ')}: ${one ? 'it serves' : 'they serve'} the previous choice until then.`;
}

export interface DeleteImpact {
  /** Hostnames the certificate serves now, and what each gets once it is deleted. */
  changes: { hostname: string; next: EdgeCertEffective }[];
}

/** What deleting `certId` changes for the hostnames it serves now (asked of the API, `?without=`). */
export async function deleteImpact(zoneId: string, certId: string, serving: Serving): Promise<DeleteImpact> {
  const served = serving.hostnames.filter((e) => e.certificate?.id === certId).map((e) => e.hostname);
  const changes = await Promise.all(served.map(async (hostname) => ({ hostname, next: await effective(zoneId, hostname, undefined, certId) })));
  return { changes };
}

/** "www.example.com will get custom certificate 1a2b… (…)", for the delete confirmation. */
export function afterDelete(c: DeleteImpact['changes'][number]): string {
  if (c.next.source === 'none') return `${c.hostname} will get no certificate: browsers get a TLS error (unrecognized_name).`;
  if (c.next.source === 'edge_ca_fallback') return `${c.hostname} will get the installation’s edge CA certificate (fallback), which browsers warn about.`;
  return `${c.hostname} will get ${servedBy(c.next)}.`;
}
