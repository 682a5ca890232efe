// Zone settings, one v4 resource each under /zones/{id}/settings/{setting}:
// `ssl` (off|flexible|full|strict, default full), `tls_client_auth` (global AOP, on|off, default
// off), and how the edge meets visitors (docs/zone-settings.md): `always_use_https`,
// `min_tls_version`, `tls_1_3`, `http2`, `websockets`, `security_header`. PATCH takes `{value}`
// and tolerates `id`; a value the edge cannot honour is refused with a 400 naming why.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import {
  EDGE_TLS_VERSIONS,
  HSTS_MAX_AGE_LIMIT,
  MIN_TLS_VERSIONS,
  SSL_MODES,
  TLS_1_3_VALUES,
  edgeSettingsConflict,
  type StrictTransportSecurity,
  type Zone,
  type ZoneEdgeSettingKey,
} from '../domain/index.ts';
import type { ZoneSettingsPatch } from '../store/index.ts';
import { Envelope, ListEnvelope, ok, okList } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { loadZone } from './lookups.ts';
import { SecurityHeaderValue, SettingPatchBody, SettingSchema, ZoneParams, ZoneSettingParams } from './schemas.ts';
import { iso } from './wire.ts';

type WireValue = string | Static<typeof SecurityHeaderValue>;

interface SettingDef {
  value(zone: Zone): WireValue;
  modifiedOn(zone: Zone): number | null;
  /** The store patch for a PATCH body's `value`; throws a 400 for a value it cannot take. */
  patch(id: string, value: unknown, zone: Zone): ZoneSettingsPatch;
}

function invalidValue(id: string, value: unknown, why: string): ApiError {
  const shown = JSON.stringify(value)?.slice(0, 200) ?? 'nothing';
  return new ApiError(API_ERRORS.invalidSettingValue, `Invalid value for zone setting ${id}: ${shown}; ${why}`, { pointer: '/value' });
}

function oneOf<T extends string>(id: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw invalidValue(id, value, `allowed values are ${allowed.join(', ')}`);
  return value as T;
}

/** A setting stored among the zone's edge settings, with a string value. */
function edgeChoice<K extends Exclude<ZoneEdgeSettingKey, 'securityHeader'>>(key: K, allowed: readonly string[], check?: (id: string, v: string) => void): SettingDef {
  return {
    value: (z) => z.edge[key],
    modifiedOn: (z) => z.edgeModifiedOn[key] ?? null,
    patch: (id, value) => {
      const v = oneOf(id, value, allowed);
      check?.(id, v);
      return { edge: { [key]: v } };
    },
  };
}

const HSTS_FIELDS: Readonly<Record<string, { key: keyof StrictTransportSecurity; type: 'boolean' | 'number' }>> = {
  enabled: { key: 'enabled', type: 'boolean' },
  max_age: { key: 'maxAge', type: 'number' },
  include_subdomains: { key: 'includeSubdomains', type: 'boolean' },
  preload: { key: 'preload', type: 'boolean' },
  nosniff: { key: 'nosniff', type: 'boolean' },
};

function hstsWire(h: StrictTransportSecurity): WireValue {
  return { strict_transport_security: { enabled: h.enabled, max_age: h.maxAge, include_subdomains: h.includeSubdomains, preload: h.preload, nosniff: h.nosniff } };
}

/**
 * `{strict_transport_security: {...}}`; fields left out keep their current value, so one flag can
 * change without restating the rest.
 */
function hstsPatch(id: string, value: unknown, current: StrictTransportSecurity): StrictTransportSecurity {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value) || Object.keys(value).some((k) => k !== 'strict_transport_security') || !isObject(value.strict_transport_security)) {
    throw invalidValue(id, value, 'expected {"strict_transport_security": {"enabled", "max_age", "include_subdomains", "preload", "nosniff"}}');
  }
  const next = { ...current };
  for (const [field, v] of Object.entries(value.strict_transport_security)) {
    const def = Object.hasOwn(HSTS_FIELDS, field) ? HSTS_FIELDS[field] : undefined;
    if (def === undefined) throw invalidValue(id, value, `unknown field strict_transport_security.${field.slice(0, 40)}; known: ${Object.keys(HSTS_FIELDS).join(', ')}`);
    if (def.type === 'boolean') {
      if (typeof v !== 'boolean') throw invalidValue(id, value, `strict_transport_security.${field} must be true or false`);
      (next[def.key] as boolean) = v;
    } else {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > HSTS_MAX_AGE_LIMIT) {
        throw invalidValue(id, value, `strict_transport_security.max_age must be a whole number of seconds from 0 to ${HSTS_MAX_AGE_LIMIT}`);
      }
      next.maxAge = v;
    }
  }
  if (next.enabled && next.preload && (next.maxAge < 31_536_000 || !next.includeSubdomains)) {
    throw invalidValue(id, value, 'preload needs max_age of at least 31536000 (one year) and include_subdomains, as the HSTS preload list requires');
  }
  return Object.freeze(next);
}

