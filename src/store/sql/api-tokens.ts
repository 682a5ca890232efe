// API tokens: stored by the hash of their secret (the secret itself is never stored). Not edge
// config: nothing here bumps the config version.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { ApiToken } from '../../domain/index.ts';
import type { NewApiToken } from '../store.ts';
import { hexId } from './ids.ts';
import { bool, toToken, type TokenRow } from './rows.ts';
import type { SqlTx } from './sql-tx.ts';

export async function create(tx: SqlTx, input: NewApiToken): Promise<ApiToken> {
  const row = await tx.get<TokenRow>(
    `INSERT INTO api_tokens (id, name, secret_hash, zone_ids, permission, admin, created_on)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    [
      hexId(),
      input.name,
      input.secretHash,
      input.zoneIds === null ? null : JSON.stringify(input.zoneIds),
      input.permission,
      bool(input.admin),
      Date.now(),
    ],
  );
  return toToken(row!);
}

export async function findBySecretHash(tx: SqlTx, secretHash: string): Promise<ApiToken | null> {
  const row = await tx.get<TokenRow>('SELECT * FROM api_tokens WHERE secret_hash = ?', [secretHash]);
  return row ? toToken(row) : null;
}

export async function list(tx: SqlTx): Promise<ApiToken[]> {
  const rows = await tx.all<TokenRow>('SELECT * FROM api_tokens ORDER BY created_on, id');
  return rows.map(toToken);
}

export async function remove(tx: SqlTx, id: string): Promise<boolean> {
  return (await tx.run('DELETE FROM api_tokens WHERE id = ?', [id])) > 0;
}
