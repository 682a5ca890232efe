// The one seam between the control plane and persistence. SqliteStore and PostgresStore both
// implement it and one contract suite (test/store/contract.ts) runs against both.
//
// Rules every implementation keeps:
// - Every write that changes what an edge serves runs in ONE transaction that also bumps the
//   config version; the new version is stamped on the rows it touched (deployVersion, version…).
// - Writes that can violate a limit or a reference check do so inside that transaction, so a
//   failure stores nothing (throwing one of the errors in ./errors.ts).
// - Private keys arrive sealed (see secret-box.ts); the store never sees a plain key.
import type {
  Account,
  ApiToken,
  CertKind,
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
} from '../domain/index.ts';

export interface NewZone {
  accountId: string;
  name: string;
}

export interface ZoneSettingsPatch {
  sslMode?: SslMode;
  tlsClientAuth?: OnOff;
  aopEnabled?: boolean;
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

export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Applies pending migrations; safe when several nodes call it at once. */
  migrate(): Promise<void>;
  /** Graceful: stops the change feed and releases connections. */
  close(): Promise<void>;

  // ── config version and change feed ─────────────────────────────────────────
  currentVersion(): Promise<number>;
  /**
   * Calls `listener` with the new version after any committed write, from this process or
   * another node (SQLite: polling the version row; PostgreSQL: LISTEN/NOTIFY plus a periodic
   * check). Returns an unsubscribe function. Notifications may coalesce; never reorder.
   */
  onChange(listener: ChangeListener): () => void;
  /** Everything an edge needs, read in one consistent transaction. */
  loadConfig(): Promise<ConfigData>;

  // ── installation ───────────────────────────────────────────────────────────
  getPki(): Promise<InstallationPki | null>;
  /** Stores `pki` unless one exists already; returns the one that won (safe under races). */
  initPki(pki: InstallationPki): Promise<InstallationPki>;
  /** Opaque key/value for installation facts (e.g. the secret-key check value). */
  getMeta(key: string): Promise<string | null>;
  /** Sets `key` unless set; returns the value that won. */
  initMeta(key: string, value: string): Promise<string>;

  // ── accounts ───────────────────────────────────────────────────────────────
  /** Creates the default account on first call; returns it afterwards. */
  ensureDefaultAccount(): Promise<Account>;
  listAccounts(): Promise<Account[]>;
  getAccount(id: string): Promise<Account | null>;

  // ── zones and settings ─────────────────────────────────────────────────────
  /** Throws ConflictError when a zone of that name exists. */
  createZone(input: NewZone): Promise<Zone>;
  listZones(filter?: { name?: string; ids?: string[] }): Promise<Zone[]>;
  getZone(id: string): Promise<Zone | null>;
  /** Deletes the zone with its records, certificates and associations. False if unknown. */
  deleteZone(id: string): Promise<boolean>;
  /** Throws NotFoundError for an unknown zone. */
  updateZoneSettings(id: string, patch: ZoneSettingsPatch): Promise<Zone>;

  // ── DNS records (proxied hostnames → origins) ─────────────────────────────
  /** Throws ConflictError when a record of that name exists in any zone (hostnames route uniquely). */
  createDnsRecord(input: NewDnsRecord): Promise<DnsRecord>;
  listDnsRecords(zoneId: string, filter?: DnsRecordFilter): Promise<DnsRecord[]>;
  getDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null>;
  /** Throws NotFoundError / ConflictError. */
  updateDnsRecord(zoneId: string, id: string, patch: DnsRecordPatch): Promise<DnsRecord>;
  deleteDnsRecord(zoneId: string, id: string): Promise<DnsRecord | null>;

  // ── AOP certificates ───────────────────────────────────────────────────────
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
  /** Physically removes certificates whose deletion every edge has applied (deleteVersion ≤ version). */
  purgeDeletedCertificates(appliedByAllVersion: number): Promise<number>;

  // ── hostname associations ──────────────────────────────────────────────────
  /**
   * Applies the whole batch in one transaction: enabled true/false upserts, null removes.
   * Throws NotFoundError for an unknown or deletion-requested hostname certificate of this
   * zone, LimitError over `maxPerCertificate`. Returns the resulting association per change
   * (for a removal, the association as it was, or null when there was none).
   */
  applyAssociations(zoneId: string, changes: AssociationChange[], limits: AssociationLimits): Promise<(HostnameAssociation | null)[]>;
  getAssociation(zoneId: string, hostname: string): Promise<HostnameAssociation | null>;
  listAssociations(zoneId: string): Promise<HostnameAssociation[]>;

  // ── API tokens ─────────────────────────────────────────────────────────────
  createToken(input: NewApiToken): Promise<ApiToken>;
  findTokenBySecretHash(secretHash: string): Promise<ApiToken | null>;
  listTokens(): Promise<ApiToken[]>;
  deleteToken(id: string): Promise<boolean>;

  // ── edges ──────────────────────────────────────────────────────────────────
  /** Registers or refreshes an edge (lastHeartbeat = now). */
  reportEdge(report: EdgeReport): Promise<void>;
  listEdges(): Promise<EdgeNode[]>;
  /** Removes edges silent for longer than `olderThanMs`. */
  forgetEdges(olderThanMs: number): Promise<number>;
}
