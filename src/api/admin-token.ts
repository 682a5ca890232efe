// The installation's admin token: generated at first start, written to <dataDir>/admin-token
// (mode 0600) so the operator can read it again, and stored only as a hash.
// Tested in test/api/auth.test.ts and test/api/restart.test.ts.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiStore } from '../store/index.ts';
import { generateTokenSecret, hashTokenSecret } from './token-secret.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';

async function ensureStored(store: ApiStore, secret: string, name: string): Promise<boolean> {
  const secretHash = hashTokenSecret(secret);
  if (await store.findTokenBySecretHash(secretHash)) return false;
  try {
    await store.createToken({ name, secretHash, zoneIds: null, permission: 'edit', admin: true });
  } catch (err) {
    // Another API node starting at the same moment stored it first (secret_hash is unique).
    if (await store.findTokenBySecretHash(secretHash)) return false;
    throw err;
  }
  return true;
}

async function readTokenFile(file: string): Promise<string | null> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text.length > 0 ? text : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read the admin token file ${file}`, { cause: err });
  }
}

/**
 * Makes sure an admin token exists. With `envToken` (ORIGINPULL_API_TOKEN) that value is the admin
 * token and no file is written. Otherwise the token in `<dataDir>/admin-token` is used, or one is
 * generated and written there. `token` is returned only when it was generated now (print it once);
 * `created` says whether a token row was added to the store.
 */
export async function ensureAdminToken(store: ApiStore, dataDir: string, envToken?: string): Promise<{ token?: string; created: boolean }> {
  if (envToken !== undefined && envToken.trim() !== '') {
    return { created: await ensureStored(store, envToken.trim(), 'admin (ORIGINPULL_API_TOKEN)') };
  }
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await readTokenFile(file);
  if (existing) return { created: await ensureStored(store, existing, 'admin') };

  await mkdir(dataDir, { recursive: true });
  const secret = generateTokenSecret();
  try {
    await writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process wrote it first: adopt theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const theirs = await readTokenFile(file);
      if (theirs) return { created: await ensureStored(store, theirs, 'admin') };
    }
    throw new Error(`cannot write the admin token file ${file}`, { cause: err });
  }
  await ensureStored(store, secret, 'admin');
  return { token: secret, created: true };
}
