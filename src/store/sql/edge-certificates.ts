// The custom edge certificate part of the shared SQL store. Every write runs in the caller's write
// transaction and bumps the config version with the zone's id, so edges reload that zone.
// Tested in test/api/custom-certificates.test.ts (the store contract has no part for them).
import type { BundleMethod, EdgeCertificate } from '../../domain/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { EdgeCertificatePatch, EdgeCertificatePriority, NewEdgeCertificate } from '../store.ts';
import { certificateId } from './ids.ts';
import type { SqlTx } from './sql-tx.ts';

type Num = number | string;

export interface EdgeCertificateRow {
  id: string;
  zone_id: string;
  certificate_pem: string;
  private_key_sealed: string;
  bundle_method: string;
  hosts: string;
  issuer: string;
  serial_number: string;
  signature: string;
  fingerprint_sha256: string;
  not_before: Num;
  expires_on: Num;
  uploaded_on: Num;
  modified_on: Num;
  priority: Num;
  deploy_version: Num;
  delete_version: Num | null;
  delete_requested_on: Num | null;
}

export function toEdgeCertificate(r: EdgeCertificateRow): EdgeCertificate {
  return {
    id: r.id,
    zoneId: r.zone_id,
    certificatePem: r.certificate_pem,
    privateKeySealed: r.private_key_sealed,
    bundleMethod: r.bundle_method as BundleMethod,
    hosts: JSON.parse(r.hosts) as string[],
    issuer: r.issuer,
    serialNumber: r.serial_number,
    signature: r.signature,
    fingerprintSha256: r.fingerprint_sha256,
    notBefore: Number(r.not_before),
    expiresOn: Number(r.expires_on),
    uploadedOn: Number(r.uploaded_on),
    modifiedOn: Number(r.modified_on),
    priority: Number(r.priority),
    deployVersion: Number(r.deploy_version),
    deleteVersion: r.delete_version === null ? null : Number(r.delete_version),
    deleteRequestedOn: r.delete_requested_on === null ? null : Number(r.delete_requested_on),
  };
}

/** The order lists come in: the one served first for a shared name first. */
export const EDGE_CERTIFICATE_ORDER = 'ORDER BY priority DESC, uploaded_on DESC, id';

async function assertZone(tx: SqlTx, zoneId: string): Promise<void> {
  if (!(await tx.get('SELECT 1 AS x FROM zones WHERE id = ?', [zoneId]))) throw new NotFoundError(`zone ${zoneId} not found`);
}

async function assertNoDuplicate(tx: SqlTx, zoneId: string, fingerprint: string, exceptId: string | null): Promise<void> {
  const duplicate = await tx.get<{ id: string }>(
    'SELECT id FROM edge_certificates WHERE zone_id = ? AND fingerprint_sha256 = ? AND delete_version IS NULL',
    [zoneId, fingerprint],
  );
  if (duplicate && duplicate.id !== exceptId) throw new ConflictError(`this certificate is already uploaded to the zone (id ${duplicate.id})`);
}

async function insertRow(tx: SqlTx, input: NewEdgeCertificate, priority: number, version: number, now: number): Promise<EdgeCertificate> {
  const row = await tx.get<EdgeCertificateRow>(
    `INSERT INTO edge_certificates (id, zone_id, certificate_pem, private_key_sealed, bundle_method, hosts, issuer, serial_number,
       signature, fingerprint_sha256, not_before, expires_on, uploaded_on, modified_on, priority, deploy_version, delete_version,
       delete_requested_on)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL) RETURNING *`,
    [
      certificateId(),
      input.zoneId,
      input.certificatePem,
      input.privateKeySealed,
      input.bundleMethod,
      JSON.stringify(input.hosts),
      input.issuer,
      input.serialNumber,
      input.signature,
      input.fingerprintSha256,
      input.notBefore,
      input.expiresOn,
      now,
      now,
      priority,
      version,
    ],
  );
  return toEdgeCertificate(row!);
}

