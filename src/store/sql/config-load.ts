// The config version and what edges load: everything (loadConfig) or the zones changed since a
// version (loadConfigChanges). SqlStore runs these in one read transaction each, so what an edge
// builds from is one consistent state.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
import type { ConfigChanges, ConfigData } from '../../domain/index.ts';
import { NotFoundError } from '../errors.ts';
import * as packs from './certificate-packs.ts';
import * as edgeCerts from './edge-certificates.ts';
import {
  toAssociation,
  toCertificate,
  toDnsRecord,
  toPki,
  toZone,
  type AssociationRow,
  type CertificateRow,
  type DnsRecordRow,
  type PkiRow,
  type ZoneRow,
} from './rows.ts';
import { INSTALLATION, VERSION_SQL, type SqlTx } from './sql-tx.ts';

export async function readVersion(tx: SqlTx): Promise<number> {
  const row = await tx.get<{ v: number | string }>(VERSION_SQL);
  if (!row) throw new Error('config_version row is missing: has migrate() run?');
  return Number(row.v);
}

export async function loadAll(tx: SqlTx): Promise<ConfigData> {
  const version = await readVersion(tx);
  const pki = await tx.get<PkiRow>('SELECT * FROM pki WHERE id = 1');
  if (!pki) throw new NotFoundError('installation not initialised');
  const zones = await mapEach(tx, 'SELECT * FROM zones', toZone);
  const records = await mapEach(tx, 'SELECT * FROM dns_records', toDnsRecord);
  const certificates = await mapEach(
    tx,
    'SELECT * FROM certificates WHERE delete_version IS NULL ORDER BY uploaded_on DESC, deploy_version DESC',
    toCertificate,
  );
  const associations = await mapEach(tx, 'SELECT * FROM associations', toAssociation);
  const edgeCertificates = await mapEach(
    tx,
    `SELECT * FROM edge_certificates WHERE delete_version IS NULL ${edgeCerts.EDGE_CERTIFICATE_ORDER}`,
    edgeCerts.toEdgeCertificate,
  );
  const certificatePacks = await mapEach(
    tx,
    `SELECT * FROM certificate_packs WHERE ${packs.SERVED_PACKS_WHERE} ${packs.PACK_ORDER}`,
    packs.toCertificatePack,
  );
  const acmeChallenges = await mapEach(tx, 'SELECT * FROM acme_challenges ORDER BY created_on, token', packs.toAcmeChallenge);
  return { version, zones, records, certificates, associations, edgeCertificates, pki: toPki(pki), certificatePacks, acmeChallenges };
}

export async function loadChanges(tx: SqlTx, since: number): Promise<ConfigChanges | null> {
  const version = await readVersion(tx);
  if (version < since) return null;
  // Every version since then logged (none by an older node, none pruned), or no delta.
  const logged = await tx.get<{ n: number | string }>('SELECT COUNT(DISTINCT version) AS n FROM config_changes WHERE version > ?', [since]);
  if (Number(logged!.n) !== version - since) return null;
  const pki = await tx.get<PkiRow>('SELECT * FROM pki WHERE id = 1');
  if (!pki) throw new NotFoundError('installation not initialised');
  const changed = 'SELECT zone_id FROM config_changes WHERE version > ?';
  const params = [since];
  const zones = (await tx.all<ZoneRow>(`SELECT * FROM zones WHERE id IN (${changed})`, params)).map(toZone);
  const records = (await tx.all<DnsRecordRow>(`SELECT * FROM dns_records WHERE zone_id IN (${changed})`, params)).map(toDnsRecord);
  const certificates = (
    await tx.all<CertificateRow>(
      `SELECT * FROM certificates WHERE zone_id IN (${changed}) AND delete_version IS NULL ORDER BY uploaded_on DESC, deploy_version DESC`,
      params,
    )
  ).map(toCertificate);
  const associations = (await tx.all<AssociationRow>(`SELECT * FROM associations WHERE zone_id IN (${changed})`, params)).map(toAssociation);
  const edgeCertificates = (
    await tx.all<edgeCerts.EdgeCertificateRow>(
      `SELECT * FROM edge_certificates WHERE zone_id IN (${changed}) AND delete_version IS NULL ${edgeCerts.EDGE_CERTIFICATE_ORDER}`,
      params,
    )
  ).map(edgeCerts.toEdgeCertificate);
  const certificatePacks = (
    await tx.all<packs.CertificatePackRow>(
      `SELECT * FROM certificate_packs WHERE zone_id IN (${changed}) AND ${packs.SERVED_PACKS_WHERE} ${packs.PACK_ORDER}`,
      params,
    )
  ).map(packs.toCertificatePack);
  const acmeChallenges = (
    await tx.all<packs.AcmeChallengeRow>(`SELECT * FROM acme_challenges WHERE zone_id IN (${changed}) ORDER BY created_on, token`, params)
  ).map(packs.toAcmeChallenge);
  const present = new Set(zones.map((z) => z.id));
  const touched = await tx.all<{ zone_id: string }>(`SELECT DISTINCT zone_id FROM config_changes WHERE version > ? AND zone_id <> ?`, [since, INSTALLATION]);
  const removedZoneIds = touched.map((r) => r.zone_id).filter((id) => !present.has(id));
  return {
    since,
    version,
    zones,
    records,
    certificates,
    associations,
    edgeCertificates,
    pki: toPki(pki),
    removedZoneIds,
    certificatePacks,
    acmeChallenges,
  };
}

/** Every row of `sql` mapped, read row by row (the table's driver rows are never all held at once). */
async function mapEach<R, T>(tx: SqlTx, sql: string, map: (row: R) => T): Promise<T[]> {
  const out: T[] = [];
  await tx.each<R>(sql, [], (row) => out.push(map(row)));
  return out;
}
