// Custom edge certificates, Cloudflare's `/zones/{z}/custom_certificates` (upload, list, get, edit,
// delete, prioritize), and the originpull extension `/zones/{z}/edge_certificates/effective/{hostname}`
// saying which certificate visitors get for a host name and why. Uploads are validated like AOP
// uploads plus the visitor rules (domain/edge-cert-validate.ts), the key sealed before the store
// sees it, and nothing is stored on any failure. `status` is Cloudflare's (pending → active once
// every live edge applied it); `deployment_status` (ours) is the full derived status.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import {
  BUNDLE_METHODS,
  acmePackFor,
  deriveStatus,
  edgeCertificateCandidates,
  validateEdgeCertificateUpload,
  packStatus,
  type CertificatePack,
  type DeploymentView,
  type EdgeCertificate,
  type Zone,
} from '../domain/index.ts';
import { ConflictError, NotFoundError } from '../store/index.ts';
import type { ApiContext } from './context.ts';
import { Envelope, ListEnvelope, PageQuery, ok, okList, okPage } from './envelope.ts';
import { API_ERRORS, ApiError, badRequest } from './errors.ts';
import { hostnameInZone, loadZone } from './lookups.ts';
import { CertStatusSchema, LaggingEdgesSchema, WaitQuery, ZoneHostnameParams, ZoneParams } from './schemas.ts';
import { deploymentView, isPending, type Deployment } from './status.ts';
import { iso, laggingEdgesWire } from './wire.ts';
import { waitUntilSettled } from './wait-active.ts';

const tags = ['Custom edge certificates'];
const BASE = '/zones/:zone_id/custom_certificates';
/** Code of the one refusal the schema cannot say clearly. */
const LEGACY_CUSTOM_CODE = 1244;

const BundleMethod = Type.Union(BUNDLE_METHODS.map((m) => Type.Literal(m)), {
  description: 'Accepted and shown; the edge serves the chain as uploaded for every method',
});
const CertType = Type.Union([Type.Literal('sni_custom'), Type.Literal('legacy_custom')]);

const UploadBody = Type.Object({
  certificate: Type.String({ description: 'PEM: the leaf server certificate, then its intermediates in order' }),
  private_key: Type.String({ description: 'PEM private key (PKCS#1, PKCS#8 or SEC1), not encrypted' }),
  bundle_method: Type.Optional(BundleMethod),
  type: Type.Optional(CertType),
});
const EditBody = Type.Object({
  certificate: Type.Optional(Type.String()),
  private_key: Type.Optional(Type.String()),
  bundle_method: Type.Optional(BundleMethod),
});
const PrioritizeBody = Type.Object({
  certificates: Type.Array(Type.Object({ id: Type.String(), priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }) }), { maxItems: 1000 }),
});
const CertParams = Type.Object({ zone_id: Type.String(), custom_certificate_id: Type.String() });
const ListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Type.Union(['active', 'expired', 'deleted', 'pending', 'initializing'].map((s) => Type.Literal(s)))),
  match: Type.Optional(Type.Union([Type.Literal('any'), Type.Literal('all')])),
});

const CfStatus = Type.Union(['active', 'expired', 'deleted', 'pending', 'initializing'].map((s) => Type.Literal(s)));
export const CustomCertificateSchema = Type.Object({
  id: Type.String(),
  zone_id: Type.String(),
  type: Type.Literal('sni_custom'),
  bundle_method: BundleMethod,
  hosts: Type.Array(Type.String(), { description: "The leaf's DNS names (only those of the zone are served)" }),
  issuer: Type.String(),
  signature: Type.String(),
  serial_number: Type.String(),
  expires_on: Type.String({ format: 'date-time' }),
  uploaded_on: Type.String({ format: 'date-time' }),
  modified_on: Type.String({ format: 'date-time' }),
  priority: Type.Integer({ description: 'Among certificates covering the same name the higher priority is served (ties: newest upload)' }),
  status: CfStatus,
  certificate: Type.String({ description: 'originpull extension: the PEM served, leaf then chain' }),
  fingerprint_sha256: Type.String({ description: 'originpull extension: SHA-256 of the leaf, hex' }),
  deployment_status: Type.Optional(CertStatusSchema),
  lagging_edges: Type.Optional(LaggingEdgesSchema),
  no_live_edge: Type.Optional(Type.Literal(true)),
});

const EffectiveQuery = Type.Object({
  without: Type.Optional(
    Type.String({ maxLength: 64, description: 'originpull extension: answer as if this certificate were deleted (what the hostname gets instead)' }),
  ),
});

