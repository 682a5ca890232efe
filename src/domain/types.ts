// The product's nouns. Plain data only: every module agrees on these shapes, stores persist them,
// the API renders them, and the snapshot builder turns them into what the edge serves.
// Times are epoch milliseconds (numbers); the API formats them as RFC 3339.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (the contract round-trips these shapes).
import type { AcmeChallenge, CertificatePack } from './certificate-packs.ts';
import type { ZoneEdgeSettingKey, ZoneEdgeSettings } from './zone-settings.ts';

export { SSL_MODES, CERT_STATUSES } from './basics.ts';
export type { SslMode, OnOff, CertStatus, EdgeNode } from './basics.ts';
import type { OnOff, SslMode } from './basics.ts';

/** Zone-level certificates and per-hostname certificates live in separate collections. */
export type CertKind = 'zone' | 'hostname';

/** Which AOP level supplied the client certificate for a request. */
export type AopLevel = 'hostname' | 'zone' | 'global' | 'none';

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME';

export type TokenPermission = 'read' | 'edit';

export interface Account {
  id: string;
  name: string;
  createdOn: number;
}

export interface Zone {
  id: string;
  accountId: string;
  name: string;
  createdOn: number;
  modifiedOn: number;
  /** `ssl` zone setting: encryption mode towards the origin. Default `full`. */
  sslMode: SslMode;
  sslModifiedOn: number;
  /** `tls_client_auth` zone setting: global AOP with the installation certificate. Default `off`. */
  tlsClientAuth: OnOff;
  tlsClientAuthModifiedOn: number;
  /** `origin_tls_client_auth/settings.enabled`: zone-level AOP. Default false. */
  aopEnabled: boolean;
  aopModifiedOn: number;
  /** How the edge meets the zone's visitors (zone-settings.ts). */
  edge: ZoneEdgeSettings;
  /** When each of those settings was last changed; absent while it keeps its default. */
  edgeModifiedOn: Partial<Record<ZoneEdgeSettingKey, number>>;
}

export interface DnsRecord {
  id: string;
  zoneId: string;
  /** Fully qualified, lower case, no trailing dot; may start with `*.`. */
  name: string;
  type: DnsRecordType;
  /** The origin: an IPv4/IPv6 address or (CNAME) a host name. */
  content: string;
  proxied: boolean;
  ttl: number;
  /** Extension fields: origin ports for plain HTTP and for TLS. */
  originHttpPort: number;
  originHttpsPort: number;
  /**
   * Extension fields (origin overrides): the TLS server name sent to the origin — and the name its
   * certificate is verified against in `strict` — instead of the visitor's host name; and the
   * `Host` header sent to it instead of the visitor's. Null: the visitor's host name.
   */
  originSni: string | null;
  originHostHeader: string | null;
  comment: string | null;
  createdOn: number;
  modifiedOn: number;
}

export interface StoredCertificate {
  id: string;
  zoneId: string;
  kind: CertKind;
  /** The PEM as uploaded: leaf first, then any intermediates. */
  certificatePem: string;
  /** The private key sealed by the secret box (never the plain PEM). */
  privateKeySealed: string;
  issuer: string;
  /** Decimal serial number. */
  serialNumber: string;
  /** Cloudflare's naming, e.g. `SHA256WithRSA`. */
  signature: string;
  /** Leaf SHA-256 fingerprint, lower-case hex without colons. */
  fingerprintSha256: string;
  notBefore: number;
  expiresOn: number;
  uploadedOn: number;
  /** Config version whose commit created this certificate. */
  deployVersion: number;
  /** Config version whose commit requested deletion; null while not deleted. */
  deleteVersion: number | null;
  /** When deletion was requested (for deletion deadlines). */
  deleteRequestedOn: number | null;
}

/** How the chain is served to visitors (Cloudflare's `bundle_method`); see edge-cert-validate.ts. */
export const BUNDLE_METHODS = ['ubiquitous', 'optimal', 'force'] as const;
export type BundleMethod = (typeof BUNDLE_METHODS)[number];

/** A custom edge certificate: what visitors' browsers see on HTTPS for the names its SANs cover. */
export interface EdgeCertificate {
  id: string;
  zoneId: string;
  /** Leaf first, then the chain, as validated (re-encoded PEM blocks). */
  certificatePem: string;
  /** The private key sealed by the secret box (never the plain PEM). */
  privateKeySealed: string;
  bundleMethod: BundleMethod;
  /** The DNS names of the leaf's subjectAltName, lower case, in certificate order. */
  hosts: string[];
  issuer: string;
  serialNumber: string;
  signature: string;
  fingerprintSha256: string;
  notBefore: number;
  expiresOn: number;
  uploadedOn: number;
  modifiedOn: number;
  /** Among certificates covering the same name, the higher priority is served (ties: newest upload). */
  priority: number;
  /** Config version whose commit created (or last changed) this certificate. */
  deployVersion: number;
  deleteVersion: number | null;
  deleteRequestedOn: number | null;
}

export interface HostnameAssociation {
  zoneId: string;
  hostname: string;
  certId: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** Config version whose commit last changed this association. */
  version: number;
}

export interface ApiToken {
  id: string;
  name: string;
  /** SHA-256 of the token secret, hex. The secret itself is never stored. */
  secretHash: string;
  /** Zones this token may touch; null means every zone (and account-level resources). */
  zoneIds: string[] | null;
  permission: TokenPermission;
  createdOn: number;
  /** The installation's admin token (created at first start). */
  admin: boolean;
}

/** Key material of this installation, created on first start and shared by every node. */
export interface InstallationPki {
  /** Origin-pull CA: users install its PEM at their origins (global AOP). */
  originPullCaPem: string;
  originPullCaKeySealed: string;
  /** Global client certificate, signed by the origin-pull CA, presented under `tls_client_auth: on`. */
  globalCertPem: string;
  globalKeySealed: string;
  /** Edge CA: signs the edge certificates visitors see on HTTPS. */
  edgeCaPem: string;
  edgeCaKeySealed: string;
  /** Visitor session-ticket key ring (ticket-keys.ts), sealed; null or absent until first made. */
  ticketKeysSealed?: string | null;
  /** When the ring last rotated (ms); null or absent until first made. */
  ticketKeysRotatedOn?: number | null;
}

/**
 * Everything an edge needs, read in one consistent transaction. Keys stay sealed: the snapshot
 * builder opens them, so no plain private key ever passes through the store layer.
 */
export interface ConfigData {
  version: number;
  zones: Zone[];
  records: DnsRecord[];
  /** Certificates not marked for deletion. */
  certificates: StoredCertificate[];
  associations: HostnameAssociation[];
  /** Custom edge certificates not marked for deletion. */
  edgeCertificates: EdgeCertificate[];
  pki: InstallationPki;
  /** ACME certificate packs not marked for deletion (absent: none, e.g. an older last-known file). */
  certificatePacks?: CertificatePack[];
  /** ACME challenges the edges answer while a CA validates a name. */
  acmeChallenges?: AcmeChallenge[];
}

/**
 * What changed after version `since`: zones, records, certificates and associations hold only the
 * zones changed since then, each whole; removedZoneIds the zones deleted since then.
 */
export interface ConfigChanges extends ConfigData {
  since: number;
  removedZoneIds: string[];
}
