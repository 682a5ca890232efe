// Upload, lookup and deletion shared by zone-level and per-hostname certificates.
// Tested in test/api/aop.test.ts and test/api/uploads.test.ts.
import { validateCertificateUpload, type CertKind, type DeploymentView, type StoredCertificate, type Zone } from '../domain/index.ts';
import { ConflictError, InUseError, LimitError } from '../store/index.ts';
import type { ApiContext } from './context.ts';
import type { V4Message } from './envelope.ts';
import { API_ERRORS, ApiError, badRequest } from './errors.ts';
import { certificateStatus } from './status.ts';
import type { CertUploadBody } from './schemas.ts';

/** Cloudflare: at most 10 hostname certificates per zone; zone-level has no documented limit. */
export const MAX_HOSTNAME_CERTS_PER_ZONE = 10;

const KIND_LABEL: Record<CertKind, string> = { zone: 'zone-level', hostname: 'hostname' };

/** Validates, seals the key and stores in one store transaction: a failure stores nothing. */
export async function uploadCertificate(
  ctx: ApiContext,
  zone: Zone,
  kind: CertKind,
  body: CertUploadBody,
): Promise<{ cert: StoredCertificate; messages: V4Message[] }> {
  const checked = validateCertificateUpload({ certificate: body.certificate, privateKey: body.private_key }, ctx.now());
  if (!checked.ok) throw badRequest(checked.error.code, checked.error.message, `/${checked.error.field}`);
  const v = checked.value;
  try {
    const cert = await ctx.store.insertCertificate(
      {
        zoneId: zone.id,
        kind,
        certificatePem: v.certificatePem,
        privateKeySealed: ctx.secretBox.seal(v.privateKeyPem),
        issuer: v.issuer,
        serialNumber: v.serialNumber,
        signature: v.signature,
        fingerprintSha256: v.fingerprintSha256,
        notBefore: v.notBefore,
        expiresOn: v.expiresOn,
      },
      kind === 'hostname' ? { maxPerZone: MAX_HOSTNAME_CERTS_PER_ZONE } : {},
    );
    return { cert, messages: v.warnings };
  } catch (err) {
    if (err instanceof ConflictError) {
      throw new ApiError(API_ERRORS.certificateExists, `This certificate (SHA-256 ${v.fingerprintSha256}) has already been uploaded as a ${KIND_LABEL[kind]} certificate of this zone`, { cause: err });
    }
    if (err instanceof LimitError) {
      throw new ApiError(API_ERRORS.certificateLimit, `A zone may hold at most ${MAX_HOSTNAME_CERTS_PER_ZONE} hostname certificates: delete one first`, { cause: err });
    }
    throw err;
  }
}

/** A certificate as the API shows it: unknown or fully deleted (every edge applied) is a 404. */
export async function loadCertificate(ctx: ApiContext, zoneId: string, kind: CertKind, id: string, view: DeploymentView): Promise<StoredCertificate> {
  const cert = await ctx.store.getCertificate(zoneId, kind, id);
  if (!cert || certificateStatus(cert, view) === 'deleted') {
    throw new ApiError(API_ERRORS.certificateNotFound, `No ${KIND_LABEL[kind]} certificate ${id} in this zone`);
  }
  return cert;
}

/** Listed certificates: newest first, fully deleted ones left out. */
export async function listVisibleCertificates(ctx: ApiContext, zoneId: string, kind: CertKind, view: DeploymentView): Promise<StoredCertificate[]> {
  const all = await ctx.store.listCertificates(zoneId, kind);
  return all.filter((c) => certificateStatus(c, view) !== 'deleted');
}

/** Requests deletion; the answer carries `pending_deletion` until every edge dropped it. */
export async function deleteCertificate(ctx: ApiContext, zone: Zone, kind: CertKind, id: string, view: DeploymentView): Promise<StoredCertificate> {
  await loadCertificate(ctx, zone.id, kind, id, view);
  try {
    const cert = await ctx.store.requestCertificateDeletion(zone.id, kind, id);
    if (!cert) throw new ApiError(API_ERRORS.certificateNotFound, `No ${KIND_LABEL[kind]} certificate ${id} in this zone`);
    return cert;
  } catch (err) {
    if (err instanceof InUseError) {
      throw new ApiError(
        API_ERRORS.certificateInUse,
        `Certificate ${id} is still associated with ${err.hostnames.join(', ')}: remove the associations first ` +
          `(PUT /zones/${zone.id}/origin_tls_client_auth/hostnames with {"config":[{"hostname":…,"cert_id":"${id}","enabled":null}]})`,
        { cause: err },
      );
    }
    throw err;
  }
}