const SETTINGS: Readonly<Record<string, SettingDef>> = {
  ssl: {
    value: (z) => z.sslMode,
    modifiedOn: (z) => z.sslModifiedOn,
    patch: (id, v) => ({ sslMode: oneOf(id, v, SSL_MODES) }),
  },
  tls_client_auth: {
    value: (z) => z.tlsClientAuth,
    modifiedOn: (z) => z.tlsClientAuthModifiedOn,
    patch: (id, v) => ({ tlsClientAuth: oneOf(id, v, ['on', 'off'] as const) }),
  },
  always_use_https: edgeChoice('alwaysUseHttps', ['on', 'off']),
  min_tls_version: edgeChoice('minTlsVersion', MIN_TLS_VERSIONS, (id, v) => {
    if (!EDGE_TLS_VERSIONS.includes(v as (typeof EDGE_TLS_VERSIONS)[number])) {
      throw invalidValue(id, v, `this edge speaks TLS ${EDGE_TLS_VERSIONS.join(' and ')} only (OpenSSL refuses TLS 1.0 and 1.1 at its default security level), so it cannot serve visitors from TLS ${v}; use ${EDGE_TLS_VERSIONS.join(' or ')}`);
    }
  }),
  tls_1_3: edgeChoice('tls13', TLS_1_3_VALUES),
  http2: edgeChoice('http2', ['on', 'off']),
  websockets: edgeChoice('websockets', ['on', 'off']),
  security_header: {
    value: (z) => hstsWire(z.edge.securityHeader),
    modifiedOn: (z) => z.edgeModifiedOn.securityHeader ?? null,
    patch: (id, v, zone) => ({ edge: { securityHeader: hstsPatch(id, v, zone.edge.securityHeader) } }),
  },
};

const SETTING_IDS = Object.keys(SETTINGS).join(', ');

function settingWire(id: string, def: SettingDef, zone: Zone) {
  const at = def.modifiedOn(zone);
  return { id, value: def.value(zone), editable: true, modified_on: at === null ? null : iso(at) };
}

function settingDef(id: string): SettingDef {
  const def = Object.hasOwn(SETTINGS, id) ? SETTINGS[id] : undefined;
  if (!def) throw new ApiError(API_ERRORS.unknownSetting, `Unknown zone setting "${id.slice(0, 64)}": supported settings are ${SETTING_IDS}`);
  return def;
}

/** Refuses (inside the write) a combination of settings that leaves visitors nothing to use. */
function checkCombination(zone: Zone): void {
  const conflict = edgeSettingsConflict(zone.edge);
  if (conflict !== null) throw new ApiError(API_ERRORS.conflictingSettings, `Conflicting zone settings: ${conflict}`, { pointer: '/value' });
}

const tags = ['Zone settings'];

export const zoneSettingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.get(
    '/zones/:zone_id/settings',
    { schema: { tags, summary: 'List the zone settings originpull supports', params: ZoneParams, response: { 200: ListEnvelope(SettingSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      return okList(Object.entries(SETTINGS).map(([id, def]) => settingWire(id, def, zone)));
    },
  );

  app.get(
    '/zones/:zone_id/settings/:setting_id',
    { schema: { tags, summary: `Get a zone setting (${SETTING_IDS})`, params: ZoneSettingParams, response: { 200: Envelope(SettingSchema) } } },
    async (request) => {
      const def = settingDef(request.params.setting_id);
      const zone = await loadZone(ctx, request.params.zone_id);
      return ok(settingWire(request.params.setting_id, def, zone));
    },
  );

  app.patch(
    '/zones/:zone_id/settings/:setting_id',
    {
      schema: {
        tags,
        summary: `Change a zone setting (${SETTING_IDS})`,
        params: ZoneSettingParams,
        body: SettingPatchBody,
        response: { 200: Envelope(SettingSchema) },
      },
    },
    async (request) => {
      const id = request.params.setting_id;
      const def = settingDef(id);
      const current = await loadZone(ctx, request.params.zone_id);
      const patch = def.patch(id, request.body.value, current);
      const zone = await ctx.store.updateZoneSettings(request.params.zone_id, patch, checkCombination);
      return ok(settingWire(id, def, zone));
    },
  );
};
