// The one seam between the control plane and persistence. SqliteStore and PostgresStore both
// implement it and one contract suite (test/store/contract.ts) runs against both.
//
// Rules every implementation keeps:
// - Every write that changes what an edge serves runs in ONE transaction that also bumps the
//   config version; the new version is stamped on the rows it touched (deployVersion, version…).
// - Writes that can violate a limit or a reference check do so inside that transaction, so a
//   failure stores nothing (throwing one of the errors in ./errors.ts).
// - Private keys arrive sealed (see secret-box.ts); the store never sees a plain key.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts.
import type {
  AcmeChallenge,
  AcmeChallengeType,
  CertificatePack,
  CertificatePackType,
  OrderStage,
  PackCertificate,
  Account,
  ApiToken,
  BundleMethod,
  EdgeCertificate,
  CertKind,
  ConfigChanges,
  ConfigData,
  DnsRecord,
  DnsRecordType,
  EdgeNode,
  HostnameAssociation,
  InstallationPki,
  OnOff,
  SslMode,
  StoredCertificate,
  TokenPermission,
  Zone,
  ZoneEdgeSettings,
} from '../domain/index.ts';

export interface NewZone {
  accountId: string;
  name: string;
}

export interface ZoneSettingsPatch {
  sslMode?: SslMode;
  tlsClientAuth?: OnOff;
  aopEnabled?: boolean;
  /** Only the settings named change (each with its modified_on). */
  edge?: Partial<ZoneEdgeSettings>;
}

export interface NewDnsRecord {
  zoneId: string;
  name: string;
  type: DnsRecordType;
  content: string;
  proxied: boolean;
  ttl: number;
  originHttpPort: number;
  originHttpsPort: number;
  /** Origin overrides; omitted: none (the visitor's host name). */
  originSni?: string | null;
  originHostHeader?: string | null;
  comment: string | null;
}

export type DnsRecordPatch = Partial<Omit<NewDnsRecord, 'zoneId'>>;

export interface DnsRecordFilter {
  name?: string;
  type?: DnsRecordType;
}

/** A validated certificate ready to store; the store assigns id, uploadedOn and versions. */
export interface NewCertificate {
  zoneId: string;
  kind: CertKind;
  certificatePem: string;
  privateKeySealed: string;
  issuer: string;
  serialNumber: string;
  signature: string;
  fingerprintSha256: string;
  notBefore: number;
  expiresOn: number;
}

/** A validated custom edge certificate ready to store; the store assigns id, times and versions. */
export interface NewEdgeCertificate {
  zoneId: string;
  certificatePem: string;
  privateKeySealed: string;
  bundleMethod: BundleMethod;
  hosts: string[];
  issuer: string;
  serialNumber: string;
  signature: string;
  fingerprintSha256: string;
  notBefore: number;
  expiresOn: number;
  /** Default 0. */
  priority?: number;
}

export interface EdgeCertificatePatch {
  bundleMethod?: BundleMethod;
  /** A new certificate (and key): stored under a new id that keeps the old one's priority; the old one is deleted. */
  replacement?: Omit<NewEdgeCertificate, 'zoneId' | 'bundleMethod' | 'priority'>;
}

export interface EdgeCertificatePriority {
  id: string;
  priority: number;
}

export interface AssociationChange {
  hostname: string;
  certId: string;
  /** true attach/enable, false disable, null remove. */
  enabled: boolean | null;
}

export interface AssociationLimits {
  /** At most this many associations reference one certificate (Cloudflare: 100). */
  maxPerCertificate: number;
}

export interface NewApiToken {
  name: string;
  secretHash: string;
  zoneIds: string[] | null;
  permission: TokenPermission;
  admin: boolean;
}

export interface EdgeReport {
  id: string;
  name: string;
  startedAt: number;
  appliedVersion: number;
}

export type ChangeListener = (version: number) => void;

// ── roles ──────────────────────────────────────────────────────────────────
// The Store is declared in parts, one per resource (below); each role lists the parts a kind of
// caller uses, so a module's store parameter says what it depends on and a test's stand-in
// implements only that. `Store`, every part, is what the engines implement and what a process
// that runs everything holds.

