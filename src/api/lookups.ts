// Small loaders shared by the resource plugins: each turns "not there" into its v4 error.
// Tested in test/api/zones.test.ts and test/regressions/nested-zones.test.ts (names of a child zone).
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

/**
 * A name belongs to the most specific zone that exists (`shop.sub.example.com` to
 * `sub.example.com` once that zone exists, not to `example.com`): 400 naming the owning zone when
 * `hostname` (already a name of `zone`, wildcards included) falls inside a more specific zone.
 */
export async function assertOwnedByZone(ctx: ApiContext, hostname: string, zone: Zone, pointer: string): Promise<void> {
  let name = hostname.startsWith('*.') ? hostname.slice(2) : hostname;
  while (name.length > zone.name.length) {
    const [owner] = await ctx.store.listZones({ name });
    if (owner) {
      throw new ApiError(
        API_ERRORS.hostnameInChildZone,
        `${hostname} belongs to the zone ${owner.name}, which is more specific than ${zone.name}: create it in ${owner.name}`,
        { pointer },
      );
    }
    name = name.slice(name.indexOf('.') + 1);
  }
}
