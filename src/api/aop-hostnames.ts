// Per-hostname AOP: hostname certificates, hostname associations, and our
// `effective/{hostname}` explanation. Static segments (`certificates`) win over `{hostname}`.
// Tested in test/api/aop.test.ts and test/api/uploads.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AssociationChange } from '../store/index.ts';
import { LimitError, NotFoundError } from '../store/index.ts';
import type { StoredCertificate } from '../domain/index.ts';
import type { ApiContext } from './context.ts';
import { Envelope, ListEnvelope, ok, okList } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { assertOwnedByZone, hostnameInZone, loadZone } from './lookups.ts';
import {
  AssociationSchema,
  CertUploadBody,
  HostnameCertificateSchema,
  HostnamesPutBody,
  WaitQuery,
  ZoneCertParams,
  ZoneHostnameParams,
  ZoneParams,
} from './schemas.ts';
import { associationStatus, certificateStatus, deploymentView, isPending, removalDeployment, removalStatus } from './status.ts';
import { associationWire, certificateWire, iso, removedAssociationWire } from './wire.ts';
import { deleteCertificate, listVisibleCertificates, loadCertificate, uploadCertificate } from './certificates.ts';
import { waitUntilSettled } from './wait-active.ts';

/** Cloudflare: at most 100 associations per hostname certificate. */
export const MAX_ASSOCIATIONS_PER_CERT = 100;

const certTags = ['Per-hostname Authenticated Origin Pulls'];
const BASE = '/zones/:zone_id/origin_tls_client_auth/hostnames';

interface PlannedChange {
  change: AssociationChange;
  /** Removal of an association that does not exist: nothing to send to the store. */
  noop: boolean;
}

async function certificatesById(ctx: ApiContext, zoneId: string): Promise<Map<string, StoredCertificate>> {
  const certs = await ctx.store.listCertificates(zoneId, 'hostname');
  return new Map(certs.map((c) => [c.id, c]));
}