/** What an edge node calls: follow the change feed, load the configuration, check the secret key, report. */
export interface EdgeNodeStore extends StoreHandle, ConfigFeedStore, InstallationStore, EdgeReportStore {}

/** What the API's routes and start-up call (src/api/). */
export interface ApiStore
  extends ConfigFeedStore,
    InstallationStore,
    InstallationSetupStore,
    AccountStore,
    ZoneStore,
    DnsRecordStore,
    AopCertificateStore,
    EdgeCertificateStore,
    AssociationStore,
    TokenStore,
    EdgeRegistryStore,
    AcmeStore,
    AlertingStore {}

/** What the session-ticket key rotator calls (an API node's job). */
export interface TicketRotatorStore extends InstallationStore, InstallationSetupStore {}

/** What the registry janitor calls (an API node's job): forget silent edges, purge what every edge dropped. */
export interface RegistryJanitorStore extends EdgeRegistryStore, ExclusiveJobStore {}

export interface Store extends EdgeNodeStore, ApiStore, TicketRotatorStore, RegistryJanitorStore {
  /** Applies pending migrations; safe when several nodes call it at once. */
  migrate(): Promise<void>;
}

// ── parts ──────────────────────────────────────────────────────────────────

export interface StoreHandle {
  readonly kind: 'sqlite' | 'postgres';
  /** Graceful: stops the change feed and releases connections. */
  close(): Promise<void>;
}

/** The config version and change feed. */
export interface ConfigFeedStore {
  currentVersion(): Promise<number>;
  /**
   * Calls `listener` with the new version after any committed write, from this process or
   * another node (SQLite: polling the version row; PostgreSQL: LISTEN/NOTIFY plus a periodic
   * check). Returns an unsubscribe function. Notifications may coalesce; never reorder.
   */
  onChange(listener: ChangeListener): () => void;
  /** Everything an edge needs, read in one consistent transaction. */
  loadConfig(): Promise<ConfigData>;
  /**
   * The zones changed or removed after version `since` (each changed zone whole), read in one
   * consistent transaction; null when the store cannot tell (it is behind `since`, restored or
   * replaced; or a version since then is missing from its change log: written by an older node, or
   * pruned), and the caller must load everything.
   */
  loadConfigChanges(since: number): Promise<ConfigChanges | null>;
}

/** The installation's identity: its PKI and facts such as the secret-key check value. */
export interface InstallationStore {
  getPki(): Promise<InstallationPki | null>;
  /** Opaque key/value for installation facts (e.g. the secret-key check value). */
  getMeta(key: string): Promise<string | null>;
  /** Sets `key` unless set; returns the value that won. */
  initMeta(key: string, value: string): Promise<string>;
}

/** The installation's PKI as API nodes create and rotate it. */
export interface InstallationSetupStore {
  /** Stores `pki` unless one exists already; returns the one that won (safe under races). */
  initPki(pki: InstallationPki): Promise<InstallationPki>;
  /**
   * Replaces the session-ticket key ring when it was last rotated at `expectedRotatedOn` (null:
   * never), bumping the config version so every edge picks it up. False when another node rotated
   * first (compare-and-set: API nodes racing rotate once).
   */
  rotateTicketKeys(expectedRotatedOn: number | null, sealed: string, rotatedOn: number): Promise<boolean>;
}

export interface AccountStore {
  /** Creates the default account on first call; returns it afterwards. */
  ensureDefaultAccount(): Promise<Account>;
  listAccounts(): Promise<Account[]>;
  getAccount(id: string): Promise<Account | null>;
}

/** Zones and their settings. */
export interface ZoneStore {
  /** Throws ConflictError when a zone of that name exists. */
  createZone(input: NewZone): Promise<Zone>;
  listZones(filter?: { name?: string; ids?: string[] }): Promise<Zone[]>;
  getZone(id: string): Promise<Zone | null>;
  /** Deletes the zone with its records, certificates and associations. False if unknown. */
  deleteZone(id: string): Promise<boolean>;
  /**
   * Throws NotFoundError for an unknown zone. `check` sees the zone as the write leaves it, inside
   * the transaction: what it throws rolls the write back and reaches the caller.
   */
  updateZoneSettings(id: string, patch: ZoneSettingsPatch, check?: (zone: Zone) => void): Promise<Zone>;
}

