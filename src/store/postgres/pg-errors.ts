// Tells a lost or stalled PostgreSQL (the request may be sent again) from a failure of the
// request itself, and turns the former into the StoreUnavailableError callers already handle.
// Tested in test/store/pg-errors.test.ts and test/faults/session-kill.test.ts.
import { StoreError, StoreUnavailableError } from '../errors.ts';

// SQLSTATEs that say nothing about the request: the session or the server went away, or a
// timeout of ours cut a wait short (statement_timeout, lock_timeout, idle in transaction).
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '57P05', '57014', '55P03', '25P03', '53300', '53400']);

// Node socket errors and what pg itself says when a connection breaks or times out.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const PG_MESSAGES = /^(Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Connection ended)/;

/** True when `err` says the store could not be reached or did not answer in time. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof StoreError) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || SOCKET_CODES.has(code)) return true;
  }
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return PG_MESSAGES.test(err.message);
}

/** `err` as the caller should see it: unavailability as StoreUnavailableError, the rest unchanged. */
export function storeFailure(err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const why = (err as Error).message || (err as { code?: string }).code || 'unknown error';
  return new StoreUnavailableError('PostgreSQL', `the PostgreSQL store is unavailable (${why})`, { cause: err });
}
