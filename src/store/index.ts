export type * from './store.ts';
export { StoreError, NotFoundError, ConflictError, LimitError, InUseError, StoreUnavailableError } from './errors.ts';
export { SecretBox, SecretBoxError } from './secret-box.ts';
export { openStore } from './open-store.ts';
export type { OpenStoreOptions } from './open-store.ts';
export { SqliteStore } from './sqlite/sqlite-store.ts';
export type { SqliteStoreOptions } from './sqlite/sqlite-store.ts';
// PostgresStore is not re-exported: openStore loads it (and pg) only for a postgres:// URL.
export type { PostgresStoreOptions } from './postgres/postgres-store.ts';
export { verifySecretKey, SecretKeyMismatchError } from './key-check.ts';