/** DNS records (proxied hostnames → origins). */
export interface DnsRecordStore {
  /** Throws ConflictError when a record of that name exists in any zone (hostnames route uniquely). */
  createDnsRecord(input: NewDnsRecord): Promise<DnsRecord>;
  listDnsRecords(zoneId: string, filter?: DnsRecordFilter): Promise<DnsRecord[]>;
  getDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null>;
  /** Throws NotFoundError / ConflictError. */
  updateDnsRecord(zoneId: string, id: string, patch: DnsRecordPatch): Promise<DnsRecord>;
  deleteDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null>;
}

/** AOP certificates (zone-level and hostname). */
export interface AopCertificateStore {
  /**
   * Inserts a certificate. `maxPerZone` (hostname kind: 10) counts certificates of that kind in
   * the zone whose deletion was not requested; over it throws LimitError. The same leaf
   * (fingerprint) already stored in the zone for that kind and not deleted throws ConflictError.
   */
  insertCertificate(input: NewCertificate, opts?: { maxPerZone?: number }): Promise<StoredCertificate>;
  /** Includes certificates pending deletion unless `includeDeleted: false`. Newest first. */
  listCertificates(zoneId: string, kind: CertKind, opts?: { includeDeleted?: boolean }): Promise<StoredCertificate[]>;
  getCertificate(zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null>;
  /**
   * Requests deletion: stamps deleteVersion/deleteRequestedOn in a version-bumping transaction.
   * For hostname certificates: throws InUseError (with the hostnames) while an enabled association
   * references it; removes disabled associations that reference it. Returns null if unknown;
   * returns the row unchanged if deletion was already requested.
   */
  requestCertificateDeletion(zoneId: string, kind: CertKind, id: string): Promise<StoredCertificate | null>;
}

export interface EdgeCertificateStore {
  /** Throws NotFoundError for an unknown zone, ConflictError when the same leaf is stored in the zone and not deleted. */
  insertEdgeCertificate(input: NewEdgeCertificate): Promise<EdgeCertificate>;
  /** Highest priority first, then newest. Includes certificates pending deletion unless `includeDeleted: false`. */
  listEdgeCertificates(zoneId: string, opts?: { includeDeleted?: boolean }): Promise<EdgeCertificate[]>;
  getEdgeCertificate(zoneId: string, id: string): Promise<EdgeCertificate | null>;
  /**
   * Throws NotFoundError (unknown or deletion requested) and, for a replacement, ConflictError.
   * Returns the certificate as it now is (a replacement has a new id).
   */
  updateEdgeCertificate(zoneId: string, id: string, patch: EdgeCertificatePatch): Promise<EdgeCertificate>;
  /** Stamps deleteVersion/deleteRequestedOn; null if unknown; unchanged if already requested. */
  requestEdgeCertificateDeletion(zoneId: string, id: string): Promise<EdgeCertificate | null>;
  /** Applies every priority in one version (NotFoundError for an unknown id: nothing changes); returns the zone's list. */
  prioritizeEdgeCertificates(zoneId: string, changes: EdgeCertificatePriority[]): Promise<EdgeCertificate[]>;
}

/** Hostname associations. */
export interface AssociationStore {
  /**
   * Applies the whole batch in one transaction: enabled true/false upserts, null removes.
   * Throws NotFoundError for an unknown or deletion-requested hostname certificate of this
   * zone, LimitError over `maxPerCertificate`. Returns the resulting association per change
   * (for a removal, the association as it was, or null when there was none).
   */
  applyAssociations(zoneId: string, changes: AssociationChange[], limits: AssociationLimits): Promise<(HostnameAssociation | null)[]>;
  getAssociation(zoneId: string, hostname: string): Promise<HostnameAssociation | null>;
  listAssociations(zoneId: string): Promise<HostnameAssociation[]>;
}

/** API tokens. */
export interface TokenStore {
  createToken(input: NewApiToken): Promise<ApiToken>;
  findTokenBySecretHash(secretHash: string): Promise<ApiToken | null>;
  listTokens(): Promise<ApiToken[]>;
  deleteToken(id: string): Promise<boolean>;
}

/** An edge's side of the edge registry. */
export interface EdgeReportStore {
  /** Registers or refreshes an edge (lastHeartbeat = now). */
  reportEdge(report: EdgeReport): Promise<void>;
}

/** The control plane's side of the edge registry: what the edges applied, and what that lets go. */
export interface EdgeRegistryStore {
  /**
   * Calls `listener` when an edge may have reported a new applied version (reports do not bump
   * the config version): at once for reports made through this store, and each time the change
   * feed looks at the store (PostgreSQL: a notification, which a report that changes an edge's
   * applied version sends, or the periodic check; SQLite: each poll). Returns an unsubscribe
   * function. For `?wait=active`: one re-read of the edges per signal, however many wait.
   */
  onEdgeReport(listener: () => void): () => void;
  listEdges(): Promise<EdgeNode[]>;
  /** Removes edges silent for longer than `olderThanMs`. */
  forgetEdges(olderThanMs: number): Promise<number>;
  /**
   * The deployed mark: the highest version every live edge was seen to apply at once. Raises it
   * to `candidate` when that is higher (never lowers it; safe under races) and returns it.
   */
  raiseDeployedMark(candidate: number): Promise<number>;
  /** Physically removes certificates (AOP, edge and packs) whose deletion every edge has applied (deleteVersion ≤ version). */
  purgeDeletedCertificates(appliedByAllVersion: number): Promise<number>;
}

/** Once-only jobs. */
export interface ExclusiveJobStore {
  /**
   * Runs `fn` unless another holder runs the job of that name right now (PostgreSQL: a session
   * advisory lock tried without waiting, so of several API nodes one runs it; SQLite: within this
   * process, since one process owns the jobs of a SQLite file). `{ ran: false }` when it was taken.
   */
  runExclusive<T>(job: string, fn: () => Promise<T>): Promise<ExclusiveRun<T>>;
}

// ── Universal SSL by ACME ────────────────────────────────────────────────────

export interface UniversalSslSetting {
  enabled: boolean;
  /** null while the zone has the default (on). */
  modifiedOn: number | null;
}

export interface NewCertificatePack {
  zoneId: string;
  type: CertificatePackType;
  hosts: string[];
  validationMethod: CertificatePack['validationMethod'];
  validityDays: number;
  certificateAuthority: string;
  /** Shown until the orderer works on it (e.g. "ACME not configured"). */
  errorText?: string | null;
}

export interface PackOrderPatch {
  stage?: OrderStage;
  errorText?: string | null;
  attempts?: number;
  nextAttemptAt?: number | null;
}

export interface NewAcmeChallenge {
  token: string;
  hostname: string;
  type: AcmeChallengeType;
  keyAuthorization: string;
  certificatePem?: string | null;
  privateKeySealed?: string | null;
}

export interface AcmeAccount {
  directoryUrl: string;
  /** Sealed by the secret box. */
  accountKeySealed: string;
  /** The account's URL at the CA once registered (its `kid`). */
  accountUrl: string | null;
  createdOn: number;
}

export interface AcmeStore {
  /** Throws NotFoundError for an unknown zone. */
  getUniversalSsl(zoneId: string): Promise<UniversalSslSetting>;
  setUniversalSsl(zoneId: string, enabled: boolean): Promise<UniversalSslSetting>;
  /** Zone ids with Universal SSL off. */
  listUniversalSslOff(): Promise<Set<string>>;
  /** Every proxied record's name by zone id, read in one query (the orderer's view of what needs a certificate). */
  listProxiedNames(): Promise<Map<string, string[]>>;
  /** Throws NotFoundError for an unknown zone. Starts `initializing`; nothing an edge serves changes. */
  insertCertificatePack(input: NewCertificatePack): Promise<CertificatePack>;
  /** Oldest first; includes packs pending deletion unless `includeDeleted: false`. */
  listCertificatePacks(zoneId: string, opts?: { includeDeleted?: boolean }): Promise<CertificatePack[]>;
  /** Every zone's packs not marked for deletion (the orderer's work list). */
  listLiveCertificatePacks(): Promise<CertificatePack[]>;
  /** `zoneId` null: by id alone. */
  getCertificatePack(zoneId: string | null, id: string): Promise<CertificatePack | null>;
  /** Order bookkeeping; NotFoundError when the pack is gone or its deletion was requested. */
  updateCertificatePackOrder(id: string, patch: PackOrderPatch): Promise<CertificatePack>;
  /** Stores the issued certificate (a version bump; the pack's challenges are cleared). NotFoundError as above. */
  storeCertificatePackCertificate(id: string, cert: Omit<PackCertificate, 'deployVersion'>): Promise<CertificatePack>;
  /** Stamps deleteVersion (a version bump) and clears its challenges; null if unknown; unchanged if already requested. */
  requestCertificatePackDeletion(zoneId: string, id: string): Promise<CertificatePack | null>;
  /** Replaces the pack's challenges in one version bump; returns that version (edges answer once they applied it). */
  putAcmeChallenges(packId: string, challenges: NewAcmeChallenge[]): Promise<number>;
  setAcmeChallengeStatus(token: string, status: AcmeChallenge['status']): Promise<void>;
  /** Removes the pack's challenges (a version bump when there were any); returns how many. */
  clearAcmeChallenges(packId: string): Promise<number>;
  listAcmeChallenges(zoneId: string): Promise<AcmeChallenge[]>;
  getAcmeAccount(directoryUrl: string): Promise<AcmeAccount | null>;
  /** Stores the sealed account key unless the directory has one; returns the one that won (safe under races). */
  initAcmeAccount(directoryUrl: string, accountKeySealed: string): Promise<AcmeAccount>;
  setAcmeAccountUrl(directoryUrl: string, accountUrl: string): Promise<void>;
}

export type ExclusiveRun<T> = { ran: true; value: T } | { ran: false };

// ── alerting ───────────────────────────────────────────────────────
// Webhook destinations, notification policies and the delivery outbox. Account-level, not edge
// config: nothing here bumps the config version. Times are passed in (the notifier's clock).

export interface AlertWebhook {
  id: string;
  accountId: string;
  name: string;
  url: string;
  type: 'generic';
  /** Sealed by the secret box; null when the destination has no secret. Never returned by the API. */
  secretSealed: string | null;
  createdAt: number;
  lastSuccess: number | null;
  lastFailure: number | null;
}

export interface NewAlertWebhook {
  accountId: string;
  name: string;
  url: string;
  secretSealed: string | null;
  createdAt: number;
  /** When the test message got through (creation sends one). */
  lastSuccess: number | null;
}

export interface AlertWebhookPatch {
  name?: string;
  url?: string;
  secretSealed?: string | null;
  lastSuccess?: number;
}

export interface AlertPolicy {
  id: string;
  accountId: string;
  name: string;
  description: string;
  enabled: boolean;
  alertType: string;
  alertInterval: string | null;
  /** mechanisms.webhooks, in the order given. */
  webhookIds: string[];
  /** Filter name → values; only `zones` is used by the AOP alert types. */
  filters: Record<string, string[]>;
  created: number;
  modified: number;
}

export interface NewAlertPolicy {
  accountId: string;
  name: string;
  description: string;
  enabled: boolean;
  alertType: string;
  alertInterval: string | null;
  webhookIds: string[];
  filters: Record<string, string[]>;
  created: number;
}

export type AlertPolicyPatch = Partial<Omit<NewAlertPolicy, 'accountId' | 'created'>> & { modified: number };

/** pending: waiting for its (next) attempt; the others are final. */
export type AlertDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** One outbox row, written before anything is sent. */
export interface NewAlertDelivery {
  /** `certificate|event|policy|webhook`: unique, so a delivery is recorded once whoever enqueues it. */
  dedupeKey: string;
  accountId: string;
  zoneId: string;
  certificateId: string;
  policyId: string;
  webhookId: string;
  alertType: string;
  /** `30d`, `14d` or `expired`. */
  event: string;
  /** The JSON body to POST. */
  payload: string;
  createdAt: number;
  /** First attempt due at. */
  nextAttemptAt: number;
  /** After this, a failed attempt marks the delivery failed instead of scheduling another. */
  giveUpAt: number;
}

export interface AlertDelivery extends Omit<NewAlertDelivery, 'nextAttemptAt'> {
  id: string;
  status: AlertDeliveryStatus;
  /** Attempts started (a claim counts one). */
  attempts: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  /** HTTP status of the last attempt; null when none came back (refused, timeout…). */
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

export interface AlertDeliveryFilter {
  accountId?: string;
  status?: AlertDeliveryStatus;
  policyId?: string;
  webhookId?: string;
  certificateId?: string;
  /** Newest first; default 1000. */
  limit?: number;
}

/** One page of the delivery log: `total` counts every row the filter matches. */
export interface AlertDeliveryPage {
  rows: AlertDelivery[];
  total: number;
}

export interface AlertDeliveryClaim {
  /** Identifies the claiming notifier (unique per process instance). */
  owner: string;
  now: number;
  /** The lease: past now + leaseMs another notifier may take the row over (a crashed node's claims). */
  leaseMs: number;
  limit: number;
}

export type AlertAttemptResult =
  | { outcome: 'delivered'; at: number; httpStatus: number }
  | { outcome: 'retry'; at: number; httpStatus: number | null; error: string; nextAttemptAt: number }
  | { outcome: 'failed' | 'cancelled'; at: number; httpStatus: number | null; error: string };

export interface AlertingStore {
  /** Throws NotFoundError for an unknown account. */
  createAlertWebhook(input: NewAlertWebhook): Promise<AlertWebhook>;
  listAlertWebhooks(accountId: string): Promise<AlertWebhook[]>;
  getAlertWebhook(accountId: string, id: string): Promise<AlertWebhook | null>;
  /** Throws NotFoundError. */
  updateAlertWebhook(accountId: string, id: string, patch: AlertWebhookPatch): Promise<AlertWebhook>;
  /**
   * Throws ConflictError (naming the policies) while a policy's mechanisms use it. Cancels its
   * pending deliveries. False if unknown.
   */
  deleteAlertWebhook(accountId: string, id: string, at: number): Promise<boolean>;

