// Universal SSL and certificate packs, Cloudflare's shapes: `/zones/{z}/ssl/universal/settings`,
// `/zones/{z}/ssl/certificate_packs` (list, get, delete, `order` an advanced pack) and
// `/zones/{z}/ssl/verification`. The orderer (src/acme/) does the ordering; these routes only
// read and write the store. A pack's status is derived: a pack holding a certificate is
// `pending_deployment` until every live edge applied it, then `active` (or `expired`); one
// without shows its order's stage, or a failure state with the CA's error in `validation_errors`.
// Tested in test/acme/universal-ssl.test.ts and test/acme/not-configured.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ACME_NOT_CONFIGURED, packStatus, type AcmeChallenge, type CertificatePack, type DeploymentView, type PackStatus } from '../domain/index.ts';
import type { ApiContext } from './context.ts';
import { Envelope, ListEnvelope, PageQuery, ok, okPage } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { hostnameInZone, loadZone } from './lookups.ts';
import { ZoneParams } from './schemas.ts';
import { deploymentView } from './status.ts';
import { iso } from './wire.ts';

const tags = ['Universal SSL and certificate packs'];
const BASE = '/zones/:zone_id/ssl/certificate_packs';
const PackParams = Type.Object({ zone_id: Type.String(), certificate_pack_id: Type.String() });
const VALIDITY_DAYS = [14, 30, 90, 365] as const;
const MAX_HOSTS = 50;

const PACK_STATUSES: PackStatus[] = [
  'initializing',
  'pending_validation',
  'pending_issuance',
  'pending_deployment',
  'active',
  'expired',
  'pending_deletion',
  'deleted',
  'validation_timed_out',
  'issuance_timed_out',
  'deployment_timed_out',
  'deletion_timed_out',
];
const PackStatusSchema = Type.Union(PACK_STATUSES.map((s) => Type.Literal(s)));

const UniversalSettings = Type.Object({ enabled: Type.Boolean({ description: 'Universal SSL: every proxied hostname gets a certificate from the ACME CA' }) });

const PackCertificateSchema = Type.Object({
  id: Type.String(),
  hosts: Type.Array(Type.String()),
  status: Type.String(),
  bundle_method: Type.String(),
  issuer: Type.String(),
  signature: Type.String(),
  serial_number: Type.String(),
  expires_on: Type.String({ format: 'date-time' }),
  uploaded_on: Type.String({ format: 'date-time' }),
  modified_on: Type.String({ format: 'date-time' }),
  priority: Type.Integer(),
  zone_id: Type.String(),
  fingerprint_sha256: Type.String({ description: 'originpull extension: SHA-256 of the leaf, hex' }),
});

const ValidationRecord = Type.Object({
  http_url: Type.String(),
  http_body: Type.String(),
  status: Type.String(),
});

export const PackSchema = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('universal'), Type.Literal('advanced')]),
  hosts: Type.Array(Type.String()),
  status: PackStatusSchema,
  validation_method: Type.String({ description: 'http (HTTP-01), or tls-alpn (TLS-ALPN-01, an originpull extension)' }),
  validity_days: Type.Integer(),
  certificate_authority: Type.String(),
  cloudflare_branding: Type.Boolean(),
  primary_certificate: Type.String({ description: "The served certificate's id, or 0 while the pack has none" }),
  certificates: Type.Array(PackCertificateSchema),
  validation_errors: Type.Array(Type.Object({ message: Type.String() })),
  validation_records: Type.Array(ValidationRecord),
  created_on: Type.String({ format: 'date-time', description: 'originpull extension' }),
  renew_on: Type.Union([Type.Null(), Type.String({ format: 'date-time' })], { description: 'originpull extension: when the certificate is renewed' }),
  next_attempt_on: Type.Union([Type.Null(), Type.String({ format: 'date-time' })], { description: 'originpull extension: when a failed order is retried' }),
});