export const EdgeCertEffectiveSchema = Type.Object({
  hostname: Type.String(),
  zone_id: Type.String(),
  source: Type.Union([Type.Literal('custom'), Type.Literal('acme'), Type.Literal('edge_ca_fallback'), Type.Literal('none')]),
  reason: Type.String(),
  explanation: Type.String(),
  proxied: Type.Boolean(),
  certificate: Type.Union([Type.Null(), Type.Object({ id: Type.String(), match: Type.String(), san: Type.String(), priority: Type.Integer(), status: CfStatus, expires_on: Type.String(), fingerprint_sha256: Type.String() })]),
  candidates: Type.Array(Type.Object({ id: Type.String(), match: Type.String(), san: Type.String(), priority: Type.Integer() })),
  deployment: Type.Object({
    required_version: Type.Integer(),
    edges: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), applied_version: Type.Integer(), applied: Type.Boolean() })),
  }),
});

function deploymentOf(cert: EdgeCertificate, view: DeploymentView): Deployment {
  const { status, laggingEdges, noLiveEdge } = deriveStatus(
    { deployVersion: cert.deployVersion, createdOn: cert.modifiedOn, deleteVersion: cert.deleteVersion, deleteRequestedOn: cert.deleteRequestedOn },
    view,
  );
  const ids = new Set(laggingEdges);
  return { status, lagging: view.liveEdges.filter((e) => ids.has(e.id)), noLiveEdge };
}

type CfStatusValue = Static<typeof CfStatus>;

/** A certificate pack's certificate in the custom certificates' five statuses. */
function acmeStatus(pack: CertificatePack, view: DeploymentView): CfStatusValue {
  const status = packStatus(pack, view);
  return status === 'active' || status === 'expired' ? status : 'pending';
}

/** Cloudflare's five statuses from the derived one: expiry wins once deployed. */
function cfStatus(cert: EdgeCertificate, deployment: Deployment, now: number): CfStatusValue {
  switch (deployment.status) {
    case 'active':
      return cert.expiresOn <= now ? 'expired' : 'active';
    case 'pending_deletion':
    case 'deletion_timed_out':
    case 'deleted':
      return 'deleted';
    case 'initializing':
      return 'initializing';
    default:
      return 'pending';
  }
}

function wire(cert: EdgeCertificate, view: DeploymentView) {
  const deployment = deploymentOf(cert, view);
  return {
    id: cert.id,
    zone_id: cert.zoneId,
    type: 'sni_custom' as const,
    bundle_method: cert.bundleMethod,
    hosts: cert.hosts,
    issuer: cert.issuer,
    signature: cert.signature,
    serial_number: cert.serialNumber,
    expires_on: iso(cert.expiresOn),
    uploaded_on: iso(cert.uploadedOn),
    modified_on: iso(cert.modifiedOn),
    priority: cert.priority,
    status: cfStatus(cert, deployment, view.now),
    certificate: cert.certificatePem,
    fingerprint_sha256: cert.fingerprintSha256,
    deployment_status: deployment.status,
    ...laggingEdgesWire(deployment),
  };
}

function validated(ctx: ApiContext, zone: Zone, certificate: string, privateKey: string) {
  const checked = validateEdgeCertificateUpload({ certificate, privateKey }, zone.name, ctx.now());
  if (!checked.ok) throw badRequest(checked.error.code, checked.error.message, `/${checked.error.field}`);
  const v = checked.value;
  return {
    material: {
      certificatePem: v.certificatePem,
      privateKeySealed: ctx.secretBox.seal(v.privateKeyPem),
      hosts: v.hosts,
      issuer: v.issuer,
      serialNumber: v.serialNumber,
      signature: v.signature,
      fingerprintSha256: v.fingerprintSha256,
      notBefore: v.notBefore,
      expiresOn: v.expiresOn,
    },
    messages: v.warnings,
  };
}

function storeError(err: unknown): never {
  if (err instanceof ConflictError) throw new ApiError(API_ERRORS.certificateExists, `This certificate has already been uploaded to this zone: ${err.message}`, { cause: err });
  if (err instanceof NotFoundError) throw new ApiError(API_ERRORS.certificateNotFound, `No such custom certificate: ${err.message}`, { cause: err });
  throw err;
}

/** Unknown, or deleted on every edge: 404. */
async function loadLive(ctx: ApiContext, zoneId: string, id: string, view: DeploymentView): Promise<EdgeCertificate> {
  const cert = await ctx.store.getEdgeCertificate(zoneId, id);
  if (!cert || deploymentOf(cert, view).status === 'deleted') throw new ApiError(API_ERRORS.certificateNotFound, `No custom certificate ${id} in this zone`);
  return cert;
}

async function waitFor(ctx: ApiContext, zoneId: string, id: string): Promise<void> {
  await waitUntilSettled(ctx, async (view) => {
    const now = await ctx.store.getEdgeCertificate(zoneId, id);
    return !now || !isPending(deploymentOf(now, view).status);
  });
}

