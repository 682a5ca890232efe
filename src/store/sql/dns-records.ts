// DNS records: the proxied host names and where they go. A record's name is unique across all
// zones (host names route uniquely); every write bumps the config version with the zone's id.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { DnsRecord } from '../../domain/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { DnsRecordFilter, DnsRecordPatch, NewDnsRecord } from '../store.ts';
import { compareText } from './compare-text.ts';
import { hexId } from './ids.ts';
import { bool, toDnsRecord, type DnsRecordRow } from './rows.ts';
import type { SqlTx, SqlValue } from './sql-tx.ts';

export async function create(tx: SqlTx, input: NewDnsRecord): Promise<DnsRecord> {
  if (!(await tx.get('SELECT 1 AS x FROM zones WHERE id = ?', [input.zoneId]))) {
    throw new NotFoundError(`zone ${input.zoneId} not found`);
  }
  await assertNameFree(tx, input.name, null);
  await tx.bump(input.zoneId);
  const now = Date.now();
  const row = await tx.get<DnsRecordRow>(
    `INSERT INTO dns_records (id, zone_id, name, type, content, proxied, ttl, origin_http_port, origin_https_port,
       origin_sni, origin_host_header, comment, created_on, modified_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    [
      hexId(),
      input.zoneId,
      input.name,
      input.type,
      input.content,
      bool(input.proxied),
      input.ttl,
      input.originHttpPort,
      input.originHttpsPort,
      input.originSni ?? null,
      input.originHostHeader ?? null,
      input.comment,
      now,
      now,
    ],
  );
  return toDnsRecord(row!);
}

export async function list(tx: SqlTx, zoneId: string, filter: DnsRecordFilter): Promise<DnsRecord[]> {
  let sql = 'SELECT * FROM dns_records WHERE zone_id = ?';
  const params: SqlValue[] = [zoneId];
  if (filter.name !== undefined) {
    sql += ' AND name = ?';
    params.push(filter.name);
  }
  if (filter.type !== undefined) {
    sql += ' AND type = ?';
    params.push(filter.type);
  }
  const rows = await tx.all<DnsRecordRow>(sql, params);
  return rows.map(toDnsRecord).sort((a, b) => compareText(a.name, b.name) || compareText(a.type, b.type));
}

export async function get(tx: SqlTx, zoneId: string, id: string): Promise<DnsRecord | null> {
  const row = await tx.get<DnsRecordRow>('SELECT * FROM dns_records WHERE zone_id = ? AND id = ?', [zoneId, id]);
  return row ? toDnsRecord(row) : null;
}

export async function update(tx: SqlTx, zoneId: string, id: string, patch: DnsRecordPatch): Promise<DnsRecord> {
  const row = await tx.get<DnsRecordRow>('SELECT * FROM dns_records WHERE zone_id = ? AND id = ?', [zoneId, id]);
  if (!row) throw new NotFoundError(`DNS record ${id} not found`);
  const next = { ...toDnsRecord(row), ...definedOnly(patch) };
  if (next.name !== row.name) await assertNameFree(tx, next.name, id);
  await tx.bump(zoneId);
  const updated = await tx.get<DnsRecordRow>(
    `UPDATE dns_records SET name = ?, type = ?, content = ?, proxied = ?, ttl = ?, origin_http_port = ?,
       origin_https_port = ?, origin_sni = ?, origin_host_header = ?, comment = ?, modified_on = ? WHERE id = ? RETURNING *`,
    [
      next.name,
      next.type,
      next.content,
      bool(next.proxied),
      next.ttl,
      next.originHttpPort,
      next.originHttpsPort,
      next.originSni,
      next.originHostHeader,
      next.comment,
      Date.now(),
      id,
    ],
  );
  return toDnsRecord(updated!);
}

export async function remove(tx: SqlTx, zoneId: string, id: string): Promise<DnsRecord | null> {
  const row = await tx.get<DnsRecordRow>('DELETE FROM dns_records WHERE zone_id = ? AND id = ? RETURNING *', [zoneId, id]);
  if (!row) return null;
  await tx.bump(zoneId);
  return toDnsRecord(row);
}

async function assertNameFree(tx: SqlTx, name: string, exceptId: string | null): Promise<void> {
  const other = await tx.get<{ id: string }>('SELECT id FROM dns_records WHERE name = ?', [name]);
  if (other && other.id !== exceptId) throw new ConflictError(`a DNS record named ${name} already exists`);
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