export const aopHostnameRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  // ── hostname certificates ─────────────────────────────────────────────────
  app.post(
    `${BASE}/certificates`,
    {
      schema: {
        tags: certTags,
        summary: 'Upload a hostname client certificate',
        description: `At most 10 per zone. \`?wait=active\` waits for the edges.`,
        params: ZoneParams,
        querystring: WaitQuery,
        body: CertUploadBody,
        response: { 200: Envelope(HostnameCertificateSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const { cert, messages } = await uploadCertificate(ctx, zone, 'hostname', request.body);
      if (request.query.wait === 'active') {
        await waitUntilSettled(ctx, async (view) => {
          const now = await ctx.store.getCertificate(zone.id, 'hostname', cert.id);
          return !now || !isPending(certificateStatus(now, view));
        });
      }
      return ok(certificateWire(cert, await deploymentView(ctx)), messages);
    },
  );

  app.get(
    `${BASE}/certificates`,
    { schema: { tags: certTags, summary: 'List hostname client certificates', params: ZoneParams, response: { 200: ListEnvelope(HostnameCertificateSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      return okList((await listVisibleCertificates(ctx, zone.id, 'hostname', view)).map((c) => certificateWire(c, view)));
    },
  );

  app.get(
    `${BASE}/certificates/:certificate_id`,
    { schema: { tags: certTags, summary: 'Get a hostname client certificate', params: ZoneCertParams, response: { 200: Envelope(HostnameCertificateSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      return ok(certificateWire(await loadCertificate(ctx, zone.id, 'hostname', request.params.certificate_id, view), view));
    },
  );

  app.delete(
    `${BASE}/certificates/:certificate_id`,
    {
      schema: {
        tags: certTags,
        summary: 'Delete a hostname client certificate',
        description: 'Refused (409) while an enabled association uses it; disabled associations are removed with it.',
        params: ZoneCertParams,
        response: { 200: Envelope(HostnameCertificateSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const cert = await deleteCertificate(ctx, zone, 'hostname', request.params.certificate_id, await deploymentView(ctx));
      return ok(certificateWire(cert, await deploymentView(ctx)));
    },
  );

  // ── associations ──────────────────────────────────────────────────────────
  app.put(
    BASE,
    {
      schema: {
        tags: certTags,
        summary: 'Associate, disable or remove hostname certificates',
        description:
          '`enabled: true` attaches, `false` disables (no client certificate for the hostname, even with zone-level AOP on), `null` removes. ' +
          'An omitted `enabled` means true. The whole batch applies atomically. `?wait=active` waits for the edges.',
        params: ZoneParams,
        querystring: WaitQuery,
        body: HostnamesPutBody,
        response: { 200: ListEnvelope(AssociationSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const certs = await certificatesById(ctx, zone.id);
      const seen = new Set<string>();
      const plan: PlannedChange[] = [];
      for (const [i, item] of request.body.config.entries()) {
        const at = `/config/${i}`;
        if (item.hostname === undefined) throw new ApiError(API_ERRORS.invalidHostname, `config[${i}].hostname is required`, { pointer: `${at}/hostname` });
        const hostname = hostnameInZone(item.hostname, zone, `${at}/hostname`);
        if (seen.has(hostname)) throw new ApiError(API_ERRORS.invalidHostname, `config[${i}].hostname ${hostname} appears more than once`, { pointer: `${at}/hostname` });
        seen.add(hostname);
        const enabled = item.enabled === undefined ? true : item.enabled;
        if (enabled !== null) await assertOwnedByZone(ctx, hostname, zone, `${at}/hostname`);
        if (enabled === null) {
          const existing = await ctx.store.getAssociation(zone.id, hostname);
          const certId = existing?.certId ?? item.cert_id ?? '';
          plan.push({ change: { hostname, certId, enabled: null }, noop: !existing });
          continue;
        }
        if (item.cert_id === undefined) throw new ApiError(API_ERRORS.invalidRequest, `Invalid request: body field config[${i}].cert_id is required`, { pointer: `${at}/cert_id` });
        const cert = certs.get(item.cert_id);
        if (!cert || cert.deleteVersion !== null) {
          throw new ApiError(API_ERRORS.certificateNotFound, `config[${i}].cert_id ${item.cert_id} is not a hostname certificate of this zone`, { pointer: `${at}/cert_id` });
        }
        if (enabled && cert.notBefore > ctx.now()) {
          // The current association (if any) keeps being presented; origins would refuse this one.
          throw new ApiError(
            API_ERRORS.certificateNotYetValid,
            `config[${i}].cert_id ${item.cert_id} is not valid until ${iso(cert.notBefore)}: origins would refuse it, so ${hostname} keeps its current certificate; associate it from then on`,
            { pointer: `${at}/cert_id` },
          );
        }
        plan.push({ change: { hostname, certId: item.cert_id, enabled }, noop: false });
      }

      const toApply = plan.filter((p) => !p.noop).map((p) => p.change);
      let applied: Awaited<ReturnType<typeof ctx.store.applyAssociations>> = [];
      try {
        if (toApply.length > 0) applied = await ctx.store.applyAssociations(zone.id, toApply, { maxPerCertificate: MAX_ASSOCIATIONS_PER_CERT });
      } catch (err) {
        if (err instanceof LimitError) {
          throw new ApiError(API_ERRORS.associationLimit, `A hostname certificate may be associated with at most ${MAX_ASSOCIATIONS_PER_CERT} hostnames`, { cause: err });
        }
        if (err instanceof NotFoundError) throw new ApiError(API_ERRORS.certificateNotFound, err.message, { cause: err });
        throw err;
      }
      const version = await ctx.store.currentVersion();
      const requestedOn = ctx.now();

      if (request.query.wait === 'active') {
        await waitUntilSettled(ctx, async (view) => {
          if (toApply.some((c) => c.enabled === null) && isPending(removalStatus(version, requestedOn, view))) return false;
          for (const c of toApply) {
            if (c.enabled === null) continue;
            const a = await ctx.store.getAssociation(zone.id, c.hostname);
            if (a && isPending(associationStatus(a, view))) return false;
          }
          return true;
        });
      }

      const view = await deploymentView(ctx);
      let next = 0;
      const result = plan.map((p) => {
        const stored = p.noop ? null : applied[next++];
        const cert = certs.get(p.change.certId);
        if (p.change.enabled === null) {
          const deployment = stored ? removalDeployment(version, requestedOn, view) : { status: 'deleted' as const, lagging: [], noLiveEdge: false };
          return removedAssociationWire(p.change.hostname, p.change.certId, deployment, cert, view);
        }
        if (!stored) throw new Error(`store returned no association for ${p.change.hostname}`);
        return associationWire(stored, cert, view);
      });
      return okList(result);
    },
  );

  app.get(
    BASE,
    {
      schema: {
        tags: certTags,
        summary: 'List hostname associations (originpull extension)',
        params: ZoneParams,
        response: { 200: ListEnvelope(AssociationSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const [associations, certs, view] = await Promise.all([ctx.store.listAssociations(zone.id), certificatesById(ctx, zone.id), deploymentView(ctx)]);
      return okList(associations.map((a) => associationWire(a, certs.get(a.certId), view)));
    },
  );

  app.get(
    `${BASE}/:hostname`,
    {
      schema: {
        tags: certTags,
        summary: 'Get the association of a hostname',
        description: '404 when the hostname has no association.',
        params: ZoneHostnameParams,
        response: { 200: Envelope(AssociationSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const hostname = hostnameInZone(request.params.hostname, zone, '/hostname');
      const assoc = await ctx.store.getAssociation(zone.id, hostname);
      if (!assoc) throw new ApiError(API_ERRORS.associationNotFound, `No certificate is associated with ${hostname}`);
      const view = await deploymentView(ctx);
      const cert = (await ctx.store.getCertificate(zone.id, 'hostname', assoc.certId)) ?? undefined;
      return ok(associationWire(assoc, cert, view));
    },
  );
};
