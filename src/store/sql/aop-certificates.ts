// Authenticated Origin Pulls certificates (the `certificates` table: zone-level and hostname
// client certificates the edge presents to origins). Uploads and deletion requests bump the
// config version with the zone's id; a deleted row stays, stamped, until every edge applied it.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { CertKind, StoredCertificate } from '../../domain/index.ts';
import { ConflictError, InUseError, LimitError, NotFoundError } from '../errors.ts';
import type { NewCertificate } from '../store.ts';
import { compareText } from './compare-text.ts';
import { certificateId } from './ids.ts';
import { toCertificate, type CertificateRow } from './rows.ts';
import type { SqlTx } from './sql-tx.ts';

export async function insert(tx: SqlTx, input: NewCertificate, maxPerZone: number | undefined): Promise<StoredCertificate> {
  if (!(await tx.get('SELECT 1 AS x FROM zones WHERE id = ?', [input.zoneId]))) {
    throw new NotFoundError(`zone ${input.zoneId} not found`);
  }
  const duplicate = await tx.get<{ id: string }>(
    'SELECT id FROM certificates WHERE zone_id = ? AND kind = ? AND fingerprint_sha256 = ? AND delete_version IS NULL',
    [input.zoneId, input.kind, input.fingerprintSha256],
  );
  if (duplicate) throw new ConflictError(`this certificate is already uploaded to the zone (id ${duplicate.id})`);
  if (maxPerZone !== undefined) {
    const row = await tx.get<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM certificates WHERE zone_id = ? AND kind = ? AND delete_version IS NULL',
      [input.zoneId, input.kind],
    );
    if (Number(row!.n) >= maxPerZone) {
      throw new LimitError(`the zone already has ${Number(row!.n)} ${input.kind} certificates; the limit is ${maxPerZone}`);
    }
  }
  const version = await tx.bump(input.zoneId);
  const row = await tx.get<CertificateRow>(
    `INSERT INTO certificates (id, zone_id, kind, certificate_pem, private_key_sealed, issuer, serial_number, signature,
       fingerprint_sha256, not_before, expires_on, uploaded_on, deploy_version, delete_version, delete_requested_on)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL) RETURNING *`,
    [
      certificateId(),
      input.zoneId,
      input.kind,
      input.certificatePem,
      input.privateKeySealed,
      input.issuer,
      input.serialNumber,
      input.signature,
      input.fingerprintSha256,
      input.notBefore,
      input.expiresOn,
      Date.now(),
      version,
    ],
  );
  return toCertificate(row!);
}

export async function list(tx: SqlTx, zoneId: string, kind: CertKind, includeDeleted: boolean): Promise<StoredCertificate[]> {
  const live = includeDeleted ? '' : ' AND delete_version IS NULL';
  const rows = await tx.all<CertificateRow>(
    `SELECT * FROM certificates WHERE zone_id = ? AND kind = ?${live} ORDER BY uploaded_on DESC, deploy_version DESC`,
    [zoneId, kind],
  );
  return rows.map(toCertificate);
}

export async function get(tx: SqlTx, zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null> {
  const row = await getRow(tx, zoneId, kind, id);
  return row ? toCertificate(row) : null;
}

export async function requestDeletion(tx: SqlTx, zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null> {
  const row = await getRow(tx, zoneId, kind, id);
  if (!row) return null;
  if (row.delete_version !== null) return toCertificate(row);
  if (kind === 'hostname') {
    const inUse = await tx.all<{ hostname: string }>(
      'SELECT hostname FROM associations WHERE cert_id = ? AND enabled = 1',
      [id],
    );
    if (inUse.length > 0) {
      const hostnames = inUse.map((r) => r.hostname).sort(compareText);
      throw new InUseError(`certificate ${id} is still associated with ${hostnames.join(', ')}`, hostnames);
    }
  }
  const version = await tx.bump(zoneId);
  await tx.run('DELETE FROM associations WHERE cert_id = ?', [id]);
  const updated = await tx.get<CertificateRow>(
    'UPDATE certificates SET delete_version = ?, delete_requested_on = ? WHERE id = ? RETURNING *',
    [version, Date.now(), id],
  );
  return toCertificate(updated!);
}

export function purgeDeleted(tx: SqlTx, appliedByAllVersion: number): Promise<number> {
  return tx.run('DELETE FROM certificates WHERE delete_version IS NOT NULL AND delete_version <= ?', [appliedByAllVersion]);
}

function getRow(tx: SqlTx, zoneId: string, kind: CertKind, id: string): Promise<CertificateRow | undefined> {
  return tx.get<CertificateRow>('SELECT * FROM certificates WHERE zone_id = ? AND kind = ? AND id = ?', [zoneId, kind, id]);
}