const OrderBody = Type.Object({
  type: Type.Literal('advanced'),
  hosts: Type.Array(Type.String(), { minItems: 1, maxItems: MAX_HOSTS }),
  validation_method: Type.String({ description: 'http (HTTP-01), or tls-alpn (TLS-ALPN-01 on the HTTPS listener, an originpull extension)' }),
  validity_days: Type.Integer(),
  certificate_authority: Type.String({ description: 'lets_encrypt: the configured ACME directory' }),
  cloudflare_branding: Type.Optional(Type.Boolean()),
});

const ListQuery = Type.Object({ ...PageQuery, status: Type.Optional(Type.String({ description: '`all` includes deleted packs' })) });

const VerificationSchema = Type.Object({
  certificate_status: Type.String(),
  cert_pack_uuid: Type.String(),
  signature: Type.Optional(Type.String()),
  validation_method: Type.String(),
  verification_status: Type.Boolean(),
  verification_info: Type.Object({ record_name: Type.String(), record_target: Type.String() }, { description: 'Which fields of validation_records name the challenge and its answer' }),
  validation_records: Type.Array(
    Type.Object({ hostname: Type.String(), http_url: Type.String(), http_body: Type.String(), status: Type.String() }),
    { description: 'originpull extension: per host, the challenge the edges answer and how the CA judged it' },
  ),
  validation_errors: Type.Array(Type.Object({ message: Type.String() })),
});

function challengeUrl(c: AcmeChallenge): string {
  return `http://${c.hostname}/.well-known/acme-challenge/${c.token}`;
}

function errorsOf(ctx: ApiContext, pack: CertificatePack): { message: string }[] {
  if (ctx.config.acme === null) return [{ message: ACME_NOT_CONFIGURED }];
  return pack.errorText === null ? [] : [{ message: pack.errorText }];
}

function wire(ctx: ApiContext, pack: CertificatePack, challenges: readonly AcmeChallenge[], view: DeploymentView) {
  const status = packStatus(pack, view);
  const cert = pack.certificate;
  return {
    id: pack.id,
    type: pack.type,
    hosts: pack.hosts,
    status,
    validation_method: pack.validationMethod,
    validity_days: pack.validityDays,
    certificate_authority: pack.certificateAuthority,
    cloudflare_branding: false,
    primary_certificate: cert === null ? '0' : pack.id,
    certificates:
      cert === null
        ? []
        : [
            {
              id: pack.id,
              hosts: pack.hosts,
              status: status === 'active' || status === 'expired' ? status : 'pending',
              bundle_method: 'ubiquitous',
              issuer: cert.issuer,
              signature: cert.signature,
              serial_number: cert.serialNumber,
              expires_on: iso(cert.expiresOn),
              uploaded_on: iso(pack.modifiedOn),
              modified_on: iso(pack.modifiedOn),
              priority: 0,
              zone_id: pack.zoneId,
              fingerprint_sha256: cert.fingerprintSha256,
            },
          ],
    validation_errors: errorsOf(ctx, pack),
    validation_records: challenges
      .filter((c) => c.packId === pack.id && c.type === 'http-01')
      .map((c) => ({ http_url: challengeUrl(c), http_body: c.keyAuthorization, status: c.status })),
    created_on: iso(pack.createdOn),
    renew_on: cert === null ? null : iso(cert.renewAt),
    next_attempt_on: pack.nextAttemptAt === null ? null : iso(pack.nextAttemptAt),
  };
}

/** Cloudflare's verification statuses from a pack's. */
function verificationStatus(status: PackStatus): string {
  switch (status) {
    case 'pending_validation':
      return 'authorizing';
    case 'pending_issuance':
      return 'issuing';
    case 'validation_timed_out':
    case 'issuance_timed_out':
    case 'deployment_timed_out':
      return 'timing_out';
    case 'active':
    case 'expired':
    case 'pending_deployment':
      return status;
    default:
      return 'initializing';
  }
}

