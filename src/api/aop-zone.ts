// Zone-level AOP: upload/list/get/delete `/zones/{z}/origin_tls_client_auth` and its
// `settings {enabled}`. `settings` is a static segment, so Fastify routes it before `{certificate_id}`.
// Tested in test/api/aop.test.ts and test/api/sdk.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ListEnvelope, ok, okList } from './envelope.ts';
import { loadZone } from './lookups.ts';
import { AopSettingsBody, AopSettingsSchema, CertUploadBody, WaitQuery, ZoneCertificateSchema, ZoneCertParams, ZoneParams } from './schemas.ts';
import { deploymentView, certificateStatus, isPending } from './status.ts';
import { zoneCertificateWire } from './wire.ts';
import { deleteCertificate, listVisibleCertificates, loadCertificate, uploadCertificate } from './certificates.ts';
import { waitUntilSettled } from './wait-active.ts';

const tags = ['Zone-level Authenticated Origin Pulls'];
const BASE = '/zones/:zone_id/origin_tls_client_auth';

export const aopZoneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.post(
    BASE,
    {
      schema: {
        tags,
        summary: 'Upload a zone-level client certificate',
        description: 'The newest active certificate is the zone certificate once zone-level AOP is enabled. `?wait=active` waits for the edges.',
        params: ZoneParams,
        querystring: WaitQuery,
        body: CertUploadBody,
        response: { 200: Envelope(ZoneCertificateSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const { cert, messages } = await uploadCertificate(ctx, zone, 'zone', request.body);
      if (request.query.wait === 'active') {
        await waitUntilSettled(ctx, async (view) => {
          const now = await ctx.store.getCertificate(zone.id, 'zone', cert.id);
          return !now || !isPending(certificateStatus(now, view));
        });
      }
      return ok(zoneCertificateWire(cert, zone, await deploymentView(ctx)), messages);
    },
  );

  app.get(
    BASE,
    { schema: { tags, summary: 'List zone-level client certificates', params: ZoneParams, response: { 200: ListEnvelope(ZoneCertificateSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      const certs = await listVisibleCertificates(ctx, zone.id, 'zone', view);
      return okList(certs.map((c) => zoneCertificateWire(c, zone, view)));
    },
  );

  app.get(
    `${BASE}/settings`,
    { schema: { tags, summary: 'Get zone-level AOP enablement', params: ZoneParams, response: { 200: Envelope(AopSettingsSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      return ok({ enabled: zone.aopEnabled });
    },
  );

  app.put(
    `${BASE}/settings`,
    {
      schema: {
        tags,
        summary: 'Enable or disable zone-level AOP',
        description: 'Independent of the `tls_client_auth` zone setting (global AOP).',
        params: ZoneParams,
        body: AopSettingsBody,
        response: { 200: Envelope(AopSettingsSchema) },
      },
    },
    async (request) => {
      await loadZone(ctx, request.params.zone_id);
      const zone = await ctx.store.updateZoneSettings(request.params.zone_id, { aopEnabled: request.body.enabled });
      return ok({ enabled: zone.aopEnabled });
    },
  );

  app.get(
    `${BASE}/:certificate_id`,
    { schema: { tags, summary: 'Get a zone-level client certificate', params: ZoneCertParams, response: { 200: Envelope(ZoneCertificateSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      const cert = await loadCertificate(ctx, zone.id, 'zone', request.params.certificate_id, view);
      return ok(zoneCertificateWire(cert, zone, view));
    },
  );

  app.delete(
    `${BASE}/:certificate_id`,
    {
      schema: {
        tags,
        summary: 'Delete a zone-level client certificate',
        description: 'Answers the certificate with status `pending_deletion`; once every edge dropped it, GET answers 404.',
        params: ZoneCertParams,
        response: { 200: Envelope(ZoneCertificateSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const cert = await deleteCertificate(ctx, zone, 'zone', request.params.certificate_id, await deploymentView(ctx));
      return ok(zoneCertificateWire(cert, zone, await deploymentView(ctx)));
    },
  );
};
