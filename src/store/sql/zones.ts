// Zones and their settings. Creating, deleting and changing a zone's settings bump the config
// version with the zone's id, so edges reload that zone.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { Zone, ZoneEdgeSettingKey, ZoneEdgeSettings } from '../../domain/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { NewZone, ZoneSettingsPatch } from '../store.ts';
import { compareText } from './compare-text.ts';
import { hexId } from './ids.ts';
import { bool, toZone, EDGE_SETTING_COLUMNS, type ZoneRow } from './rows.ts';
import type { SqlTx, SqlValue } from './sql-tx.ts';

export async function create(tx: SqlTx, input: NewZone): Promise<Zone> {
  if (!(await tx.get('SELECT 1 AS x FROM accounts WHERE id = ?', [input.accountId]))) {
    throw new NotFoundError(`account ${input.accountId} not found`);
  }
  if (await tx.get('SELECT 1 AS x FROM zones WHERE name = ?', [input.name])) {
    throw new ConflictError(`zone ${input.name} already exists`);
  }
  const id = hexId();
  await tx.bump(id);
  const now = Date.now();
  const row = await tx.get<ZoneRow>(
    `INSERT INTO zones (id, account_id, name, created_on, modified_on, ssl_mode, ssl_modified_on,
       tls_client_auth, tls_client_auth_modified_on, aop_enabled, aop_modified_on)
     VALUES (?, ?, ?, ?, ?, 'full', ?, 'off', ?, 0, ?) RETURNING *`,
    [id, input.accountId, input.name, now, now, now, now, now],
  );
  return toZone(row!);
}

export async function list(tx: SqlTx, filter: { name?: string; ids?: string[] }): Promise<Zone[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.name !== undefined) {
    where.push('name = ?');
    params.push(filter.name);
  }
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) return [];
    where.push(`id IN (${placeholders(filter.ids.length)})`);
    params.push(...filter.ids);
  }
  const sql = 'SELECT * FROM zones' + (where.length ? ' WHERE ' + where.join(' AND ') : '');
  const rows = await tx.all<ZoneRow>(sql, params);
  return rows.map(toZone).sort((a, b) => compareText(a.name, b.name));
}

export async function get(tx: SqlTx, id: string): Promise<Zone | null> {
  const row = await tx.get<ZoneRow>('SELECT * FROM zones WHERE id = ?', [id]);
  return row ? toZone(row) : null;
}

export async function remove(tx: SqlTx, id: string): Promise<boolean> {
  // Records, certificates and associations go with it (ON DELETE CASCADE).
  const deleted = await tx.run('DELETE FROM zones WHERE id = ?', [id]);
  if (deleted === 0) return false;
  await tx.bump(id);
  return true;
}

export async function updateSettings(tx: SqlTx, id: string, patch: ZoneSettingsPatch, check?: (zone: Zone) => void): Promise<Zone> {
  const row = await tx.get<ZoneRow>('SELECT * FROM zones WHERE id = ?', [id]);
  if (!row) throw new NotFoundError(`zone ${id} not found`);
  const now = Date.now();
  const sets: string[] = [];
  const params: SqlValue[] = [];
  if (patch.sslMode !== undefined) {
    sets.push('ssl_mode = ?', 'ssl_modified_on = ?');
    params.push(patch.sslMode, now);
  }
  if (patch.tlsClientAuth !== undefined) {
    sets.push('tls_client_auth = ?', 'tls_client_auth_modified_on = ?');
    params.push(patch.tlsClientAuth, now);
  }
  if (patch.aopEnabled !== undefined) {
    sets.push('aop_enabled = ?', 'aop_modified_on = ?');
    params.push(bool(patch.aopEnabled), now);
  }
  if (patch.edge !== undefined) {
    for (const [key, value] of Object.entries(patch.edge) as [ZoneEdgeSettingKey, ZoneEdgeSettings[ZoneEdgeSettingKey]][]) {
      if (value === undefined) continue;
      const column = EDGE_SETTING_COLUMNS[key];
      sets.push(`${column} = ?`, `${column}_modified_on = ?`);
      params.push(typeof value === 'string' ? value : JSON.stringify(value), now);
    }
  }
  if (sets.length === 0) return toZone(row);
  await tx.bump(id);
  sets.push('modified_on = ?');
  params.push(now, id);
  const updated = toZone((await tx.get<ZoneRow>(`UPDATE zones SET ${sets.join(', ')} WHERE id = ? RETURNING *`, params))!);
  // Settings that must agree are checked on the row as committed, so two writes racing on
  // different settings cannot store a pair each alone would have refused.
  check?.(updated);
  return updated;
}

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}
