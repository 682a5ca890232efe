// The Store logic both engines share: every query, check and version bump lives here once.
// Engines provide transactions (transact), migrations and the change feed's watcher.
import type {
  AcmeChallenge,
  CertificatePack,
  PackCertificate,
  Account,
  ApiToken,
  CertKind,
  ConfigChanges,
  ConfigData,
  DnsRecord,
  EdgeCertificate,
  EdgeNode,
  HostnameAssociation,
  InstallationPki,
  StoredCertificate,
  Zone,
  ZoneEdgeSettingKey,
  ZoneEdgeSettings,
} from '../../domain/index.ts';
import { ConflictError, InUseError, LimitError, NotFoundError } from '../errors.ts';
import type {
  AcmeAccount,
  NewAcmeChallenge,
  NewCertificatePack,
  PackOrderPatch,
  UniversalSslSetting,
  AlertAttemptResult,
  AlertDelivery,
  AlertDeliveryClaim,
  AlertDeliveryFilter,
  AlertDeliveryPage,
  AlertPolicy,
  AlertPolicyPatch,
  AlertWebhook,
  AlertWebhookPatch,
  AssociationChange,
  AssociationLimits,
  ChangeListener,
  DnsRecordFilter,
  DnsRecordPatch,
  EdgeCertificatePatch,
  EdgeCertificatePriority,
  EdgeReport,
  ExclusiveRun,
  NewAlertDelivery,
  NewAlertPolicy,
  NewAlertWebhook,
  NewApiToken,
  NewCertificate,
  NewDnsRecord,
  NewEdgeCertificate,
  NewZone,
  Store,
  ZoneSettingsPatch,
} from '../store.ts';
import * as alerting from './alerting.ts';
import * as packs from './certificate-packs.ts';
import * as edgeCerts from './edge-certificates.ts';
import { ChangeFeed } from './change-feed.ts';
import { certificateId, hexId } from './ids.ts';
import {
  bool,
  toAccount,
  toAssociation,
  toCertificate,
  toDnsRecord,
  toEdge,
  toPki,
  toToken,
  toZone,
  EDGE_SETTING_COLUMNS,
  type AccountRow,
  type AssociationRow,
  type CertificateRow,
  type DnsRecordRow,
  type EdgeRow,
  type PkiRow,
  type TokenRow,
  type ZoneRow,
} from './rows.ts';
import { INSTALLATION, VERSION_SQL, type SqlTx, type SqlValue, type TxMode } from './sql-tx.ts';

const DEFAULT_ACCOUNT_NAME = 'Default Account';

export abstract class SqlStore implements Store {
  abstract readonly kind: 'sqlite' | 'postgres';
  protected readonly feed = new ChangeFeed({
    start: () => this.startWatching(),
    stop: () => this.stopWatching(),
  });

