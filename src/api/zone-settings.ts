// Zone settings (reference §4): `ssl` (off|flexible|full|strict, default full) and
// `tls_client_auth` (global AOP, on|off, default off). PATCH takes `{value}` and tolerates `id`.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SSL_MODES, type Zone } from '../domain/index.ts';
import type { ZoneSettingsPatch } from '../store/index.ts';
import { Envelope, ListEnvelope, ok, okList } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { loadZone } from './lookups.ts';
import { SettingPatchBody, SettingSchema, ZoneParams, ZoneSettingParams } from './schemas.ts';
import { iso } from './wire.ts';

interface SettingDef {
  values: readonly string[];
  value(zone: Zone): string;
  modifiedOn(zone: Zone): number;
  patch(value: string): ZoneSettingsPatch;
}

const SETTINGS: Readonly<Record<string, SettingDef>> = {
  ssl: {
    values: SSL_MODES,
    value: (z) => z.sslMode,
    modifiedOn: (z) => z.sslModifiedOn,
    patch: (v) => ({ sslMode: v as ZoneSettingsPatch['sslMode'] }),
  },
  tls_client_auth: {
    values: ['on', 'off'],
    value: (z) => z.tlsClientAuth,
    modifiedOn: (z) => z.tlsClientAuthModifiedOn,
    patch: (v) => ({ tlsClientAuth: v as ZoneSettingsPatch['tlsClientAuth'] }),
  },
};

function settingWire(id: string, def: SettingDef, zone: Zone) {
  return { id, value: def.value(zone), editable: true, modified_on: iso(def.modifiedOn(zone)) };
}

function settingDef(id: string): SettingDef {
  const def = Object.hasOwn(SETTINGS, id) ? SETTINGS[id] : undefined;
  if (!def) throw new ApiError(API_ERRORS.unknownSetting, `Unknown zone setting "${id.slice(0, 64)}": supported settings are ${Object.keys(SETTINGS).join(', ')}`);
  return def;
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
    { schema: { tags, summary: 'Get a zone setting (ssl, tls_client_auth)', params: ZoneSettingParams, response: { 200: Envelope(SettingSchema) } } },
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
        summary: 'Change a zone setting (ssl, tls_client_auth)',
        params: ZoneSettingParams,
        body: SettingPatchBody,
        response: { 200: Envelope(SettingSchema) },
      },
    },
    async (request) => {
      const id = request.params.setting_id;
      const def = settingDef(id);
      await loadZone(ctx, request.params.zone_id);
      const value = request.body.value;
      if (typeof value !== 'string' || !def.values.includes(value)) {
        throw new ApiError(API_ERRORS.invalidSettingValue, `Invalid value for zone setting ${id}: ${JSON.stringify(value) ?? 'nothing'}; allowed values are ${def.values.join(', ')}`, {
          pointer: '/value',
        });
      }
      const zone = await ctx.store.updateZoneSettings(request.params.zone_id, def.patch(value));
      return ok(settingWire(id, def, zone));
    },
  );
};
