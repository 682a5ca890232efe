// `GET /zones/{z}/origin_tls_client_auth/effective/{hostname}` (ours, beyond Cloudflare): which AOP
// level wins for a hostname and why, computed by the same domain function the edge's snapshot uses,
// and which live edges already present it (per-node applied versions from the edge registry).
// Tested in test/api/aop.test.ts and test/regressions/nested-zones.test.ts.
import { X509Certificate } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  decimalSerial,
  hexFingerprint,
  issuerName,
  resolveAop,
  selectZoneCertificate,
  signatureName,
  wildcardFor,
  type AopChoice,
  type Zone,
} from '../domain/index.ts';
import { Envelope, ok } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { assertOwnedByZone, hostnameInZone, loadZone } from './lookups.ts';
import { EffectiveSchema, ZoneHostnameParams } from './schemas.ts';
import { certificateStatus, deploymentView } from './status.ts';
import { iso } from './wire.ts';

function explain(choice: AopChoice, zone: Zone, hostname: string): string {
  const base = explainLevel(choice, zone, hostname);
  const later = choice.deferred;
  if (!later) return base;
  const when = iso(later.notBefore);
  return choice.reason === 'hostname_certificate_not_yet_valid'
    ? base
    : `${base}. Certificate ${later.id}, uploaded later, is not valid until ${when} (origins would refuse it): the edges present it from then on`;
}

function explainLevel(choice: AopChoice, zone: Zone, hostname: string): string {
  switch (choice.reason) {
    case 'ssl_mode_below_full':
      return `The zone's SSL mode is "${zone.sslMode}": the edge reaches origins over plain HTTP, so no client certificate is presented (AOP needs full or strict)`;
    case 'hostname_association_enabled':
      return `Hostname certificate ${choice.certificate?.id} is associated with ${hostname} and enabled`;
    case 'hostname_certificate_not_yet_valid': {
      const below = choice.certificate ? `zone certificate ${choice.certificate.id}` : choice.level === 'global' ? 'the installation certificate' : 'no client certificate';
      return `Hostname certificate ${choice.deferred?.id} is associated with ${hostname} but not valid until ${iso(choice.deferred?.notBefore ?? 0)}: until then the edges present ${below}`;
    }
    case 'hostname_association_disabled':
      return choice.level === 'global'
        ? `The association of ${hostname} is disabled, which suppresses zone-level AOP; global AOP (tls_client_auth on) still presents the installation certificate`
        : `The association of ${hostname} is disabled (enabled: false), so no client certificate is presented`;
    case 'zone_level_enabled':
      return choice.deferred
        ? `Zone-level AOP is enabled and certificate ${choice.certificate?.id} is the zone's newest certificate that is valid already`
        : `Zone-level AOP is enabled and certificate ${choice.certificate?.id} is the zone's newest certificate`;
    case 'zone_level_enabled_no_certificate':
      return 'Zone-level AOP is enabled but no zone certificate has been uploaded, so the installation certificate is presented';
    case 'global_tls_client_auth_on':
      return "Global AOP (tls_client_auth on) presents the installation's certificate";
    case 'no_aop_enabled':
      return 'No AOP level is enabled for this hostname: no client certificate is presented';
  }
}

export const aopEffectiveRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.get(
    '/zones/:zone_id/origin_tls_client_auth/effective/:hostname',
    {
      schema: {
        tags: ['originpull extensions'],
        summary: 'Which client certificate the edge presents for a hostname, and why',
        description: 'Precedence: hostname > zone > global > none; nothing below SSL mode full.',
        params: ZoneHostnameParams,
        response: { 200: Envelope(EffectiveSchema) },
      },
    },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      const hostname = hostnameInZone(request.params.hostname, zone, '/hostname');
      await assertOwnedByZone(ctx, hostname, zone, '/hostname');
      const [association, hostnameCerts, zoneCerts, view] = await Promise.all([
        ctx.store.getAssociation(zone.id, hostname),
        ctx.store.listCertificates(zone.id, 'hostname', { includeDeleted: false }),
        ctx.store.listCertificates(zone.id, 'zone', { includeDeleted: false }),
        deploymentView(ctx),
      ]);
      const selected = selectZoneCertificate(zoneCerts, view.now);
      const choice = resolveAop({
        zone,
        association: association ?? undefined,
        hostnameCertsById: new Map(hostnameCerts.map((c) => [c.id, c])),
        zoneCertificate: selected.certificate,
        zoneCertificateDeferred: selected.deferred,
        now: view.now,
      });

      let certificate = null;
      if (choice.certificate) {
        const c = choice.certificate;
        certificate = {
          id: c.id,
          fingerprint_sha256: c.fingerprintSha256,
          expires_on: iso(c.expiresOn),
          status: certificateStatus(c, view),
          issuer: c.issuer,
          serial_number: c.serialNumber,
          signature: c.signature,
        };
      } else if (choice.level === 'global') {
        const pki = await ctx.store.getPki();
        if (!pki) throw new ApiError(API_ERRORS.pkiMissing);
        const x = new X509Certificate(pki.globalCertPem);
        certificate = {
          id: 'global',
          fingerprint_sha256: hexFingerprint(x.fingerprint256),
          expires_on: iso(x.validToDate.getTime()),
          // The installation certificate exists on every edge from its first snapshot.
          status: 'active' as const,
          issuer: issuerName(x.issuer),
          serial_number: decimalSerial(x.serialNumber),
          signature: signatureName(x.signatureAlgorithmOid),
        };
      }

      // The version this answer depends on: the certificate's upload and, when the association
      // decided the level, its last change. Zone settings carry no version of their own.
      const byAssociation = choice.reason.startsWith('hostname_association') && association ? association.version : 0;
      const requiredVersion = Math.max(choice.certificate?.deployVersion ?? 0, byAssociation);
      const deployment = {
        required_version: requiredVersion,
        edges: view.liveEdges.map((e) => ({
          id: e.id,
          name: e.name,
          applied_version: e.appliedVersion,
          last_heartbeat: iso(e.lastHeartbeat),
          applied: e.appliedVersion >= requiredVersion,
        })),
      };

      const wildcard = wildcardFor(hostname);
      const records = await ctx.store.listDnsRecords(zone.id, { name: hostname });
      const wildRecords = records.length === 0 && wildcard ? await ctx.store.listDnsRecords(zone.id, { name: wildcard }) : [];
      const proxied = [...records, ...wildRecords].some((r) => r.proxied);

      return ok({
        hostname,
        zone_id: zone.id,
        ssl_mode: zone.sslMode,
        level: choice.level,
        reason: choice.reason,
        explanation: explain(choice, zone, hostname),
        proxied,
        association: association ? { cert_id: association.certId, enabled: association.enabled } : null,
        certificate,
        deployment,
        ...(choice.deferred
          ? {
              deferred: {
                id: choice.deferred.id,
                fingerprint_sha256: choice.deferred.fingerprintSha256,
                not_before: iso(choice.deferred.notBefore),
                reason: 'not_yet_valid' as const,
              },
            }
          : {}),
      });
    },
  );
};
