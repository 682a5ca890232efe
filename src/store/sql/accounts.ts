// Accounts: the default one every installation has, and lookups.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { Account } from '../../domain/index.ts';
import { hexId } from './ids.ts';
import { toAccount, type AccountRow } from './rows.ts';
import type { SqlTx } from './sql-tx.ts';

const DEFAULT_ACCOUNT_NAME = 'Default Account';

export async function ensureDefault(tx: SqlTx): Promise<Account> {
  const existing = await tx.get<AccountRow>('SELECT * FROM accounts WHERE default_slot = 1');
  if (existing) return toAccount(existing);
  // default_slot is UNIQUE: of racing inserts exactly one lands, the others do nothing.
  await tx.run('INSERT INTO accounts (id, name, created_on, default_slot) VALUES (?, ?, ?, 1) ON CONFLICT DO NOTHING', [
    hexId(),
    DEFAULT_ACCOUNT_NAME,
    Date.now(),
  ]);
  return toAccount((await tx.get<AccountRow>('SELECT * FROM accounts WHERE default_slot = 1'))!);
}

export async function list(tx: SqlTx): Promise<Account[]> {
  const rows = await tx.all<AccountRow>('SELECT * FROM accounts ORDER BY created_on, id');
  return rows.map(toAccount);
}

export async function get(tx: SqlTx, id: string): Promise<Account | null> {
  const row = await tx.get<AccountRow>('SELECT * FROM accounts WHERE id = ?', [id]);
  return row ? toAccount(row) : null;
}