function invalidOrder(message: string, pointer: string): ApiError {
  return new ApiError(API_ERRORS.invalidCertificatePackOrder, message, { pointer });
}

/** Unknown, or deleted on every edge: 404. */
async function loadPack(ctx: ApiContext, zoneId: string, id: string, view: DeploymentView): Promise<CertificatePack> {
  const pack = await ctx.store.getCertificatePack(zoneId, id);
  if (!pack || packStatus(pack, view) === 'deleted') throw new ApiError(API_ERRORS.certificatePackNotFound, `No certificate pack ${id} in this zone`);
  return pack;
}

export const certificatePackRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.get(
    '/zones/:zone_id/ssl/universal/settings',
    { schema: { tags, summary: 'Universal SSL settings', params: ZoneParams, response: { 200: Envelope(UniversalSettings) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      return ok({ enabled: (await ctx.store.getUniversalSsl(zone.id)).enabled });
    },
  );

  app.patch(
    '/zones/:zone_id/ssl/universal/settings',
    {
      schema: {
        tags,
        summary: 'Turn Universal SSL on or off',
        description: 'Off: the universal packs are deleted and the edge serves custom certificates or the fallback. On (the default): every proxied hostname gets one.',
        params: ZoneParams,
        body: Type.Object({ enabled: Type.Optional(Type.Boolean()) }),
        response: { 200: Envelope(UniversalSettings) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      if (request.body.enabled === undefined) return ok({ enabled: (await ctx.store.getUniversalSsl(zone.id)).enabled });
      return ok({ enabled: (await ctx.store.setUniversalSsl(zone.id, request.body.enabled)).enabled });
    },
  );

  app.get(
    BASE,
    { schema: { tags, summary: 'List certificate packs', params: ZoneParams, querystring: ListQuery, response: { 200: ListEnvelope(PackSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const [view, packs, challenges] = await Promise.all([deploymentView(ctx), ctx.store.listCertificatePacks(zone.id), ctx.store.listAcmeChallenges(zone.id)]);
      const all = packs.map((p) => wire(ctx, p, challenges, view));
      const shown = request.query.status === 'all' ? all : all.filter((p) => p.status !== 'deleted');
      return okPage(shown, request.query, { perPage: 20, maxPerPage: 1000 });
    },
  );

  app.post(
    `${BASE}/order`,
    {
      schema: {
        tags,
        summary: 'Order an advanced certificate pack',
        description: 'Ordered from the configured ACME directory (certificate_authority lets_encrypt), validated over HTTP-01 by every edge.',
        params: ZoneParams,
        body: OrderBody,
        response: { 200: Envelope(PackSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const body = request.body;
      if (body.validation_method !== 'http' && body.validation_method !== 'tls-alpn') {
        throw invalidOrder(`validation_method ${body.validation_method} is not supported: the edge answers http (HTTP-01) and tls-alpn (TLS-ALPN-01) challenges`, '/validation_method');
      }
      if (body.certificate_authority !== 'lets_encrypt') {
        throw invalidOrder(`certificate_authority ${body.certificate_authority} is not available: lets_encrypt orders from the configured ACME directory`, '/certificate_authority');
      }
      if (!(VALIDITY_DAYS as readonly number[]).includes(body.validity_days)) {
        throw invalidOrder(`validity_days must be one of ${VALIDITY_DAYS.join(', ')}`, '/validity_days');
      }
      const hosts: string[] = [];
      body.hosts.forEach((raw, i) => {
        const host = hostnameInZone(raw, zone, `/hosts/${i}`);
        if (host.startsWith('*.')) throw invalidOrder(`${host}: a wildcard cannot be validated over HTTP-01`, `/hosts/${i}`);
        if (!hosts.includes(host)) hosts.push(host);
      });
      const pack = await ctx.store.insertCertificatePack({
        zoneId: zone.id,
        type: 'advanced',
        hosts,
        validationMethod: body.validation_method,
        validityDays: body.validity_days,
        certificateAuthority: body.certificate_authority,
        errorText: ctx.config.acme === null ? ACME_NOT_CONFIGURED : null,
      });
      return ok(wire(ctx, pack, [], await deploymentView(ctx)));
    },
  );

  app.get(
    `${BASE}/:certificate_pack_id`,
    { schema: { tags, summary: 'Get a certificate pack', params: PackParams, response: { 200: Envelope(PackSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      const pack = await loadPack(ctx, zone.id, request.params.certificate_pack_id, view);
      return ok(wire(ctx, pack, await ctx.store.listAcmeChallenges(zone.id), view));
    },
  );

  app.patch(
    `${BASE}/:certificate_pack_id`,
    {
      schema: {
        tags,
        summary: 'Restart validation of a certificate pack',
        description: 'A pack whose validation or issuance failed is retried at once instead of after its backoff.',
        params: PackParams,
        body: Type.Object({ cloudflare_branding: Type.Optional(Type.Boolean()) }),
        response: { 200: Envelope(PackSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      let pack = await loadPack(ctx, zone.id, request.params.certificate_pack_id, view);
      if (request.body.cloudflare_branding === true) throw invalidOrder('cloudflare_branding is not available: the certificate names only your hosts', '/cloudflare_branding');
      if (pack.stage === 'validation_failed' || pack.stage === 'issuance_failed') pack = await ctx.store.updateCertificatePackOrder(pack.id, { nextAttemptAt: null });
      return ok(wire(ctx, pack, await ctx.store.listAcmeChallenges(zone.id), view));
    },
  );

  app.delete(
    `${BASE}/:certificate_pack_id`,
    {
      schema: {
        tags,
        summary: 'Delete an advanced certificate pack',
        description: 'Edges stop serving it once they apply the change. Universal packs follow the records and the Universal SSL setting.',
        params: PackParams,
        response: { 200: Envelope(Type.Object({ id: Type.String() })) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const id = request.params.certificate_pack_id;
      const pack = await loadPack(ctx, zone.id, id, await deploymentView(ctx));
      if (pack.type === 'universal') {
        throw new ApiError(API_ERRORS.universalPackNotDeletable, `Pack ${id} is universal: turn Universal SSL off (PATCH /zones/${zone.id}/ssl/universal/settings) or remove the record instead`);
      }
      await ctx.store.requestCertificatePackDeletion(zone.id, id);
      return ok({ id });
    },
  );

  app.get(
    '/zones/:zone_id/ssl/verification',
    {
      schema: {
        tags,
        summary: 'Validation state of the zone\'s certificate packs',
        params: ZoneParams,
        querystring: Type.Object({ retry: Type.Optional(Type.String()) }),
        response: { 200: Envelope(Type.Array(VerificationSchema)) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const [view, packs, challenges] = await Promise.all([
        deploymentView(ctx),
        ctx.store.listCertificatePacks(zone.id, { includeDeleted: false }),
        ctx.store.listAcmeChallenges(zone.id),
      ]);
      return ok(
        packs.map((pack) => {
          const status = packStatus(pack, view);
          const mine = challenges.filter((c) => c.packId === pack.id);
          return {
            certificate_status: verificationStatus(status),
            cert_pack_uuid: pack.id,
            ...(pack.certificate === null ? {} : { signature: pack.certificate.signature }),
            validation_method: pack.validationMethod,
            verification_status: pack.certificate !== null,
            verification_info: { record_name: 'http_url', record_target: 'http_body' },
            validation_records: pack.hosts.map((hostname) => {
              const c = mine.find((x) => x.hostname === hostname);
              const state = c ? c.status : pack.certificate !== null ? 'valid' : pack.stage === 'validation_failed' ? 'invalid' : 'pending';
              return { hostname, http_url: c ? challengeUrl(c) : '', http_body: c ? c.keyAuthorization : '', status: state };
            }),
            validation_errors: errorsOf(ctx, pack),
          };
        }),
      );
    },
  );
};