export const customCertificateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.post(
    BASE,
    {
      schema: {
        tags,
        summary: 'Upload a custom edge certificate',
        description: 'Served to visitors for the DNS names of its subjectAltName within the zone. `?wait=active` waits for the edges.',
        params: ZoneParams,
        querystring: WaitQuery,
        body: UploadBody,
        response: { 200: Envelope(CustomCertificateSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const body = request.body;
      if (body.type === 'legacy_custom') {
        throw badRequest(LEGACY_CUSTOM_CODE, 'type legacy_custom (for clients that send no SNI) is not supported: use sni_custom', '/type');
      }
      const { material, messages } = validated(ctx, zone, body.certificate, body.private_key);
      let cert: EdgeCertificate;
      try {
        cert = await ctx.store.insertEdgeCertificate({ ...material, zoneId: zone.id, bundleMethod: body.bundle_method ?? 'ubiquitous' });
      } catch (err) {
        storeError(err);
      }
      if (request.query.wait === 'active') await waitFor(ctx, zone.id, cert.id);
      return ok(wire((await ctx.store.getEdgeCertificate(zone.id, cert.id)) ?? cert, await deploymentView(ctx)), messages);
    },
  );

  app.get(
    BASE,
    { schema: { tags, summary: 'List custom edge certificates', params: ZoneParams, querystring: ListQuery, response: { 200: ListEnvelope(CustomCertificateSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      const all = (await ctx.store.listEdgeCertificates(zone.id)).map((c) => wire(c, view)).filter((c) => c.deployment_status !== 'deleted');
      const wanted = request.query.status;
      return okPage(wanted ? all.filter((c) => c.status === wanted) : all, request.query, { perPage: 20, maxPerPage: 1000 });
    },
  );

  app.put(
    `${BASE}/prioritize`,
    {
      schema: {
        tags,
        summary: 'Set the priorities of custom edge certificates',
        description: 'All in one change; an unknown id changes nothing. Answers the zone\'s certificates.',
        params: ZoneParams,
        querystring: WaitQuery,
        body: PrioritizeBody,
        response: { 200: ListEnvelope(CustomCertificateSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const changes = request.body.certificates;
      try {
        await ctx.store.prioritizeEdgeCertificates(zone.id, changes);
      } catch (err) {
        storeError(err);
      }
      if (request.query.wait === 'active') for (const c of changes) await waitFor(ctx, zone.id, c.id);
      const view = await deploymentView(ctx);
      return okList((await ctx.store.listEdgeCertificates(zone.id, { includeDeleted: false })).map((c) => wire(c, view)));
    },
  );

  app.get(
    `${BASE}/:custom_certificate_id`,
    { schema: { tags, summary: 'Get a custom edge certificate', params: CertParams, response: { 200: Envelope(CustomCertificateSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const view = await deploymentView(ctx);
      return ok(wire(await loadLive(ctx, zone.id, request.params.custom_certificate_id, view), view));
    },
  );

  app.patch(
    `${BASE}/:custom_certificate_id`,
    {
      schema: {
        tags,
        summary: 'Replace the certificate and key, or change the bundle method',
        description: 'A new certificate (with its key) gets a new id and the old one is deleted, as Cloudflare does for sni_custom.',
        params: CertParams,
        querystring: WaitQuery,
        body: EditBody,
        response: { 200: Envelope(CustomCertificateSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const id = request.params.custom_certificate_id;
      await loadLive(ctx, zone.id, id, await deploymentView(ctx));
      const body = request.body;
      if ((body.certificate === undefined) !== (body.private_key === undefined)) {
        const missing = body.certificate === undefined ? 'certificate' : 'private_key';
        throw badRequest(API_ERRORS.invalidRequest.code, `${missing} is required with ${missing === 'certificate' ? 'private_key' : 'certificate'}: a replacement needs both`, `/${missing}`);
      }
      const replacement = body.certificate !== undefined ? validated(ctx, zone, body.certificate, body.private_key!) : null;
      let cert: EdgeCertificate;
      try {
        cert = await ctx.store.updateEdgeCertificate(zone.id, id, { bundleMethod: body.bundle_method, replacement: replacement?.material });
      } catch (err) {
        storeError(err);
      }
      if (request.query.wait === 'active') await waitFor(ctx, zone.id, cert.id);
      return ok(wire((await ctx.store.getEdgeCertificate(zone.id, cert.id)) ?? cert, await deploymentView(ctx)), replacement?.messages ?? []);
    },
  );

  app.delete(
    `${BASE}/:custom_certificate_id`,
    {
      schema: {
        tags,
        summary: 'Delete a custom edge certificate',
        description: 'Edges stop serving it once they apply the change; GET shows `deployment_status: pending_deletion` until then, then 404.',
        params: CertParams,
        response: { 200: Envelope(Type.Object({ id: Type.String() })) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const id = request.params.custom_certificate_id;
      await loadLive(ctx, zone.id, id, await deploymentView(ctx));
      const cert = await ctx.store.requestEdgeCertificateDeletion(zone.id, id);
      if (!cert) throw new ApiError(API_ERRORS.certificateNotFound, `No custom certificate ${id} in this zone`);
      return ok({ id: cert.id });
    },
  );

  app.get(
    '/zones/:zone_id/edge_certificates/effective/:hostname',
    {
      schema: {
        tags: ['originpull extensions'],
        summary: 'Which certificate visitors get for a hostname, and why',
        description: 'Custom certificate by exact SAN, then by wildcard SAN (higher priority, then newest, first); else the edge-CA fallback if enabled; else none (unrecognized_name). `?without={id}` answers as if that certificate were deleted.',
        params: ZoneHostnameParams,
        querystring: EffectiveQuery,
        response: { 200: Envelope(EdgeCertEffectiveSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const hostname = hostnameInZone(request.params.hostname, zone, '/hostname');
      const [stored, view, packs] = await Promise.all([
        ctx.store.listEdgeCertificates(zone.id, { includeDeleted: false }),
        deploymentView(ctx),
        ctx.store.listCertificatePacks(zone.id, { includeDeleted: false }),
      ]);
      const without = request.query.without;
      const certs = without === undefined ? stored : stored.filter((c) => c.id !== without);
      const candidates = edgeCertificateCandidates(hostname, certs, zone.name, view.now);
      const acme = candidates.length === 0 ? acmePackFor(hostname, packs, view.now) : null;
      const dot = hostname.indexOf('.');
      const records = await ctx.store.listDnsRecords(zone.id, { name: hostname });
      const wild = records.length === 0 && dot > 0 ? await ctx.store.listDnsRecords(zone.id, { name: '*' + hostname.slice(dot) }) : [];
      const proxied = [...records, ...wild].some((r) => r.proxied);
      const winner = candidates[0];
      let source: 'custom' | 'acme' | 'edge_ca_fallback' | 'none';
      let reason: string;
      let explanation: string;
      if (winner) {
        source = 'custom';
        reason = winner.match === 'exact' ? 'custom_exact_san' : 'custom_wildcard_san';
        explanation = `Custom certificate ${winner.certificate.id} names ${winner.san} (priority ${winner.certificate.priority})` + (candidates.length > 1 ? `, ahead of ${candidates.length - 1} other covering certificate(s)` : '');
      } else if (acme !== null) {
        source = 'acme';
        reason = `acme_${acme.type}`;
        explanation = `No custom certificate covers this hostname; the ${acme.type} certificate pack ${acme.id} (ACME) does`;
      } else if (ctx.config.edgeCaFallback && proxied) {
        source = 'edge_ca_fallback';
        reason = 'edge_ca_fallback';
        explanation = "No custom certificate covers this hostname; the edge serves one from the installation's edge CA (edge CA fallback is on), which browsers trust only if they trust that CA";
      } else {
        source = 'none';
        reason = proxied ? 'no_certificate_fallback_off' : 'not_proxied';
        explanation = proxied
          ? 'No custom certificate covers this hostname and the edge CA fallback is off: visitors get a TLS unrecognized_name alert'
          : 'No custom certificate covers this hostname and no proxied record routes it: visitors get a TLS unrecognized_name alert';
      }
      const requiredVersion = winner ? winner.certificate.deployVersion : (acme?.certificate!.deployVersion ?? 0);
      return ok({
        hostname,
        zone_id: zone.id,
        source,
        reason,
        explanation,
        proxied,
        certificate: winner
          ? {
              id: winner.certificate.id,
              match: winner.match,
              san: winner.san,
              priority: winner.certificate.priority,
              status: cfStatus(winner.certificate, deploymentOf(winner.certificate, view), view.now),
              expires_on: iso(winner.certificate.expiresOn),
              fingerprint_sha256: winner.certificate.fingerprintSha256,
            }
          : acme !== null
            ? {
                id: acme.id,
                match: 'exact',
                san: hostname,
                priority: 0,
                status: acmeStatus(acme, view),
                expires_on: iso(acme.certificate!.expiresOn),
                fingerprint_sha256: acme.certificate!.fingerprintSha256,
              }
            : null,
        candidates: candidates.map((c) => ({ id: c.certificate.id, match: c.match, san: c.san, priority: c.certificate.priority })),
        deployment: {
          required_version: requiredVersion,
          edges: view.liveEdges.map((e) => ({ id: e.id, name: e.name, applied_version: e.appliedVersion, applied: e.appliedVersion >= requiredVersion })),
        },
      });
    },
  );
};