  /** Runs `fn` in a transaction of `mode`; after a commit that bumped, publishes the version. */
  protected abstract transact<T>(mode: TxMode, fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  protected abstract startWatching(): void;
  protected abstract stopWatching(): void;
  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;
  abstract runExclusive<T>(job: string, fn: () => Promise<T>): Promise<ExclusiveRun<T>>;

  // ── config version and change feed ─────────────────────────────────────────

  async currentVersion(): Promise<number> {
    return this.transact('auto', async (tx) => readVersion(tx));
  }

  onChange(listener: ChangeListener): () => void {
    return this.feed.subscribe(listener);
  }

  onEdgeReport(listener: () => void): () => void {
    return this.feed.subscribePulse(listener);
  }

  async loadConfig(): Promise<ConfigData> {
    return this.transact('read', async (tx) => {
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
    });
  }

  async loadConfigChanges(since: number): Promise<ConfigChanges | null> {
    return this.transact('read', async (tx) => {
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
    });
  }

  // ── installation ───────────────────────────────────────────────────────────

  async getPki(): Promise<InstallationPki | null> {
    const row = await this.transact('auto', (tx) => tx.get<PkiRow>('SELECT * FROM pki WHERE id = 1'));
    return row ? toPki(row) : null;
  }

  async initPki(pki: InstallationPki): Promise<InstallationPki> {
    return this.transact('write', async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO pki (id, origin_pull_ca_pem, origin_pull_ca_key_sealed, global_cert_pem, global_key_sealed,
           edge_ca_pem, edge_ca_key_sealed) VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        [pki.originPullCaPem, pki.originPullCaKeySealed, pki.globalCertPem, pki.globalKeySealed, pki.edgeCaPem, pki.edgeCaKeySealed],
      );
      if (inserted > 0) await tx.bump();
      const row = await tx.get<PkiRow>('SELECT * FROM pki WHERE id = 1');
      return toPki(row!);
    });
  }

  async rotateTicketKeys(expectedRotatedOn: number | null, sealed: string, rotatedOn: number): Promise<boolean> {
    return this.transact('write', async (tx) => {
      const changed =
        expectedRotatedOn === null
          ? await tx.run('UPDATE pki SET ticket_keys_sealed = ?, ticket_keys_rotated_on = ? WHERE id = 1 AND ticket_keys_rotated_on IS NULL', [sealed, rotatedOn])
          : await tx.run('UPDATE pki SET ticket_keys_sealed = ?, ticket_keys_rotated_on = ? WHERE id = 1 AND ticket_keys_rotated_on = ?', [sealed, rotatedOn, expectedRotatedOn]);
      if (changed > 0) await tx.bump();
      return changed > 0;
    });
  }

  async getMeta(key: string): Promise<string | null> {
    const row = await this.transact('auto', (tx) => tx.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]));
    return row ? row.value : null;
  }

  async initMeta(key: string, value: string): Promise<string> {
    return this.transact('auto', async (tx) => {
      await tx.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value]);
      const row = await tx.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
      return row!.value;
    });
  }

  // ── accounts ───────────────────────────────────────────────────────────────

  async ensureDefaultAccount(): Promise<Account> {
    return this.transact('auto', async (tx) => {
      const existing = await tx.get<AccountRow>('SELECT * FROM accounts WHERE default_slot = 1');
      if (existing) return toAccount(existing);
      // default_slot is UNIQUE: of racing inserts exactly one lands, the others do nothing.
      await tx.run('INSERT INTO accounts (id, name, created_on, default_slot) VALUES (?, ?, ?, 1) ON CONFLICT DO NOTHING', [
        hexId(),
        DEFAULT_ACCOUNT_NAME,
        Date.now(),
      ]);
      return toAccount((await tx.get<AccountRow>('SELECT * FROM accounts WHERE default_slot = 1'))!);
    });
  }

  async listAccounts(): Promise<Account[]> {
    const rows = await this.transact('auto', (tx) => tx.all<AccountRow>('SELECT * FROM accounts ORDER BY created_on, id'));
    return rows.map(toAccount);
  }

  async getAccount(id: string): Promise<Account | null> {
    const row = await this.transact('auto', (tx) => tx.get<AccountRow>('SELECT * FROM accounts WHERE id = ?', [id]));
    return row ? toAccount(row) : null;
  }

  // ── zones and settings ─────────────────────────────────────────────────────

  async createZone(input: NewZone): Promise<Zone> {
    return this.transact('write', async (tx) => {
      if (!(await tx.get('SELECT 1 AS x FROM accounts WHERE id = ?', [input.accountId]))) {
        throw new NotFoundError(`account ${input.accountId} not found`);
      }
      if (await tx.get('SELECT 1 AS x FROM zones WHERE name = ?', [input.name])) {
        throw new ConflictError(`zone ${input.name} already exists`);
      }
      const id = hexId();
      await tx.bump(id);
      const now = Date.now();
      const row = await tx.get<ZoneRow>(
        `INSERT INTO zones (id, account_id, name, created_on, modified_on, ssl_mode, ssl_modified_on,
           tls_client_auth, tls_client_auth_modified_on, aop_enabled, aop_modified_on)
         VALUES (?, ?, ?, ?, ?, 'full', ?, 'off', ?, 0, ?) RETURNING *`,
        [id, input.accountId, input.name, now, now, now, now, now],
      );
      return toZone(row!);
    });
  }

  async listZones(filter: { name?: string; ids?: string[] } = {}): Promise<Zone[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.name !== undefined) {
      where.push('name = ?');
      params.push(filter.name);
    }
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return [];
      where.push(`id IN (${placeholders(filter.ids.length)})`);
      params.push(...filter.ids);
    }
    const sql = 'SELECT * FROM zones' + (where.length ? ' WHERE ' + where.join(' AND ') : '');
    const rows = await this.transact('auto', (tx) => tx.all<ZoneRow>(sql, params));
    return rows.map(toZone).sort((a, b) => compareText(a.name, b.name));
  }

  async getZone(id: string): Promise<Zone | null> {
    const row = await this.transact('auto', (tx) => tx.get<ZoneRow>('SELECT * FROM zones WHERE id = ?', [id]));
    return row ? toZone(row) : null;
  }

  async deleteZone(id: string): Promise<boolean> {
    return this.transact('write', async (tx) => {
      // Records, certificates and associations go with it (ON DELETE CASCADE).
      const deleted = await tx.run('DELETE FROM zones WHERE id = ?', [id]);
      if (deleted === 0) return false;
      await tx.bump(id);
      return true;
    });
  }

  async updateZoneSettings(id: string, patch: ZoneSettingsPatch, check?: (zone: Zone) => void): Promise<Zone> {
    return this.transact('write', async (tx) => {
      const row = await tx.get<ZoneRow>('SELECT * FROM zones WHERE id = ?', [id]);
      if (!row) throw new NotFoundError(`zone ${id} not found`);
      const now = Date.now();
      const sets: string[] = [];
      const params: SqlValue[] = [];
      if (patch.sslMode !== undefined) {
        sets.push('ssl_mode = ?', 'ssl_modified_on = ?');
        params.push(patch.sslMode, now);
      }
      if (patch.tlsClientAuth !== undefined) {
        sets.push('tls_client_auth = ?', 'tls_client_auth_modified_on = ?');
        params.push(patch.tlsClientAuth, now);
      }
      if (patch.aopEnabled !== undefined) {
        sets.push('aop_enabled = ?', 'aop_modified_on = ?');
        params.push(bool(patch.aopEnabled), now);
      }
      if (patch.edge !== undefined) {
        for (const [key, value] of Object.entries(patch.edge) as [ZoneEdgeSettingKey, ZoneEdgeSettings[ZoneEdgeSettingKey]][]) {
          if (value === undefined) continue;
          const column = EDGE_SETTING_COLUMNS[key];
          sets.push(`${column} = ?`, `${column}_modified_on = ?`);
          params.push(typeof value === 'string' ? value : JSON.stringify(value), now);
        }
      }
      if (sets.length === 0) return toZone(row);
      await tx.bump(id);
      sets.push('modified_on = ?');
      params.push(now, id);
      const updated = toZone((await tx.get<ZoneRow>(`UPDATE zones SET ${sets.join(', ')} WHERE id = ? RETURNING *`, params))!);
      // Settings that must agree are checked on the row as committed, so two writes racing on
      // different settings cannot store a pair each alone would have refused.
      check?.(updated);
      return updated;
    });
  }

  // ── DNS records ────────────────────────────────────────────────────────────

  async createDnsRecord(input: NewDnsRecord): Promise<DnsRecord> {
    return this.transact('write', async (tx) => {
      if (!(await tx.get('SELECT 1 AS x FROM zones WHERE id = ?', [input.zoneId]))) {
        throw new NotFoundError(`zone ${input.zoneId} not found`);
      }
      await assertRecordNameFree(tx, input.name, null);
      await tx.bump(input.zoneId);
      const now = Date.now();
      const row = await tx.get<DnsRecordRow>(
        `INSERT INTO dns_records (id, zone_id, name, type, content, proxied, ttl, origin_http_port, origin_https_port,
           origin_sni, origin_host_header, comment, created_on, modified_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [
          hexId(),
          input.zoneId,
          input.name,
          input.type,
          input.content,
          bool(input.proxied),
          input.ttl,
          input.originHttpPort,
          input.originHttpsPort,
          input.originSni ?? null,
          input.originHostHeader ?? null,
          input.comment,
          now,
          now,
        ],
      );
      return toDnsRecord(row!);
    });
  }

  async listDnsRecords(zoneId: string, filter: DnsRecordFilter = {}): Promise<DnsRecord[]> {
    let sql = 'SELECT * FROM dns_records WHERE zone_id = ?';
    const params: SqlValue[] = [zoneId];
    if (filter.name !== undefined) {
      sql += ' AND name = ?';
      params.push(filter.name);
    }
    if (filter.type !== undefined) {
      sql += ' AND type = ?';
      params.push(filter.type);
    }
    const rows = await this.transact('auto', (tx) => tx.all<DnsRecordRow>(sql, params));
    return rows.map(toDnsRecord).sort((a, b) => compareText(a.name, b.name) || compareText(a.type, b.type));
  }

  async getDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null> {
    const row = await this.transact('auto', (tx) =>
      tx.get<DnsRecordRow>('SELECT * FROM dns_records WHERE zone_id = ? AND id = ?', [zoneId, id]),
    );
    return row ? toDnsRecord(row) : null;
  }

  async updateDnsRecord(zoneId: string, id: string, patch: DnsRecordPatch): Promise<DnsRecord> {
    return this.transact('write', async (tx) => {
      const row = await tx.get<DnsRecordRow>('SELECT * FROM dns_records WHERE zone_id = ? AND id = ?', [zoneId, id]);
      if (!row) throw new NotFoundError(`DNS record ${id} not found`);
      const next = { ...toDnsRecord(row), ...definedOnly(patch) };
      if (next.name !== row.name) await assertRecordNameFree(tx, next.name, id);
      await tx.bump(zoneId);
      const updated = await tx.get<DnsRecordRow>(
        `UPDATE dns_records SET name = ?, type = ?, content = ?, proxied = ?, ttl = ?, origin_http_port = ?,
           origin_https_port = ?, origin_sni = ?, origin_host_header = ?, comment = ?, modified_on = ? WHERE id = ? RETURNING *`,
        [
          next.name,
          next.type,
          next.content,
          bool(next.proxied),
          next.ttl,
          next.originHttpPort,
          next.originHttpsPort,
          next.originSni,
          next.originHostHeader,
          next.comment,
          Date.now(),
          id,
        ],
      );
      return toDnsRecord(updated!);
    });
  }

  async deleteDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null> {
    return this.transact('write', async (tx) => {
      const row = await tx.get<DnsRecordRow>('DELETE FROM dns_records WHERE zone_id = ? AND id = ? RETURNING *', [zoneId, id]);
      if (!row) return null;
      await tx.bump(zoneId);
      return toDnsRecord(row);
    });
  }

  // ── AOP certificates ───────────────────────────────────────────────────────

  async insertCertificate(input: NewCertificate, opts: { maxPerZone?: number } = {}): Promise<StoredCertificate> {
    return this.transact('write', async (tx) => {
      if (!(await tx.get('SELECT 1 AS x FROM zones WHERE id = ?', [input.zoneId]))) {
        throw new NotFoundError(`zone ${input.zoneId} not found`);
      }
      const duplicate = await tx.get<{ id: string }>(
        'SELECT id FROM certificates WHERE zone_id = ? AND kind = ? AND fingerprint_sha256 = ? AND delete_version IS NULL',
        [input.zoneId, input.kind, input.fingerprintSha256],
      );
      if (duplicate) throw new ConflictError(`this certificate is already uploaded to the zone (id ${duplicate.id})`);
      if (opts.maxPerZone !== undefined) {
        const row = await tx.get<{ n: number | string }>(
          'SELECT COUNT(*) AS n FROM certificates WHERE zone_id = ? AND kind = ? AND delete_version IS NULL',
          [input.zoneId, input.kind],
        );
        if (Number(row!.n) >= opts.maxPerZone) {
          throw new LimitError(`the zone already has ${Number(row!.n)} ${input.kind} certificates; the limit is ${opts.maxPerZone}`);
        }
      }
      const version = await tx.bump(input.zoneId);
      const row = await tx.get<CertificateRow>(
        `INSERT INTO certificates (id, zone_id, kind, certificate_pem, private_key_sealed, issuer, serial_number, signature,
           fingerprint_sha256, not_before, expires_on, uploaded_on, deploy_version, delete_version, delete_requested_on)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL) RETURNING *`,
        [
          certificateId(),
          input.zoneId,
          input.kind,
          input.certificatePem,
          input.privateKeySealed,
          input.issuer,
          input.serialNumber,
          input.signature,
          input.fingerprintSha256,
          input.notBefore,
          input.expiresOn,
          Date.now(),
          version,
        ],
      );
      return toCertificate(row!);
    });
  }

  async listCertificates(zoneId: string, kind: CertKind, opts: { includeDeleted?: boolean } = {}): Promise<StoredCertificate[]> {
    const live = opts.includeDeleted === false ? ' AND delete_version IS NULL' : '';
    const rows = await this.transact('auto', (tx) =>
      tx.all<CertificateRow>(
        `SELECT * FROM certificates WHERE zone_id = ? AND kind = ?${live} ORDER BY uploaded_on DESC, deploy_version DESC`,
        [zoneId, kind],
      ),
    );
    return rows.map(toCertificate);
  }

  async getCertificate(zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null> {
    const row = await this.transact('auto', (tx) => getCertificateRow(tx, zoneId, kind, id));
    return row ? toCertificate(row) : null;
  }

  async requestCertificateDeletion(zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null> {
    return this.transact('write', async (tx) => {
      const row = await getCertificateRow(tx, zoneId, kind, id);
      if (!row) return null;
      if (row.delete_version !== null) return toCertificate(row);
      if (kind === 'hostname') {
        const inUse = await tx.all<{ hostname: string }>(
          'SELECT hostname FROM associations WHERE cert_id = ? AND enabled = 1',
          [id],
        );
        if (inUse.length > 0) {
          const hostnames = inUse.map((r) => r.hostname).sort(compareText);
          throw new InUseError(`certificate ${id} is still associated with ${hostnames.join(', ')}`, hostnames);
        }
      }
      const version = await tx.bump(zoneId);
      await tx.run('DELETE FROM associations WHERE cert_id = ?', [id]);
      const updated = await tx.get<CertificateRow>(
        'UPDATE certificates SET delete_version = ?, delete_requested_on = ? WHERE id = ? RETURNING *',
        [version, Date.now(), id],
      );
      return toCertificate(updated!);
    });
  }

  async purgeDeletedCertificates(appliedByAllVersion: number): Promise<number> {
    return this.transact('auto', async (tx) => {
      const aop = await tx.run('DELETE FROM certificates WHERE delete_version IS NOT NULL AND delete_version <= ?', [appliedByAllVersion]);
      return aop + (await edgeCerts.purgeDeleted(tx, appliedByAllVersion)) + (await packs.purgeDeleted(tx, appliedByAllVersion));
    });
  }

  // ── custom edge certificates (the SQL lives in edge-certificates.ts) ───────

  insertEdgeCertificate(input: NewEdgeCertificate): Promise<EdgeCertificate> {
    return this.transact('write', (tx) => edgeCerts.insert(tx, input));
  }

  listEdgeCertificates(zoneId: string, opts: { includeDeleted?: boolean } = {}): Promise<EdgeCertificate[]> {
    return this.transact('auto', (tx) => edgeCerts.list(tx, zoneId, opts.includeDeleted !== false));
  }

  getEdgeCertificate(zoneId: string, id: string): Promise<EdgeCertificate | null> {
    return this.transact('auto', (tx) => edgeCerts.get(tx, zoneId, id));
  }

  updateEdgeCertificate(zoneId: string, id: string, patch: EdgeCertificatePatch): Promise<EdgeCertificate> {
    return this.transact('write', (tx) => edgeCerts.update(tx, zoneId, id, patch));
  }

  requestEdgeCertificateDeletion(zoneId: string, id: string): Promise<EdgeCertificate | null> {
    return this.transact('write', (tx) => edgeCerts.requestDeletion(tx, zoneId, id));
  }

  prioritizeEdgeCertificates(zoneId: string, changes: EdgeCertificatePriority[]): Promise<EdgeCertificate[]> {
    return this.transact('write', (tx) => edgeCerts.prioritize(tx, zoneId, changes));
  }

  // ── Universal SSL by ACME (the SQL lives in certificate-packs.ts) ──────────

  getUniversalSsl(zoneId: string): Promise<UniversalSslSetting> {
    return this.transact('read', (tx) => packs.getUniversal(tx, zoneId));
  }

  setUniversalSsl(zoneId: string, enabled: boolean): Promise<UniversalSslSetting> {
    return this.transact('write', (tx) => packs.setUniversal(tx, zoneId, enabled));
  }

  listUniversalSslOff(): Promise<Set<string>> {
    return this.transact('auto', (tx) => packs.universalOff(tx));
  }

  listProxiedNames(): Promise<Map<string, string[]>> {
    return this.transact('read', (tx) => packs.proxiedNames(tx));
  }

  insertCertificatePack(input: NewCertificatePack): Promise<CertificatePack> {
    return this.transact('write', (tx) => packs.insert(tx, input));
  }

  listCertificatePacks(zoneId: string, opts: { includeDeleted?: boolean } = {}): Promise<CertificatePack[]> {
    return this.transact('auto', (tx) => packs.list(tx, zoneId, opts.includeDeleted !== false));
  }

  listLiveCertificatePacks(): Promise<CertificatePack[]> {
    return this.transact('auto', (tx) => packs.listLive(tx));
  }

  getCertificatePack(zoneId: string | null, id: string): Promise<CertificatePack | null> {
    return this.transact('auto', (tx) => packs.get(tx, zoneId, id));
  }

  updateCertificatePackOrder(id: string, patch: PackOrderPatch): Promise<CertificatePack> {
    return this.transact('write', (tx) => packs.updateOrder(tx, id, patch));
  }

  storeCertificatePackCertificate(id: string, cert: Omit<PackCertificate, 'deployVersion'>): Promise<CertificatePack> {
    return this.transact('write', (tx) => packs.storeCertificate(tx, id, cert));
  }

  requestCertificatePackDeletion(zoneId: string, id: string): Promise<CertificatePack | null> {
    return this.transact('write', (tx) => packs.requestDeletion(tx, zoneId, id));
  }

  putAcmeChallenges(packId: string, challenges: NewAcmeChallenge[]): Promise<number> {
    return this.transact('write', (tx) => packs.putChallenges(tx, packId, challenges));
  }

  setAcmeChallengeStatus(token: string, status: AcmeChallenge['status']): Promise<void> {
    return this.transact('auto', (tx) => packs.setChallengeStatus(tx, token, status));
  }

  clearAcmeChallenges(packId: string): Promise<number> {
    return this.transact('write', (tx) => packs.clearChallenges(tx, packId));
  }

  listAcmeChallenges(zoneId: string): Promise<AcmeChallenge[]> {
    return this.transact('auto', (tx) => packs.listChallenges(tx, zoneId));
  }

  getAcmeAccount(directoryUrl: string): Promise<AcmeAccount | null> {
    return this.transact('auto', (tx) => packs.getAccount(tx, directoryUrl));
  }

  initAcmeAccount(directoryUrl: string, accountKeySealed: string): Promise<AcmeAccount> {
    return this.transact('write', (tx) => packs.initAccount(tx, directoryUrl, accountKeySealed));
  }

  setAcmeAccountUrl(directoryUrl: string, accountUrl: string): Promise<void> {
    return this.transact('auto', (tx) => packs.setAccountUrl(tx, directoryUrl, accountUrl));
  }

  // ── hostname associations ──────────────────────────────────────────────────

  async applyAssociations(
    zoneId: string,
    changes: AssociationChange[],
    limits: AssociationLimits,
  ): Promise<(HostnameAssociation | null)[]> {
    return this.transact('write', async (tx) => {
      const results: (HostnameAssociation | null)[] = [];
      const grown = new Set<string>();
      const now = Date.now();
      for (const change of changes) {
        const cert = await tx.get(
          "SELECT 1 AS x FROM certificates WHERE id = ? AND zone_id = ? AND kind = 'hostname' AND delete_version IS NULL",
          [change.certId, zoneId],
        );
        if (!cert) throw new NotFoundError(`hostname certificate ${change.certId} not found in this zone`);
        if (change.enabled === null) {
          // Removal invalidates the hostname's association, whichever certificate it points at.
          const removed = await tx.get<AssociationRow>('DELETE FROM associations WHERE zone_id = ? AND hostname = ? RETURNING *', [
            zoneId,
            change.hostname,
          ]);
          if (removed) await tx.bump(zoneId);
          results.push(removed ? toAssociation(removed) : null);
          continue;
        }
        const version = await tx.bump(zoneId);
        const row = await tx.get<AssociationRow>(
          `INSERT INTO associations (zone_id, hostname, cert_id, enabled, created_at, updated_at, version)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (zone_id, hostname) DO UPDATE SET cert_id = excluded.cert_id, enabled = excluded.enabled,
             updated_at = excluded.updated_at, version = excluded.version
           RETURNING *`,
          [zoneId, change.hostname, change.certId, bool(change.enabled), now, now, version],
        );
        results.push(toAssociation(row!));
        grown.add(change.certId);
      }
      // Checked once the batch is applied, so a batch that moves hostnames between certificates
      // is judged by its result; a throw rolls the whole batch back.
      for (const certId of grown) {
        const row = await tx.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM associations WHERE cert_id = ?', [certId]);
        const n = Number(row!.n);
        if (n > limits.maxPerCertificate) {
          throw new LimitError(`certificate ${certId} would have ${n} associations; the limit is ${limits.maxPerCertificate}`);
        }
      }
      return results;
    });
  }

  async getAssociation(zoneId: string, hostname: string): Promise<HostnameAssociation | null> {
    const row = await this.transact('auto', (tx) =>
      tx.get<AssociationRow>('SELECT * FROM associations WHERE zone_id = ? AND hostname = ?', [zoneId, hostname]),
    );
    return row ? toAssociation(row) : null;
  }

  async listAssociations(zoneId: string): Promise<HostnameAssociation[]> {
    const rows = await this.transact('auto', (tx) => tx.all<AssociationRow>('SELECT * FROM associations WHERE zone_id = ?', [zoneId]));
    return rows.map(toAssociation).sort((a, b) => compareText(a.hostname, b.hostname));
  }

  // ── API tokens ─────────────────────────────────────────────────────────────

  async createToken(input: NewApiToken): Promise<ApiToken> {
    const row = await this.transact('auto', (tx) =>
      tx.get<TokenRow>(
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
      ),
    );
    return toToken(row!);
  }

  async findTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    const row = await this.transact('auto', (tx) => tx.get<TokenRow>('SELECT * FROM api_tokens WHERE secret_hash = ?', [secretHash]));
    return row ? toToken(row) : null;
  }

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.transact('auto', (tx) => tx.all<TokenRow>('SELECT * FROM api_tokens ORDER BY created_on, id'));
    return rows.map(toToken);
  }

  async deleteToken(id: string): Promise<boolean> {
    return (await this.transact('auto', (tx) => tx.run('DELETE FROM api_tokens WHERE id = ?', [id]))) > 0;
  }

  // ── edges ──────────────────────────────────────────────────────────────────

  async reportEdge(report: EdgeReport): Promise<void> {
    await this.transact('auto', async (tx) => {
      const before = await tx.get<{ v: number | string }>('SELECT applied_version AS v FROM edges WHERE id = ?', [report.id]);
      await tx.run(
        `INSERT INTO edges (id, name, started_at, last_heartbeat, applied_version) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, started_at = excluded.started_at,
           last_heartbeat = excluded.last_heartbeat, applied_version = excluded.applied_version`,
        [report.id, report.name, report.startedAt, Date.now(), report.appliedVersion],
      );
      // Only a moved version is news to `?wait=active` waiters on other nodes; plain heartbeats stay quiet.
      if (!before || Number(before.v) !== report.appliedVersion) await tx.signal();
    });
    this.feed.pulse();
  }

  async listEdges(): Promise<EdgeNode[]> {
    const rows = await this.transact('auto', (tx) => tx.all<EdgeRow>('SELECT * FROM edges'));
    return rows.map(toEdge).sort((a, b) => compareText(a.name, b.name) || compareText(a.id, b.id));
  }

  async forgetEdges(olderThanMs: number): Promise<number> {
    return this.transact('auto', (tx) => tx.run('DELETE FROM edges WHERE last_heartbeat < ?', [Date.now() - olderThanMs]));
  }

  async raiseDeployedMark(candidate: number): Promise<number> {
    return this.transact('auto', async (tx) => {
      const row = await tx.get<{ version: number | string }>('SELECT version FROM deployed_mark WHERE id = 1');
      const mark = row ? Number(row.version) : 0;
      if (candidate <= mark) return mark;
      // Conditional, so of two nodes raising at once the lower never overwrites the higher.
      await tx.run('UPDATE deployed_mark SET version = ? WHERE id = 1 AND version < ?', [candidate, candidate]);
      return candidate;
    });
  }

  // ── alerting (the SQL lives in alerting.ts) ───────────────────────
  // Multi-statement work runs as 'write' (serialised with other writers, so reference checks hold
  // until commit) without bumping the config version: none of this is edge config.

  createAlertWebhook(input: NewAlertWebhook): Promise<AlertWebhook> {
    return this.transact('write', (tx) => alerting.createWebhook(tx, input));
  }

  listAlertWebhooks(accountId: string): Promise<AlertWebhook[]> {
    return this.transact('auto', (tx) => alerting.listWebhooks(tx, accountId));
  }

  getAlertWebhook(accountId: string, id: string): Promise<AlertWebhook | null> {
    return this.transact('auto', (tx) => alerting.getWebhook(tx, accountId, id));
  }

  updateAlertWebhook(accountId: string, id: string, patch: AlertWebhookPatch): Promise<AlertWebhook> {
    return this.transact('write', (tx) => alerting.updateWebhook(tx, accountId, id, patch));
  }

  deleteAlertWebhook(accountId: string, id: string, at: number): Promise<boolean> {
    return this.transact('write', (tx) => alerting.deleteWebhook(tx, accountId, id, at));
  }

  createAlertPolicy(input: NewAlertPolicy): Promise<AlertPolicy> {
    return this.transact('write', (tx) => alerting.createPolicy(tx, input));
  }

  listAlertPolicies(accountId?: string): Promise<AlertPolicy[]> {
    return this.transact('read', (tx) => alerting.listPolicies(tx, accountId));
  }

  getAlertPolicy(accountId: string, id: string): Promise<AlertPolicy | null> {
    return this.transact('read', (tx) => alerting.getPolicy(tx, accountId, id));
  }

  updateAlertPolicy(accountId: string, id: string, patch: AlertPolicyPatch): Promise<AlertPolicy> {
    return this.transact('write', (tx) => alerting.updatePolicy(tx, accountId, id, patch));
  }

  deleteAlertPolicy(accountId: string, id: string, at: number): Promise<boolean> {
    return this.transact('write', (tx) => alerting.deletePolicy(tx, accountId, id, at));
  }

  async enqueueAlertDeliveries(rows: NewAlertDelivery[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.transact('write', (tx) => alerting.enqueueDeliveries(tx, rows));
  }

  claimAlertDeliveries(claim: AlertDeliveryClaim): Promise<AlertDelivery[]> {
    return this.transact('auto', (tx) => alerting.claimDeliveries(tx, claim));
  }

  finishAlertDelivery(id: string, owner: string, result: AlertAttemptResult): Promise<boolean> {
    return this.transact('write', (tx) => alerting.finishDelivery(tx, id, owner, result));
  }

  async cancelAlertDeliveries(ids: string[], reason: string, at: number): Promise<number> {
    if (ids.length === 0) return 0;
    return this.transact('write', (tx) => alerting.cancelDeliveries(tx, ids, reason, at));
  }

  listAlertDeliveries(filter: AlertDeliveryFilter = {}): Promise<AlertDelivery[]> {
    return this.transact('auto', (tx) => alerting.listDeliveries(tx, filter));
  }

  pageAlertDeliveries(filter: Omit<AlertDeliveryFilter, 'limit'>, page: number, perPage: number): Promise<AlertDeliveryPage> {
    return this.transact('read', (tx) => alerting.pageDeliveries(tx, filter, page, perPage));
  }
}

async function readVersion(tx: SqlTx): Promise<number> {
  const row = await tx.get<{ v: number | string }>(VERSION_SQL);
  if (!row) throw new Error('config_version row is missing: has migrate() run?');
  return Number(row.v);
}

/** Every row of `sql` mapped, read row by row (the table's driver rows are never all held at once). */
async function mapEach<R, T>(tx: SqlTx, sql: string, map: (row: R) => T): Promise<T[]> {
  const out: T[] = [];
  await tx.each<R>(sql, [], (row) => out.push(map(row)));
  return out;
}

function getCertificateRow(tx: SqlTx, zoneId: string, kind: CertKind, id: string): Promise<CertificateRow | undefined> {
  return tx.get<CertificateRow>('SELECT * FROM certificates WHERE zone_id = ? AND kind = ? AND id = ?', [zoneId, kind, id]);
}

async function assertRecordNameFree(tx: SqlTx, name: string, exceptId: string | null): Promise<void> {
  const other = await tx.get<{ id: string }>('SELECT id FROM dns_records WHERE name = ?', [name]);
  if (other && other.id !== exceptId) throw new ConflictError(`a DNS record named ${name} already exists`);
}

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

/** Binary order, the same on both engines (database collations differ). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
