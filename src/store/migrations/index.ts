// The one migration history both stores apply: numbered SQL files in this folder
// (NNNN-name.sql), written in the subset of SQL that SQLite and PostgreSQL both accept.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Tracks applied migrations; created before the first migration runs. */
export const MIGRATIONS_TABLE_SQL =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_on BIGINT NOT NULL)';

let cached: readonly Migration[] | undefined;

export function loadMigrations(): readonly Migration[] {
  if (cached) return cached;
  const dir = import.meta.dirname;
  const list: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^(\d{4})-([a-z0-9-]+)\.sql$/.exec(file);
    if (!m) continue;
    list.push({ version: Number(m[1]), name: m[2], sql: readFileSync(join(dir, file), 'utf8') });
  }
  list.sort((a, b) => a.version - b.version);
  list.forEach((m, i) => {
    // A duplicate number means a bad merge; refuse rather than guess the order. A gap is a number
    // reserved for a branch not merged yet: stores apply each migration they have not recorded,
    // so one that lands later still runs once.
    if (i > 0 && m.version === list[i - 1].version) throw new Error(`migrations: two files numbered ${m.version} (${list[i - 1].name}, ${m.name})`);
  });
  cached = Object.freeze(list);
  return cached;
}
