// Failures a Store reports; the API maps each to its v4 error (api/errors.ts).

export class StoreError extends Error {
  readonly code: string = 'STORE_ERROR';
}

export class NotFoundError extends StoreError {
  override readonly code = 'NOT_FOUND';
}

export class ConflictError extends StoreError {
  override readonly code = 'CONFLICT';
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
