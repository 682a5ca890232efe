// Proxied hostnames and their origins, as DNS records (A, AAAA, CNAME). `content` is the origin;
// `origin_http_port`/`origin_https_port` (extensions, defaults 80/443) let it listen elsewhere;
// `origin_sni`/`origin_host_header` (extensions, docs/origin-overrides.md) name it differently.
// Names: fully qualified in the zone, `@` for the apex, a single label relative to the zone
// (`www`), or a wildcard (`*.example.com`, `*`).
// Tested in test/api/zones.test.ts and test/api/zone-settings.test.ts (origin overrides).
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { normalizeHostname, type DnsRecord, type DnsRecordType, type Zone } from '../domain/index.ts';
import { ConflictError, type DnsRecordPatch, type NewDnsRecord } from '../store/index.ts';
import type { ApiContext } from './context.ts';
import { Envelope, ListEnvelope, ok, okPage } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { assertOwnedByZone, hostnameInZone, loadZone } from './lookups.ts';
import {
  DnsListQuery,
  DnsRecordBody,
  DnsRecordPatchBody,
  DnsRecordSchema,
  ZoneParams,
  ZoneRecordParams,
  ZoneDeletedSchema,
} from './schemas.ts';
import { dnsRecordWire } from './wire.ts';

const TYPES: readonly DnsRecordType[] = ['A', 'AAAA', 'CNAME'];
const ORIGIN_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const ORIGIN_NAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function invalid(message: string, pointer: string): ApiError {
  return new ApiError(API_ERRORS.invalidDnsRecord, message, { pointer });
}

function recordType(raw: string): DnsRecordType {
  const type = raw.toUpperCase() as DnsRecordType;
  if (!TYPES.includes(type)) throw invalid(`Unsupported record type "${raw.slice(0, 16)}": originpull proxies A, AAAA and CNAME records`, '/type');
  return type;
}

function recordName(raw: string, zone: Zone): string {
  let name = normalizeHostname(raw);
  if (name === '@' || name === '') name = zone.name;
  else if (name === '*') name = `*.${zone.name}`;
  else if (!name.includes('.')) name = `${name}.${zone.name}`;
  return hostnameInZone(name, zone, '/name');
}

function recordContent(type: DnsRecordType, raw: string, name: string): string {
  const content = raw.trim();
  if (type === 'A') {
    if (!isIPv4(content)) throw invalid(`content must be an IPv4 address for an A record, got "${content.slice(0, 64)}"`, '/content');
    return content;
  }
  if (type === 'AAAA') {
    if (!isIPv6(content)) throw invalid(`content must be an IPv6 address for an AAAA record, got "${content.slice(0, 64)}"`, '/content');
    return content.toLowerCase();
  }
  // CNAME: the origin's host name; single labels (e.g. `localhost`, a container name) are fine.
  const host = normalizeHostname(content);
  if (host.length === 0 || host.length > 253 || !host.split('.').every((l) => ORIGIN_LABEL.test(l))) {
    throw invalid(`content must be a host name for a CNAME record, got "${content.slice(0, 64)}"`, '/content');
  }
  if (host === name) throw invalid(`A CNAME record cannot point at itself (${name})`, '/content');
  return host;
}

/** A host name of letter-digit-hyphen labels (one label is fine: `localhost`, a container name). */
function isOriginHostname(host: string): boolean {
  return host.length > 0 && host.length <= 253 && host.split('.').every((l) => ORIGIN_NAME_LABEL.test(l));
}

/** `origin_sni`: a host name, as SNI carries (RFC 6066 §3: no address literals, no trailing dot). */
function originSni(raw: string | null | undefined): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  const name = normalizeHostname(raw);
  if (isIP(name) !== 0) throw invalid(`origin_sni must be a host name, not an IP address (TLS sends no address as server name), got "${raw.slice(0, 64)}"`, '/origin_sni');
  if (!isOriginHostname(name)) throw invalid(`origin_sni must be a host name such as origin.example.net, got "${raw.slice(0, 64)}"`, '/origin_sni');
  return name;
}

