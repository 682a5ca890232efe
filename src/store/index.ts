export type * from './store.ts';
export { StoreError, NotFoundError, ConflictError, LimitError, InUseError } from './errors.ts';
export { SecretBox, SecretBoxError } from './secret-box.ts';