  /** Throws NotFoundError for an unknown account or a webhook id that is not one of the account's. */
  createAlertPolicy(input: NewAlertPolicy): Promise<AlertPolicy>;
  /** Every account's when `accountId` is omitted (the scanner). Oldest first. */
  listAlertPolicies(accountId?: string): Promise<AlertPolicy[]>;
  getAlertPolicy(accountId: string, id: string): Promise<AlertPolicy | null>;
  /** Throws NotFoundError (unknown policy or webhook id). */
  updateAlertPolicy(accountId: string, id: string, patch: AlertPolicyPatch): Promise<AlertPolicy>;
  /** Cancels its pending deliveries. False if unknown. */
  deleteAlertPolicy(accountId: string, id: string, at: number): Promise<boolean>;

  /** Inserts the rows whose dedupeKey is new (safe under races); returns how many were new. */
  enqueueAlertDeliveries(rows: NewAlertDelivery[]): Promise<number>;
  /**
   * Leases up to `limit` pending deliveries that are due, unleased (or whose lease lapsed), whose
   * certificate is not deleted and whose policy is enabled. Each row is claimed by one conditional
   * UPDATE, so of several notifiers exactly one gets it. Counts an attempt.
   */
  claimAlertDeliveries(claim: AlertDeliveryClaim): Promise<AlertDelivery[]>;
  /**
   * Records an attempt's result and releases the lease, only while `owner` still holds it (false
   * otherwise). delivered/retry/failed also stamp the webhook's last_success/last_failure.
   */
  finishAlertDelivery(id: string, owner: string, result: AlertAttemptResult): Promise<boolean>;
  /** Cancels pending, unleased deliveries (a leased one is being sent; its sender decides). */
  cancelAlertDeliveries(ids: string[], reason: string, at: number): Promise<number>;
  listAlertDeliveries(filter?: AlertDeliveryFilter): Promise<AlertDelivery[]>;
  /**
   * Page `page` (from 1) of `perPage` rows of the same order as listAlertDeliveries, and the total the
   * filter matches, read together (one read transaction). A page past the end has no rows.
   */
  pageAlertDeliveries(filter: Omit<AlertDeliveryFilter, 'limit'>, page: number, perPage: number): Promise<AlertDeliveryPage>;
}
