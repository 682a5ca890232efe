// The edge registry: each edge node's heartbeat and the version it applied, and the deployed mark
// (the highest version every live edge was seen to apply). Single statements, no version bump:
// none of this is edge config.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { EdgeNode } from '../../domain/index.ts';
import type { EdgeReport } from '../store.ts';
import { compareText } from './compare-text.ts';
import { toEdge, type EdgeRow } from './rows.ts';
import type { SqlTx } from './sql-tx.ts';

export async function record(tx: SqlTx, report: EdgeReport): Promise<void> {
  const before = await tx.get<{ v: number | string }>('SELECT applied_version AS v FROM edges WHERE id = ?', [report.id]);
  await tx.run(
    `INSERT INTO edges (id, name, started_at, last_heartbeat, applied_version) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, started_at = excluded.started_at,
       last_heartbeat = excluded.last_heartbeat, applied_version = excluded.applied_version`,
    [report.id, report.name, report.startedAt, Date.now(), report.appliedVersion],
  );
  // Only a moved version is news to `?wait=active` waiters on other nodes; plain heartbeats stay quiet.
  if (!before || Number(before.v) !== report.appliedVersion) await tx.signal();
}

export async function list(tx: SqlTx): Promise<EdgeNode[]> {
  const rows = await tx.all<EdgeRow>('SELECT * FROM edges');
  return rows.map(toEdge).sort((a, b) => compareText(a.name, b.name) || compareText(a.id, b.id));
}

export function forget(tx: SqlTx, olderThanMs: number): Promise<number> {
  return tx.run('DELETE FROM edges WHERE last_heartbeat < ?', [Date.now() - olderThanMs]);
}

export async function raiseDeployedMark(tx: SqlTx, candidate: number): Promise<number> {
  const row = await tx.get<{ version: number | string }>('SELECT version FROM deployed_mark WHERE id = 1');
  const mark = row ? Number(row.version) : 0;
  if (candidate <= mark) return mark;
  // Conditional, so of two nodes raising at once the lower never overwrites the higher.
  await tx.run('UPDATE deployed_mark SET version = ? WHERE id = 1 AND version < ?', [candidate, candidate]);
  return candidate;
}
