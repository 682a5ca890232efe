// The ACME part of the shared SQL store: Universal SSL settings, certificate packs, challenges and
// the ACME account. A write that changes what edges serve (a pack's certificate, a challenge, a
// deletion) bumps the config version with the zone's id; order bookkeeping (stage, errors,
// backoff) does not, since no edge reads it.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/acme-contract.ts).
import type { AcmeChallenge, CertificatePack, CertificatePackType, OrderStage, PackCertificate } from '../../domain/index.ts';
import { NotFoundError } from '../errors.ts';
import type { AcmeAccount, NewAcmeChallenge, NewCertificatePack, PackOrderPatch, UniversalSslSetting } from '../store.ts';
import { certificateId } from './ids.ts';
import type { SqlTx, SqlValue } from './sql-tx.ts';

type Num = number | string;

export interface CertificatePackRow {
  id: string;
  zone_id: string;
  type: string;
  hosts: string;
  validation_method: string;
  validity_days: Num;
  certificate_authority: string;
  stage: string;
  error_text: string | null;
  attempts: Num;
  next_attempt_at: Num | null;
  certificate_pem: string | null;
  private_key_sealed: string | null;
  issuer: string | null;
  serial_number: string | null;
  signature: string | null;
  fingerprint_sha256: string | null;
  not_before: Num | null;
  expires_on: Num | null;
  renew_at: Num | null;
  deploy_version: Num | null;
  created_on: Num;
  modified_on: Num;
  delete_version: Num | null;
  delete_requested_on: Num | null;
}

export interface AcmeChallengeRow {
  token: string;
  zone_id: string;
  pack_id: string;
  hostname: string;
  type: string;
  key_authorization: string;
  certificate_pem: string | null;
  private_key_sealed: string | null;
  status: string;
  created_on: Num;
}

const numOrNull = (v: Num | null): number | null => (v === null ? null : Number(v));

export function toCertificatePack(r: CertificatePackRow): CertificatePack {
  const certificate: PackCertificate | null =
    r.certificate_pem === null
      ? null
      : {
          certificatePem: r.certificate_pem,
          privateKeySealed: r.private_key_sealed!,
          issuer: r.issuer!,
          serialNumber: r.serial_number!,
          signature: r.signature!,
          fingerprintSha256: r.fingerprint_sha256!,
          notBefore: Number(r.not_before),
          expiresOn: Number(r.expires_on),
          renewAt: Number(r.renew_at),
          deployVersion: Number(r.deploy_version),
        };
  return {
    id: r.id,
    zoneId: r.zone_id,
    type: r.type as CertificatePackType,
    hosts: JSON.parse(r.hosts) as string[],
    validationMethod: r.validation_method as CertificatePack['validationMethod'],
    validityDays: Number(r.validity_days),
    certificateAuthority: r.certificate_authority,
    stage: r.stage as OrderStage,
    errorText: r.error_text,
    attempts: Number(r.attempts),
    nextAttemptAt: numOrNull(r.next_attempt_at),
    certificate,
    createdOn: Number(r.created_on),
    modifiedOn: Number(r.modified_on),
    deleteVersion: numOrNull(r.delete_version),
    deleteRequestedOn: numOrNull(r.delete_requested_on),
  };
}

export function toAcmeChallenge(r: AcmeChallengeRow): AcmeChallenge {
  return {
    token: r.token,
    zoneId: r.zone_id,
    packId: r.pack_id,
    hostname: r.hostname,
    type: r.type as AcmeChallenge['type'],
    keyAuthorization: r.key_authorization,
    certificatePem: r.certificate_pem,
    privateKeySealed: r.private_key_sealed,
    status: r.status as AcmeChallenge['status'],
    createdOn: Number(r.created_on),
  };
}

export const PACK_ORDER = 'ORDER BY created_on, id';
/** What loadConfig reads: live packs with a certificate (the only ones an edge serves). */
export const SERVED_PACKS_WHERE = 'delete_version IS NULL AND certificate_pem IS NOT NULL';

async function assertZone(tx: SqlTx, zoneId: string): Promise<void> {
  if (!(await tx.get('SELECT 1 AS x FROM zones WHERE id = ?', [zoneId]))) throw new NotFoundError(`zone ${zoneId} not found`);
}

export async function getUniversal(tx: SqlTx, zoneId: string): Promise<UniversalSslSetting> {
  await assertZone(tx, zoneId);
  const row = await tx.get<{ enabled: Num; modified_on: Num }>('SELECT enabled, modified_on FROM universal_ssl_settings WHERE zone_id = ?', [zoneId]);
  return row ? { enabled: Number(row.enabled) === 1, modifiedOn: Number(row.modified_on) } : { enabled: true, modifiedOn: null };
}

