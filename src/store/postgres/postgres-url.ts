// Turns a store URL into pg client settings. `?schema=name` (ours) becomes the session's
// search_path, so several installations or test runs can share one database.
// Tested in test/store/postgres.test.ts (`?schema=`) and test/faults/partition.test.ts (the timeouts).
import type { ClientConfig } from 'pg';

export interface PostgresTimeouts {
  /**
   * Client side: a round trip unanswered for this long fails and its connection is dropped (a
   * partition or a stalled socket, where the server cannot say anything). Default 15 000 ms.
   */
  queryMs?: number;
  /**
   * Server side (`statement_timeout`, `lock_timeout`): a statement, or a wait for a lock, is
   * cancelled after this long, leaving the connection usable. Default 10 000 ms; keep it below
   * queryMs so a slow but reachable server answers with its own error first.
   */
  statementMs?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 15_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

export interface PostgresTarget {
  config: ClientConfig;
  /** The schema the store lives in, when the URL names one (?schema= or options=-c search_path=). */
  schema: string | null;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function parsePostgresUrl(url: string, timeouts: PostgresTimeouts = {}): PostgresTarget {
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
  const queryMs = timeouts.queryMs || DEFAULT_QUERY_TIMEOUT_MS;
  const statementMs = timeouts.statementMs || DEFAULT_STATEMENT_TIMEOUT_MS;
  return {
    config: {
      connectionString: parsed.toString(),
      connectionTimeoutMillis: Math.min(CONNECT_TIMEOUT_MS, queryMs),
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: queryMs,
      statement_timeout: statementMs,
      lock_timeout: statementMs,
      // A node cut off mid-transaction must not hold the config_version row lock (and so every
      // writer) until the server's TCP keepalive notices, hours later.
      idle_in_transaction_session_timeout: 2 * queryMs,
    },
    schema,
  };
}