/** `origin_host_header`: host[:port], the host a name or an IPv4/bracketed IPv6 address. */
function originHostHeader(raw: string | null | undefined): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  const value = raw.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value);
  const host = m?.[1] ?? '';
  const port = m?.[2] === undefined ? 1 : Number(m[2]);
  const hostOk = host.startsWith('[') ? isIPv6(host.slice(1, -1)) : isIPv4(host) || isOriginHostname(host.endsWith('.') ? host.slice(0, -1) : host);
  if (!m || !hostOk || port < 1 || port > 65535) {
    throw invalid(`origin_host_header must be a host name with an optional port, such as origin.example.net or origin.example.net:8443, got "${raw.slice(0, 64)}"`, '/origin_host_header');
  }
  return value;
}

function ttl(value: number | undefined): number {
  const t = value ?? 1;
  if (t !== 1 && (t < 30 || t > 86400)) throw invalid('ttl must be 1 (automatic) or between 30 and 86400 seconds', '/ttl');
  return t;
}

/** A full record from a POST/PUT body, or from a PATCH merged over the stored record. */
function buildRecord(zone: Zone, body: DnsRecordBody, previous?: DnsRecord): Omit<NewDnsRecord, 'zoneId'> {
  const type = recordType(body.type);
  const name = recordName(body.name, zone);
  return {
    type,
    name,
    content: recordContent(type, body.content, name),
    // originpull serves proxied records only; Cloudflare's default (false) would make a new record do nothing.
    proxied: body.proxied ?? previous?.proxied ?? true,
    ttl: ttl(body.ttl ?? previous?.ttl),
    comment: body.comment !== undefined ? body.comment : (previous?.comment ?? null),
    originHttpPort: body.origin_http_port ?? previous?.originHttpPort ?? 80,
    originHttpsPort: body.origin_https_port ?? previous?.originHttpsPort ?? 443,
    originSni: originSni(body.origin_sni) ?? (body.origin_sni === null ? null : (previous?.originSni ?? null)),
    originHostHeader: originHostHeader(body.origin_host_header) ?? (body.origin_host_header === null ? null : (previous?.originHostHeader ?? null)),
  };
}

/**
 * Only what the PATCH body names goes to the store, which merges it inside its write transaction:
 * the record read above may be stale by then (another request or API node), and writing it back
 * whole would undo a concurrent change of another field. Type, name and content are validated
 * together, so a body touching one of them sends the three.
 */
function changedFields(body: DnsRecordPatchBody, merged: Omit<NewDnsRecord, 'zoneId'>): DnsRecordPatch {
  const patch: DnsRecordPatch = {};
  if (body.type !== undefined || body.name !== undefined || body.content !== undefined) {
    patch.type = merged.type;
    patch.name = merged.name;
    patch.content = merged.content;
  }
  if (body.proxied !== undefined) patch.proxied = merged.proxied;
  if (body.ttl !== undefined) patch.ttl = merged.ttl;
  if (body.comment !== undefined) patch.comment = merged.comment;
  if (body.origin_http_port !== undefined) patch.originHttpPort = merged.originHttpPort;
  if (body.origin_https_port !== undefined) patch.originHttpsPort = merged.originHttpsPort;
  if (body.origin_sni !== undefined) patch.originSni = merged.originSni;
  if (body.origin_host_header !== undefined) patch.originHostHeader = merged.originHostHeader;
  return patch;
}

function conflict(err: unknown, name: string): never {
  if (err instanceof ConflictError) throw new ApiError(API_ERRORS.dnsRecordExists, `A record for ${name} already exists`, { cause: err, pointer: '/name' });
  throw err;
}