export async function setUniversal(tx: SqlTx, zoneId: string, enabled: boolean): Promise<UniversalSslSetting> {
  await assertZone(tx, zoneId);
  const now = Date.now();
  await tx.run(
    `INSERT INTO universal_ssl_settings (zone_id, enabled, modified_on) VALUES (?, ?, ?)
     ON CONFLICT (zone_id) DO UPDATE SET enabled = excluded.enabled, modified_on = excluded.modified_on`,
    [zoneId, enabled ? 1 : 0, now],
  );
  return { enabled, modifiedOn: now };
}

/** Zones with Universal SSL off (every other zone has it on). */
export async function universalOff(tx: SqlTx): Promise<Set<string>> {
  const rows = await tx.all<{ zone_id: string }>('SELECT zone_id FROM universal_ssl_settings WHERE enabled = 0');
  return new Set(rows.map((r) => r.zone_id));
}

export async function proxiedNames(tx: SqlTx): Promise<Map<string, string[]>> {
  const rows = await tx.all<{ zone_id: string; name: string }>('SELECT zone_id, name FROM dns_records WHERE proxied = 1 ORDER BY zone_id, name');
  const byZone = new Map<string, string[]>();
  for (const r of rows) {
    let names = byZone.get(r.zone_id);
    if (names === undefined) byZone.set(r.zone_id, (names = []));
    names.push(r.name);
  }
  return byZone;
}

export async function insert(tx: SqlTx, input: NewCertificatePack): Promise<CertificatePack> {
  await assertZone(tx, input.zoneId);
  const now = Date.now();
  const row = await tx.get<CertificatePackRow>(
    `INSERT INTO certificate_packs (id, zone_id, type, hosts, validation_method, validity_days, certificate_authority, stage,
       error_text, attempts, next_attempt_at, created_on, modified_on)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'initializing', ?, 0, NULL, ?, ?) RETURNING *`,
    [
      certificateId(),
      input.zoneId,
      input.type,
      JSON.stringify(input.hosts),
      input.validationMethod,
      input.validityDays,
      input.certificateAuthority,
      input.errorText ?? null,
      now,
      now,
    ],
  );
  return toCertificatePack(row!);
}

export async function list(tx: SqlTx, zoneId: string, includeDeleted: boolean): Promise<CertificatePack[]> {
  const live = includeDeleted ? '' : ' AND delete_version IS NULL';
  const rows = await tx.all<CertificatePackRow>(`SELECT * FROM certificate_packs WHERE zone_id = ?${live} ${PACK_ORDER}`, [zoneId]);
  return rows.map(toCertificatePack);
}

export async function listLive(tx: SqlTx): Promise<CertificatePack[]> {
  const rows = await tx.all<CertificatePackRow>(`SELECT * FROM certificate_packs WHERE delete_version IS NULL ${PACK_ORDER}`);
  return rows.map(toCertificatePack);
}

export async function get(tx: SqlTx, zoneId: string | null, id: string): Promise<CertificatePack | null> {
  const row =
    zoneId === null
      ? await tx.get<CertificatePackRow>('SELECT * FROM certificate_packs WHERE id = ?', [id])
      : await tx.get<CertificatePackRow>('SELECT * FROM certificate_packs WHERE zone_id = ? AND id = ?', [zoneId, id]);
  return row ? toCertificatePack(row) : null;
}

async function getLive(tx: SqlTx, id: string): Promise<CertificatePack> {
  const pack = await get(tx, null, id);
  if (!pack || pack.deleteVersion !== null) throw new NotFoundError(`certificate pack ${id} not found`);
  return pack;
}

/** Order bookkeeping only: nothing an edge serves changes, so no version bump. */
export async function updateOrder(tx: SqlTx, id: string, patch: PackOrderPatch): Promise<CertificatePack> {
  await getLive(tx, id);
  const sets: string[] = ['modified_on = ?'];
  const params: SqlValue[] = [Date.now()];
  const columns: [keyof PackOrderPatch, string][] = [
    ['stage', 'stage'],
    ['errorText', 'error_text'],
    ['attempts', 'attempts'],
    ['nextAttemptAt', 'next_attempt_at'],
  ];
  for (const [key, column] of columns) {
    if (patch[key] === undefined) continue;
    sets.push(`${column} = ?`);
    params.push(patch[key]);
  }
  params.push(id);
  const row = await tx.get<CertificatePackRow>(`UPDATE certificate_packs SET ${sets.join(', ')} WHERE id = ? RETURNING *`, params);
  return toCertificatePack(row!);
}

/** The CA's certificate replaces the pack's (edges switch at the new version); its challenges go. */
export async function storeCertificate(tx: SqlTx, id: string, cert: Omit<PackCertificate, 'deployVersion'>): Promise<CertificatePack> {
  const pack = await getLive(tx, id);
  const version = await tx.bump(pack.zoneId);
  await tx.run('DELETE FROM acme_challenges WHERE pack_id = ?', [id]);
  const row = await tx.get<CertificatePackRow>(
    `UPDATE certificate_packs SET stage = 'issued', error_text = NULL, attempts = 0, next_attempt_at = NULL, certificate_pem = ?,
       private_key_sealed = ?, issuer = ?, serial_number = ?, signature = ?, fingerprint_sha256 = ?, not_before = ?, expires_on = ?,
       renew_at = ?, deploy_version = ?, modified_on = ? WHERE id = ? RETURNING *`,
    [
      cert.certificatePem,
      cert.privateKeySealed,
      cert.issuer,
      cert.serialNumber,
      cert.signature,
      cert.fingerprintSha256,
      cert.notBefore,
      cert.expiresOn,
      cert.renewAt,
      version,
      Date.now(),
      id,
    ],
  );
  return toCertificatePack(row!);
}

