// Opens the store a URL names: `sqlite:/path/file.db` (the embedded default) or
// `postgres://…` (`?schema=name` confines it to one schema). Opening never touches
// PostgreSQL, so an edge can start while the database is down; call migrate() to set up.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (`?schema=`).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { PostgresTimeouts } from './postgres/postgres-url.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Change-feed polling: SQLite version-row poll (default 30 ms), PostgreSQL safety-net check (default 1000 ms). */
  pollIntervalMs?: number;
  /** PostgreSQL round-trip and statement timeouts (defaults in postgres-url.ts). */
  timeouts?: PostgresTimeouts;
}

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const file = sqliteFile(url);
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    return new SqliteStore(file, { pollIntervalMs: opts.pollIntervalMs });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // Loaded only when named: `pg` is megabytes of RSS an embedded installation does not need.
    const { PostgresStore } = await import('./postgres/postgres-store.ts');
    return new PostgresStore(url, { checkIntervalMs: opts.pollIntervalMs, timeouts: opts.timeouts });
  }
  throw new Error(`unsupported store URL "${url}": expected sqlite:<file> or postgres://…`);
}

/** `sqlite:/abs/file.db`, `sqlite:relative.db`, `sqlite:///abs/file.db`, `sqlite::memory:`. */
function sqliteFile(url: string): string {
  let file = url.slice('sqlite:'.length);
  if (file.startsWith('//')) file = file.slice(2);
  if (file === '') throw new Error(`store URL "${url}" names no file`);
  return file;
}
