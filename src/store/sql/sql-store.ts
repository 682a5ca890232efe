// The Store both engines share: each method runs one module's function in a transaction of the
// right mode, so every query, check and version bump lives once, in the module of its resource.
// Engines provide transactions (transact), migrations and the change feed's watcher.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).
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
} from '../../domain/index.ts';
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
import * as accounts from './accounts.ts';
import * as alerting from './alerting.ts';
import * as aopCerts from './aop-certificates.ts';
import * as tokens from './api-tokens.ts';
import * as packs from './certificate-packs.ts';
import * as configLoad from './config-load.ts';
import * as dnsRecords from './dns-records.ts';
import * as edgeCerts from './edge-certificates.ts';
import * as edges from './edge-nodes.ts';
import * as associations from './hostname-associations.ts';
import * as installation from './installation.ts';
import * as zones from './zones.ts';
import { ChangeFeed } from './change-feed.ts';
import type { SqlTx, TxMode } from './sql-tx.ts';

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

  // ── config version and change feed (the SQL lives in config-load.ts) ─────

  currentVersion(): Promise<number> {
    return this.transact('auto', (tx) => configLoad.readVersion(tx));
  }

  onChange(listener: ChangeListener): () => void {
    return this.feed.subscribe(listener);
  }

  onEdgeReport(listener: () => void): () => void {
    return this.feed.subscribePulse(listener);
  }

  loadConfig(): Promise<ConfigData> {
    return this.transact('read', (tx) => configLoad.loadAll(tx));
  }

  loadConfigChanges(since: number): Promise<ConfigChanges | null> {
    return this.transact('read', (tx) => configLoad.loadChanges(tx, since));
  }

  // ── installation (the SQL lives in installation.ts) ────────────────────────

  getPki(): Promise<InstallationPki | null> {
    return this.transact('auto', (tx) => installation.getPki(tx));
  }

  initPki(pki: InstallationPki): Promise<InstallationPki> {
    return this.transact('write', (tx) => installation.initPki(tx, pki));
  }

  rotateTicketKeys(expectedRotatedOn: number | null, sealed: string, rotatedOn: number): Promise<boolean> {
    return this.transact('write', (tx) => installation.rotateTicketKeys(tx, expectedRotatedOn, sealed, rotatedOn));
  }

  getMeta(key: string): Promise<string | null> {
    return this.transact('auto', (tx) => installation.getMeta(tx, key));
  }

  initMeta(key: string, value: string): Promise<string> {
    return this.transact('auto', (tx) => installation.initMeta(tx, key, value));
  }

  // ── accounts (the SQL lives in accounts.ts) ────────────────────────────────

  ensureDefaultAccount(): Promise<Account> {
    return this.transact('auto', (tx) => accounts.ensureDefault(tx));
  }

  listAccounts(): Promise<Account[]> {
    return this.transact('auto', (tx) => accounts.list(tx));
  }

  getAccount(id: string): Promise<Account | null> {
    return this.transact('auto', (tx) => accounts.get(tx, id));
  }

  // ── zones and settings (the SQL lives in zones.ts) ─────────────────────────

  createZone(input: NewZone): Promise<Zone> {
    return this.transact('write', (tx) => zones.create(tx, input));
  }

  async listZones(filter: { name?: string; ids?: string[] } = {}): Promise<Zone[]> {
    // No id can match: answered without queueing behind a transaction.
    if (filter.ids !== undefined && filter.ids.length === 0) return [];
    return this.transact('auto', (tx) => zones.list(tx, filter));
  }

  getZone(id: string): Promise<Zone | null> {
    return this.transact('auto', (tx) => zones.get(tx, id));
  }

  deleteZone(id: string): Promise<boolean> {
    return this.transact('write', (tx) => zones.remove(tx, id));
  }

  updateZoneSettings(id: string, patch: ZoneSettingsPatch, check?: (zone: Zone) => void): Promise<Zone> {
    return this.transact('write', (tx) => zones.updateSettings(tx, id, patch, check));
  }

  // ── DNS records (the SQL lives in dns-records.ts) ──────────────────────────

  createDnsRecord(input: NewDnsRecord): Promise<DnsRecord> {
    return this.transact('write', (tx) => dnsRecords.create(tx, input));
  }

  listDnsRecords(zoneId: string, filter: DnsRecordFilter = {}): Promise<DnsRecord[]> {
    return this.transact('auto', (tx) => dnsRecords.list(tx, zoneId, filter));
  }

  getDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null> {
    return this.transact('auto', (tx) => dnsRecords.get(tx, zoneId, id));
  }

  updateDnsRecord(zoneId: string, id: string, patch: DnsRecordPatch): Promise<DnsRecord> {
    return this.transact('write', (tx) => dnsRecords.update(tx, zoneId, id, patch));
  }

  deleteDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null> {
    return this.transact('write', (tx) => dnsRecords.remove(tx, zoneId, id));
  }

  // ── AOP certificates (the SQL lives in aop-certificates.ts) ────────────────

  insertCertificate(input: NewCertificate, opts: { maxPerZone?: number } = {}): Promise<StoredCertificate> {
    return this.transact('write', (tx) => aopCerts.insert(tx, input, opts.maxPerZone));
  }

  listCertificates(zoneId: string, kind: CertKind, opts: { includeDeleted?: boolean } = {}): Promise<StoredCertificate[]> {
    return this.transact('auto', (tx) => aopCerts.list(tx, zoneId, kind, opts.includeDeleted !== false));
  }

  getCertificate(zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null> {
    return this.transact('auto', (tx) => aopCerts.get(tx, zoneId, kind, id));
  }

  requestCertificateDeletion(zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null> {
    return this.transact('write', (tx) => aopCerts.requestDeletion(tx, zoneId, kind, id));
  }

  purgeDeletedCertificates(appliedByAllVersion: number): Promise<number> {
    return this.transact('auto', async (tx) => {
      const aop = await aopCerts.purgeDeleted(tx, appliedByAllVersion);
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

  // ── hostname associations (the SQL lives in hostname-associations.ts) ──────

  applyAssociations(zoneId: string, changes: AssociationChange[], limits: AssociationLimits): Promise<(HostnameAssociation | null)[]> {
    return this.transact('write', (tx) => associations.apply(tx, zoneId, changes, limits));
  }

  getAssociation(zoneId: string, hostname: string): Promise<HostnameAssociation | null> {
    return this.transact('auto', (tx) => associations.get(tx, zoneId, hostname));
  }

  listAssociations(zoneId: string): Promise<HostnameAssociation[]> {
    return this.transact('auto', (tx) => associations.list(tx, zoneId));
  }

  // ── API tokens (the SQL lives in api-tokens.ts) ────────────────────────────

  createToken(input: NewApiToken): Promise<ApiToken> {
    return this.transact('auto', (tx) => tokens.create(tx, input));
  }

  findTokenBySecretHash(secretHash: string): Promise<ApiToken | null> {
    return this.transact('auto', (tx) => tokens.findBySecretHash(tx, secretHash));
  }

  listTokens(): Promise<ApiToken[]> {
    return this.transact('auto', (tx) => tokens.list(tx));
  }

  deleteToken(id: string): Promise<boolean> {
    return this.transact('auto', (tx) => tokens.remove(tx, id));
  }

  // ── edges (the SQL lives in edge-nodes.ts) ─────────────────────────────────

  async reportEdge(report: EdgeReport): Promise<void> {
    await this.transact('auto', (tx) => edges.record(tx, report));
    this.feed.pulse();
  }

  listEdges(): Promise<EdgeNode[]> {
    return this.transact('auto', (tx) => edges.list(tx));
  }

  forgetEdges(olderThanMs: number): Promise<number> {
    return this.transact('auto', (tx) => edges.forget(tx, olderThanMs));
  }

  raiseDeployedMark(candidate: number): Promise<number> {
    return this.transact('auto', (tx) => edges.raiseDeployedMark(tx, candidate));
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
