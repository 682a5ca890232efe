// The installation's single rows: its PKI (CAs, the global certificate, the session-ticket key
// ring) and the meta key/value facts such as the secret-key check value.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { InstallationPki } from '../../domain/index.ts';
import { toPki, type PkiRow } from './rows.ts';
import type { SqlTx } from './sql-tx.ts';

export async function getPki(tx: SqlTx): Promise<InstallationPki | null> {
  const row = await tx.get<PkiRow>('SELECT * FROM pki WHERE id = 1');
  return row ? toPki(row) : null;
}

/** Inserts `pki` unless a row exists (bumping only when it did); returns the row that won. */
export async function initPki(tx: SqlTx, pki: InstallationPki): Promise<InstallationPki> {
  const inserted = await tx.run(
    `INSERT INTO pki (id, origin_pull_ca_pem, origin_pull_ca_key_sealed, global_cert_pem, global_key_sealed,
       edge_ca_pem, edge_ca_key_sealed) VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    [pki.originPullCaPem, pki.originPullCaKeySealed, pki.globalCertPem, pki.globalKeySealed, pki.edgeCaPem, pki.edgeCaKeySealed],
  );
  if (inserted > 0) await tx.bump();
  const row = await tx.get<PkiRow>('SELECT * FROM pki WHERE id = 1');
  return toPki(row!);
}

export async function rotateTicketKeys(tx: SqlTx, expectedRotatedOn: number | null, sealed: string, rotatedOn: number): Promise<boolean> {
  const changed =
    expectedRotatedOn === null
      ? await tx.run('UPDATE pki SET ticket_keys_sealed = ?, ticket_keys_rotated_on = ? WHERE id = 1 AND ticket_keys_rotated_on IS NULL', [sealed, rotatedOn])
      : await tx.run('UPDATE pki SET ticket_keys_sealed = ?, ticket_keys_rotated_on = ? WHERE id = 1 AND ticket_keys_rotated_on = ?', [sealed, rotatedOn, expectedRotatedOn]);
  if (changed > 0) await tx.bump();
  return changed > 0;
}

export async function getMeta(tx: SqlTx, key: string): Promise<string | null> {
  const row = await tx.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
  return row ? row.value : null;
}

export async function initMeta(tx: SqlTx, key: string, value: string): Promise<string> {
  await tx.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value]);
  const row = await tx.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
  return row!.value;
}
