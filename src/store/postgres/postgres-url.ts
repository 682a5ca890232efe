// Turns a store URL into pg client settings. `?schema=name` (ours) becomes the session's
// search_path, so several installations or test runs can share one database.
import type { ClientConfig } from 'pg';

export interface PostgresTarget {
  config: ClientConfig;
  /** The schema the store lives in, when the URL names one (?schema= or options=-c search_path=). */
  schema: string | null;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new Error('invalid PostgreSQL URL', { cause: err });
  }
  let schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null) {
    parsed.searchParams.set('options', `-c search_path=${schema}`);
  } else {
    schema = /search_path=([^\s,]+)/.exec(parsed.searchParams.get('options') ?? '')?.[1] ?? null;
  }
  // The name is interpolated into CREATE SCHEMA, so only plain identifiers pass.
  if (schema !== null && !IDENTIFIER.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
  return {
    config: { connectionString: parsed.toString(), connectionTimeoutMillis: 5_000, keepAlive: true },
    schema,
  };
}