export async function insert(tx: SqlTx, input: NewEdgeCertificate): Promise<EdgeCertificate> {
  await assertZone(tx, input.zoneId);
  await assertNoDuplicate(tx, input.zoneId, input.fingerprintSha256, null);
  const version = await tx.bump(input.zoneId);
  return insertRow(tx, input, input.priority ?? 0, version, Date.now());
}

export async function list(tx: SqlTx, zoneId: string, includeDeleted: boolean): Promise<EdgeCertificate[]> {
  const live = includeDeleted ? '' : ' AND delete_version IS NULL';
  const rows = await tx.all<EdgeCertificateRow>(`SELECT * FROM edge_certificates WHERE zone_id = ?${live} ${EDGE_CERTIFICATE_ORDER}`, [zoneId]);
  return rows.map(toEdgeCertificate);
}

export async function get(tx: SqlTx, zoneId: string, id: string): Promise<EdgeCertificate | null> {
  const row = await tx.get<EdgeCertificateRow>('SELECT * FROM edge_certificates WHERE zone_id = ? AND id = ?', [zoneId, id]);
  return row ? toEdgeCertificate(row) : null;
}

async function getLive(tx: SqlTx, zoneId: string, id: string): Promise<EdgeCertificate> {
  const cert = await get(tx, zoneId, id);
  if (!cert || cert.deleteVersion !== null) throw new NotFoundError(`custom certificate ${id} not found in this zone`);
  return cert;
}

/**
 * A new certificate or key replaces the row (a new id with the old one's priority, the old one
 * deleted, as Cloudflare does for sni_custom); a bundle method alone changes it in place.
 */
export async function update(tx: SqlTx, zoneId: string, id: string, patch: EdgeCertificatePatch): Promise<EdgeCertificate> {
  const current = await getLive(tx, zoneId, id);
  const now = Date.now();
  if (patch.replacement !== undefined) {
    await assertNoDuplicate(tx, zoneId, patch.replacement.fingerprintSha256, id);
    const version = await tx.bump(zoneId);
    await tx.run('UPDATE edge_certificates SET delete_version = ?, delete_requested_on = ? WHERE id = ?', [version, now, id]);
    const bundleMethod = patch.bundleMethod ?? current.bundleMethod;
    return insertRow(tx, { ...patch.replacement, zoneId, bundleMethod }, current.priority, version, now);
  }
  if (patch.bundleMethod === undefined || patch.bundleMethod === current.bundleMethod) return current;
  const version = await tx.bump(zoneId);
  const row = await tx.get<EdgeCertificateRow>(
    'UPDATE edge_certificates SET bundle_method = ?, modified_on = ?, deploy_version = ? WHERE id = ? RETURNING *',
    [patch.bundleMethod, now, version, id],
  );
  return toEdgeCertificate(row!);
}

export async function requestDeletion(tx: SqlTx, zoneId: string, id: string): Promise<EdgeCertificate | null> {
  const cert = await get(tx, zoneId, id);
  if (!cert) return null;
  if (cert.deleteVersion !== null) return cert;
  const version = await tx.bump(zoneId);
  const row = await tx.get<EdgeCertificateRow>('UPDATE edge_certificates SET delete_version = ?, delete_requested_on = ? WHERE id = ? RETURNING *', [
    version,
    Date.now(),
    id,
  ]);
  return toEdgeCertificate(row!);
}

/** Sets every listed priority in one version; an unknown or deleted id fails the whole batch. */
export async function prioritize(tx: SqlTx, zoneId: string, changes: readonly EdgeCertificatePriority[]): Promise<EdgeCertificate[]> {
  for (const change of changes) await getLive(tx, zoneId, change.id);
  if (changes.length > 0) {
    const version = await tx.bump(zoneId);
    const now = Date.now();
    for (const change of changes) {
      await tx.run('UPDATE edge_certificates SET priority = ?, modified_on = ?, deploy_version = ? WHERE id = ?', [change.priority, now, version, change.id]);
    }
  }
  return list(tx, zoneId, false);
}

export function purgeDeleted(tx: SqlTx, appliedByAllVersion: number): Promise<number> {
  return tx.run('DELETE FROM edge_certificates WHERE delete_version IS NOT NULL AND delete_version <= ?', [appliedByAllVersion]);
}
