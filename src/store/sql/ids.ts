// Identifiers: Cloudflare-like 32-char hex for zones, accounts, records and tokens; UUIDs for
// certificates (as Cloudflare's AOP certificate ids are).
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import { randomBytes, randomUUID } from 'node:crypto';

export function hexId(): string {
  return randomBytes(16).toString('hex');
}

export function certificateId(): string {
  return randomUUID();
}
