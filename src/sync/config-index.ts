// The configuration an edge node holds, grouped by zone, so that loaded changes replace whole
// zones (the store's unit of change: see Store.loadConfigChanges) and the snapshot builder can
// rebuild only those.
// Tested in test/sync/build-snapshot.test.ts and test/store/contract.ts (loadConfigChanges).
import type {
  AcmeChallenge,
  CertificatePack,
  ConfigChanges,
  ConfigData,
  DnsRecord,
  EdgeCertificate,
  HostnameAssociation,
  InstallationPki,
  StoredCertificate,
  Zone,
} from '../domain/index.ts';

export interface ZoneConfig {
  readonly zone: Zone;
  readonly records: readonly DnsRecord[];
  /** Not marked for deletion; newest upload first, as the store lists them. */
  readonly certificates: readonly StoredCertificate[];
  readonly associations: readonly HostnameAssociation[];
  /** Custom edge certificates not marked for deletion, in the store's order. */
  readonly edgeCertificates: readonly EdgeCertificate[];
  /** ACME certificate packs holding a certificate, not marked for deletion. */
  readonly certificatePacks: readonly CertificatePack[];
  /** Challenges the edges answer while a CA validates. */
  readonly acmeChallenges: readonly AcmeChallenge[];
}

export class ConfigIndex {
  version: number;
  pki: InstallationPki;
  /** In the store's order at the first load; changed zones keep their place, new ones go last. */
  readonly zones = new Map<string, ZoneConfig>();

  private constructor(version: number, pki: InstallationPki) {
    this.version = version;
    this.pki = pki;
  }

  static of(data: ConfigData): ConfigIndex {
    const index = new ConfigIndex(data.version, data.pki);
    index.#put(data);
    return index;
  }

  /**
   * Applies changes loaded after this index's version. Returns the ids of the zones changed or
   * removed, and whether the installation's certificates changed (which touches every zone).
   */
  apply(changes: ConfigChanges): { zoneIds: Set<string>; pkiChanged: boolean } {
    if (changes.since !== this.version) throw new Error(`changes since version ${changes.since} do not follow version ${this.version}`);
    const zoneIds = new Set<string>();
    for (const id of changes.removedZoneIds) if (this.zones.delete(id)) zoneIds.add(id);
    for (const id of this.#put(changes)) zoneIds.add(id);
    // Kept as the same object while unchanged: the snapshot builder compares by identity.
    const pkiChanged = !samePki(this.pki, changes.pki);
    if (pkiChanged) this.pki = changes.pki;
    this.version = changes.version;
    return { zoneIds, pkiChanged };
  }

  /** The flat form the store loads and the last-known file keeps. */
  toData(): ConfigData {
    const data: ConfigData = {
      version: this.version,
      zones: [],
      records: [],
      certificates: [],
      associations: [],
      edgeCertificates: [],
      pki: this.pki,
      certificatePacks: [],
      acmeChallenges: [],
    };
    for (const z of this.zones.values()) {
      data.zones.push(z.zone);
      for (const r of z.records) data.records.push(r);
      for (const c of z.certificates) data.certificates.push(c);
      for (const a of z.associations) data.associations.push(a);
      for (const e of z.edgeCertificates) data.edgeCertificates.push(e);
      for (const p of z.certificatePacks) data.certificatePacks!.push(p);
      for (const c of z.acmeChallenges) data.acmeChallenges!.push(c);
    }
    return data;
  }

  /** Sets each zone of `data` whole, from its rows; returns the zones' ids. */
  #put(data: ConfigData): string[] {
    const groups = new Map<
      string,
      {
        zone: Zone;
        records: DnsRecord[];
        certificates: StoredCertificate[];
        associations: HostnameAssociation[];
        edgeCertificates: EdgeCertificate[];
        certificatePacks: CertificatePack[];
        acmeChallenges: AcmeChallenge[];
      }
    >();
    for (const zone of data.zones) {
      groups.set(zone.id, { zone, records: [], certificates: [], associations: [], edgeCertificates: [], certificatePacks: [], acmeChallenges: [] });
    }
    for (const r of data.records) groups.get(r.zoneId)?.records.push(r);
    for (const c of data.certificates) if (c.deleteVersion === null) groups.get(c.zoneId)?.certificates.push(c);
    for (const a of data.associations) groups.get(a.zoneId)?.associations.push(a);
    for (const e of data.edgeCertificates) if (e.deleteVersion === null) groups.get(e.zoneId)?.edgeCertificates.push(e);
    for (const p of data.certificatePacks ?? []) if (p.deleteVersion === null && p.certificate !== null) groups.get(p.zoneId)?.certificatePacks.push(p);
    for (const c of data.acmeChallenges ?? []) groups.get(c.zoneId)?.acmeChallenges.push(c);
    for (const [id, group] of groups) this.zones.set(id, group);
    return [...groups.keys()];
  }
}

function samePki(a: InstallationPki, b: InstallationPki): boolean {
  return (
    a.globalCertPem === b.globalCertPem &&
    a.globalKeySealed === b.globalKeySealed &&
    a.edgeCaPem === b.edgeCaPem &&
    a.edgeCaKeySealed === b.edgeCaKeySealed &&
    a.originPullCaPem === b.originPullCaPem &&
    (a.ticketKeysSealed ?? null) === (b.ticketKeysSealed ?? null)
  );
}
