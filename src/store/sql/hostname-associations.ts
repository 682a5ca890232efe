// Hostname associations: which hostname AOP certificate the edge presents for a host name. A batch
// is applied whole in the caller's write transaction, each change bumping the zone's version.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { HostnameAssociation } from '../../domain/index.ts';
import { LimitError, NotFoundError } from '../errors.ts';
import type { AssociationChange, AssociationLimits } from '../store.ts';
import { compareText } from './compare-text.ts';
import { bool, toAssociation, type AssociationRow } from './rows.ts';
import type { SqlTx } from './sql-tx.ts';

export async function apply(
  tx: SqlTx,
  zoneId: string,
  changes: AssociationChange[],
  limits: AssociationLimits,
): Promise<(HostnameAssociation | null)[]> {
  const results: (HostnameAssociation | null)[] = [];
  const grown = new Set<string>();
  const now = Date.now();
  for (const change of changes) {
    const cert = await tx.get(
      "SELECT 1 AS x FROM certificates WHERE id = ? AND zone_id = ? AND kind = 'hostname' AND delete_version IS NULL",
      [change.certId, zoneId],
    );
    if (!cert) throw new NotFoundError(`hostname certificate ${change.certId} not found in this zone`);
    if (change.enabled === null) {
      // Removal invalidates the hostname's association, whichever certificate it points at.
      const removed = await tx.get<AssociationRow>('DELETE FROM associations WHERE zone_id = ? AND hostname = ? RETURNING *', [
        zoneId,
        change.hostname,
      ]);
      if (removed) await tx.bump(zoneId);
      results.push(removed ? toAssociation(removed) : null);
      continue;
    }
    const version = await tx.bump(zoneId);
    const row = await tx.get<AssociationRow>(
      `INSERT INTO associations (zone_id, hostname, cert_id, enabled, created_at, updated_at, version)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (zone_id, hostname) DO UPDATE SET cert_id = excluded.cert_id, enabled = excluded.enabled,
         updated_at = excluded.updated_at, version = excluded.version
       RETURNING *`,
      [zoneId, change.hostname, change.certId, bool(change.enabled), now, now, version],
    );
    results.push(toAssociation(row!));
    grown.add(change.certId);
  }
  // Checked once the batch is applied, so a batch that moves hostnames between certificates
  // is judged by its result; a throw rolls the whole batch back.
  for (const certId of grown) {
    const row = await tx.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM associations WHERE cert_id = ?', [certId]);
    const n = Number(row!.n);
    if (n > limits.maxPerCertificate) {
      throw new LimitError(`certificate ${certId} would have ${n} associations; the limit is ${limits.maxPerCertificate}`);
    }
  }
  return results;
}

export async function get(tx: SqlTx, zoneId: string, hostname: string): Promise<HostnameAssociation | null> {
  const row = await tx.get<AssociationRow>('SELECT * FROM associations WHERE zone_id = ? AND hostname = ?', [zoneId, hostname]);
  return row ? toAssociation(row) : null;
}

export async function list(tx: SqlTx, zoneId: string): Promise<HostnameAssociation[]> {
  const rows = await tx.all<AssociationRow>('SELECT * FROM associations WHERE zone_id = ?', [zoneId]);
  return rows.map(toAssociation).sort((a, b) => compareText(a.hostname, b.hostname));
}
