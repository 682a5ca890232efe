// Failures a Store reports; the API maps each to its v4 error (api/errors.ts).
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (the contract), and test/api/errors.test.ts.

export class StoreError extends Error {
  readonly code: string = 'STORE_ERROR';
}

export class NotFoundError extends StoreError {
  override readonly code = 'NOT_FOUND';
}

export class ConflictError extends StoreError {
  override readonly code = 'CONFLICT';
}

/**
 * The store cannot be reached or did not answer in time (connection lost, partition, a session
 * killed by the server, a statement or lock wait past its timeout). Nothing was committed; the
 * same request can be sent again once the store is back.
 */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'UNAVAILABLE';
  /** Which store, for messages: `PostgreSQL`. */
  readonly store: string;
  constructor(store: string, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.store = store;
  }
}

export class LimitError extends StoreError {
  override readonly code = 'LIMIT';
}

/** A certificate cannot be deleted while enabled associations use it. */
export class InUseError extends StoreError {
  override readonly code = 'IN_USE';
  readonly hostnames: string[];
  constructor(message: string, hostnames: string[]) {
    super(message);
    this.hostnames = hostnames;
  }
}
