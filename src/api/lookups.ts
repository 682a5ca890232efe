// Small loaders shared by the resource plugins: each turns "not there" into its v4 error.
import { belongsToZone, isValidHostname, normalizeHostname, type Zone } from '../domain/index.ts';
import type { ApiContext } from './context.ts';
import { API_ERRORS, ApiError } from './errors.ts';

export async function loadZone(ctx: ApiContext, zoneId: string): Promise<Zone> {
  const zone = await ctx.store.getZone(zoneId);
  if (!zone) throw new ApiError(API_ERRORS.zoneNotFound, `Zone not found: ${zoneId}`);
  return zone;
}

/** A host name of the zone (apex, sub-domain or `*.` wildcard), normalized; 400 otherwise. */
export function hostnameInZone(raw: string, zone: Zone, pointer: string): string {
  const hostname = normalizeHostname(raw);
  if (!isValidHostname(hostname, { allowWildcard: true })) {
    throw new ApiError(API_ERRORS.invalidHostname, `Invalid hostname "${raw.slice(0, 255)}": expected a DNS name such as app.${zone.name}`, { pointer });
  }
  const base = hostname.startsWith('*.') ? hostname.slice(2) : hostname;
  if (!belongsToZone(base, zone.name)) {
    throw new ApiError(API_ERRORS.invalidHostname, `Hostname ${hostname} does not belong to zone ${zone.name}`, { pointer });
  }
  return hostname;
}