export async function requestDeletion(tx: SqlTx, zoneId: string, id: string): Promise<CertificatePack | null> {
  const pack = await get(tx, zoneId, id);
  if (!pack) return null;
  if (pack.deleteVersion !== null) return pack;
  const version = await tx.bump(zoneId);
  await tx.run('DELETE FROM acme_challenges WHERE pack_id = ?', [id]);
  const row = await tx.get<CertificatePackRow>('UPDATE certificate_packs SET delete_version = ?, delete_requested_on = ? WHERE id = ? RETURNING *', [
    version,
    Date.now(),
    id,
  ]);
  return toCertificatePack(row!);
}

/** Replaces the pack's challenges with `challenges` in one version; returns that version. */
export async function putChallenges(tx: SqlTx, packId: string, challenges: readonly NewAcmeChallenge[]): Promise<number> {
  const pack = await getLive(tx, packId);
  const version = await tx.bump(pack.zoneId);
  await tx.run('DELETE FROM acme_challenges WHERE pack_id = ?', [packId]);
  const now = Date.now();
  for (const c of challenges) {
    // A token (or a TLS-ALPN-01 host name) another pack was using is taken over: one answer per name.
    await tx.run('DELETE FROM acme_challenges WHERE token = ?', [c.token]);
    await tx.run(
      `INSERT INTO acme_challenges (token, zone_id, pack_id, hostname, type, key_authorization, certificate_pem, private_key_sealed, status, created_on)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
      [c.token, pack.zoneId, packId, c.hostname, c.type, c.keyAuthorization, c.certificatePem ?? null, c.privateKeySealed ?? null, now],
    );
  }
  return version;
}

/** Validation outcome, for the verification endpoint; edges keep answering until the challenge is cleared. */
export async function setChallengeStatus(tx: SqlTx, token: string, status: AcmeChallenge['status']): Promise<void> {
  await tx.run('UPDATE acme_challenges SET status = ? WHERE token = ?', [status, token]);
}

export async function clearChallenges(tx: SqlTx, packId: string): Promise<number> {
  const pack = await get(tx, null, packId);
  if (!pack) return 0;
  const n = await tx.get<{ n: Num }>('SELECT COUNT(*) AS n FROM acme_challenges WHERE pack_id = ?', [packId]);
  if (Number(n!.n) === 0) return 0;
  await tx.bump(pack.zoneId);
  return tx.run('DELETE FROM acme_challenges WHERE pack_id = ?', [packId]);
}

export async function listChallenges(tx: SqlTx, zoneId: string): Promise<AcmeChallenge[]> {
  const rows = await tx.all<AcmeChallengeRow>('SELECT * FROM acme_challenges WHERE zone_id = ? ORDER BY created_on, token', [zoneId]);
  return rows.map(toAcmeChallenge);
}

export function purgeDeleted(tx: SqlTx, appliedByAllVersion: number): Promise<number> {
  return tx.run('DELETE FROM certificate_packs WHERE delete_version IS NOT NULL AND delete_version <= ?', [appliedByAllVersion]);
}

export async function getAccount(tx: SqlTx, directoryUrl: string): Promise<AcmeAccount | null> {
  const row = await tx.get<{ directory_url: string; account_key_sealed: string; account_url: string | null; created_on: Num }>(
    'SELECT * FROM acme_accounts WHERE directory_url = ?',
    [directoryUrl],
  );
  return row ? { directoryUrl: row.directory_url, accountKeySealed: row.account_key_sealed, accountUrl: row.account_url, createdOn: Number(row.created_on) } : null;
}

/** Stores the key unless the directory has one; returns the one that won. */
export async function initAccount(tx: SqlTx, directoryUrl: string, accountKeySealed: string): Promise<AcmeAccount> {
  await tx.run('INSERT INTO acme_accounts (directory_url, account_key_sealed, account_url, created_on) VALUES (?, ?, NULL, ?) ON CONFLICT (directory_url) DO NOTHING', [
    directoryUrl,
    accountKeySealed,
    Date.now(),
  ]);
  return (await getAccount(tx, directoryUrl))!;
}

export async function setAccountUrl(tx: SqlTx, directoryUrl: string, accountUrl: string): Promise<void> {
  await tx.run('UPDATE acme_accounts SET account_url = ? WHERE directory_url = ?', [accountUrl, directoryUrl]);
}