async function loadRecord(ctx: ApiContext, zoneId: string, id: string): Promise<DnsRecord> {
  const record = await ctx.store.getDnsRecord(zoneId, id);
  if (!record) throw new ApiError(API_ERRORS.dnsRecordNotFound, `Record does not exist: ${id}`);
  return record;
}

const tags = ['DNS records (proxied hostnames)'];
const BASE = '/zones/:zone_id/dns_records';

export const dnsRecordRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.post(
    BASE,
    { schema: { tags, summary: 'Create a proxied hostname', params: ZoneParams, body: DnsRecordBody, response: { 200: Envelope(DnsRecordSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const input = buildRecord(zone, request.body);
      await assertOwnedByZone(ctx, input.name, zone, '/name');
      const record = await ctx.store.createDnsRecord({ zoneId: zone.id, ...input }).catch((err) => conflict(err, input.name));
      return ok(dnsRecordWire(record, zone));
    },
  );

  app.get(
    BASE,
    {
      schema: { tags, summary: 'List proxied hostnames', params: ZoneParams, querystring: DnsListQuery, response: { 200: ListEnvelope(DnsRecordSchema) } },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const filter: { name?: string; type?: DnsRecordType } = {};
      if (request.query.name !== undefined) filter.name = normalizeHostname(request.query.name);
      if (request.query.type !== undefined) filter.type = recordType(request.query.type);
      const records = await ctx.store.listDnsRecords(zone.id, filter);
      return okPage(
        records.map((r) => dnsRecordWire(r, zone)),
        request.query,
        { perPage: 100, maxPerPage: 5000 },
      );
    },
  );

  app.get(
    `${BASE}/:dns_record_id`,
    { schema: { tags, summary: 'Get a proxied hostname', params: ZoneRecordParams, response: { 200: Envelope(DnsRecordSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      return ok(dnsRecordWire(await loadRecord(ctx, zone.id, request.params.dns_record_id), zone));
    },
  );

  app.patch(
    `${BASE}/:dns_record_id`,
    { schema: { tags, summary: 'Change fields of a proxied hostname', params: ZoneRecordParams, body: DnsRecordPatchBody, response: { 200: Envelope(DnsRecordSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const previous = await loadRecord(ctx, zone.id, request.params.dns_record_id);
      const body = request.body ?? {};
      const merged = buildRecord(
        zone,
        { ...body, type: body.type ?? previous.type, name: body.name ?? previous.name, content: body.content ?? previous.content },
        previous,
      );
      if (merged.name !== previous.name) await assertOwnedByZone(ctx, merged.name, zone, '/name');
      const record = await ctx.store.updateDnsRecord(zone.id, previous.id, changedFields(body, merged)).catch((err) => conflict(err, merged.name));
      return ok(dnsRecordWire(record, zone));
    },
  );

  app.put(
    `${BASE}/:dns_record_id`,
    { schema: { tags, summary: 'Replace a proxied hostname', params: ZoneRecordParams, body: DnsRecordBody, response: { 200: Envelope(DnsRecordSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const previous = await loadRecord(ctx, zone.id, request.params.dns_record_id);
      const input = buildRecord(zone, request.body);
      if (input.name !== previous.name) await assertOwnedByZone(ctx, input.name, zone, '/name');
      const record = await ctx.store.updateDnsRecord(zone.id, previous.id, input).catch((err) => conflict(err, input.name));
      return ok(dnsRecordWire(record, zone));
    },
  );

  app.delete(
    `${BASE}/:dns_record_id`,
    { schema: { tags, summary: 'Delete a proxied hostname', params: ZoneRecordParams, response: { 200: Envelope(ZoneDeletedSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const record = await ctx.store.deleteDnsRecord(zone.id, request.params.dns_record_id);
      if (!record) throw new ApiError(API_ERRORS.dnsRecordNotFound, `Record does not exist: ${request.params.dns_record_id}`);
      return ok({ id: record.id });
    },
  );
};
