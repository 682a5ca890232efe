// Test PKI and hand-built ConfigData for edge tests: an installation (origin-pull CA, global
// client certificate, edge CA), extra CAs and leaves, and a small builder of zones, records,
// certificates and associations with sealed keys, as a store would hand them to the edge.
import { X509Certificate, randomBytes, randomUUID } from 'node:crypto';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/index.ts';
import { SecretBox } from '../../src/store/index.ts';
import type {
  CertKind,
  ConfigData,
  DnsRecord,
  EdgeCertificate,
  HostnameAssociation,
  InstallationPki,
  OnOff,
  SslMode,
  StoredCertificate,
  Zone,
  ZoneEdgeSettings,
} from '../../src/domain/index.ts';
import { DEFAULT_EDGE_SETTINGS } from '../../src/domain/index.ts';

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}

export function newCa(commonName: string, days?: number): Promise<PemPair> {
  return createCa({ commonName, keyType: 'p256', days });
}

export function clientCert(ca: PemPair, commonName: string, window?: { notBefore?: Date; notAfter?: Date }): Promise<PemPair> {
  return issueCertificate({ ca, commonName, usage: 'client', keyType: 'p256', ...window });
}

export function serverCert(ca: PemPair, names: string[], window?: { notBefore?: Date; notAfter?: Date }): Promise<PemPair> {
  return issueCertificate({ ca, commonName: names[0], dnsNames: names, usage: 'server', keyType: 'p256', ...window });
}

export interface TestInstallation {
  secretBox: SecretBox;
  originPullCa: PemPair;
  global: PemPair;
  edgeCa: PemPair;
  pki: InstallationPki;
}

export async function newInstallation(): Promise<TestInstallation> {
  const secretBox = new SecretBox(randomBytes(32));
  const originPullCa = await newCa('originpull test origin-pull CA');
  const global = await clientCert(originPullCa, 'originpull global client');
  const edgeCa = await newCa('originpull test edge CA');
  return {
    secretBox,
    originPullCa,
    global,
    edgeCa,
    pki: {
      originPullCaPem: originPullCa.certPem,
      originPullCaKeySealed: secretBox.seal(originPullCa.keyPem),
      globalCertPem: global.certPem,
      globalKeySealed: secretBox.seal(global.keyPem),
      edgeCaPem: edgeCa.certPem,
      edgeCaKeySealed: secretBox.seal(edgeCa.keyPem),
    },
  };
}

export interface OriginPorts {
  host?: string;
  httpsPort?: number;
  httpPort?: number;
}

/** Zone settings a test may set (the edge settings merge over the defaults). */
export interface ZoneSettingsInput {
  sslMode?: SslMode;
  tlsClientAuth?: OnOff;
  aopEnabled?: boolean;
  edge?: Partial<ZoneEdgeSettings>;
}

/** Builds ConfigData by hand; every mutation bumps the version like a store commit. */
export class ConfigBuilder {
  readonly installation: TestInstallation;
  version = 1;
  zones: Zone[] = [];
  records: DnsRecord[] = [];
  certificates: StoredCertificate[] = [];
  associations: HostnameAssociation[] = [];
  edgeCertificates: EdgeCertificate[] = [];
  #uploaded = 0;

  constructor(installation: TestInstallation) {
    this.installation = installation;
  }

  zone(name: string, settings: ZoneSettingsInput = {}): Zone {
    const now = Date.now();
    const zone: Zone = {
      id: randomUUID().replaceAll('-', ''),
      accountId: 'acc',
      name,
      createdOn: now,
      modifiedOn: now,
      sslMode: settings.sslMode ?? 'full',
      sslModifiedOn: now,
      tlsClientAuth: settings.tlsClientAuth ?? 'off',
      tlsClientAuthModifiedOn: now,
      aopEnabled: settings.aopEnabled ?? false,
      aopModifiedOn: now,
      edge: { ...DEFAULT_EDGE_SETTINGS, ...settings.edge },
      edgeModifiedOn: {},
    };
    this.zones.push(zone);
    this.version++;
    return zone;
  }

  settings(zone: Zone, patch: ZoneSettingsInput): void {
    const i = this.zones.findIndex((z) => z.id === zone.id);
    const { edge, ...rest } = patch;
    this.zones[i] = { ...this.zones[i], ...rest, edge: { ...this.zones[i].edge, ...edge } };
    this.version++;
  }

  record(
    zone: Zone,
    name: string,
    origin: OriginPorts,
    opts: { proxied?: boolean; type?: 'A' | 'CNAME'; originSni?: string | null; originHostHeader?: string | null } = {},
  ): DnsRecord {
    const now = Date.now();
    const record: DnsRecord = {
      id: randomUUID().replaceAll('-', ''),
      zoneId: zone.id,
      name,
      type: opts.type ?? 'A',
      content: origin.host ?? '127.0.0.1',
      proxied: opts.proxied ?? true,
      ttl: 1,
      originHttpPort: origin.httpPort ?? 80,
      originHttpsPort: origin.httpsPort ?? 443,
      originSni: opts.originSni ?? null,
      originHostHeader: opts.originHostHeader ?? null,
      comment: null,
      createdOn: now,
      modifiedOn: now,
    };
    this.records.push(record);
    this.version++;
    return record;
  }

  cert(zone: Zone, kind: CertKind, pair: PemPair): StoredCertificate {
    const x = new X509Certificate(pair.certPem);
    this.version++;
    const cert: StoredCertificate = {
      id: randomUUID(),
      zoneId: zone.id,
      kind,
      certificatePem: pair.certPem,
      privateKeySealed: this.installation.secretBox.seal(pair.keyPem),
      issuer: x.issuer,
      serialNumber: BigInt('0x' + x.serialNumber).toString(10),
      signature: 'ECDSAWithSHA256',
      fingerprintSha256: fingerprintOf(pair.certPem),
      notBefore: Date.parse(x.validFrom),
      expiresOn: Date.parse(x.validTo),
      // Strictly increasing, so "newest zone certificate" is deterministic within one test.
      uploadedOn: Date.now() + this.#uploaded++,
      deployVersion: this.version,
      deleteVersion: null,
      deleteRequestedOn: null,
    };
    this.certificates.push(cert);
    return cert;
  }

  /** A custom edge certificate for the names of `pair`'s subjectAltName. */
  edgeCert(zone: Zone, pair: PemPair, opts: { priority?: number; chainPem?: string } = {}): EdgeCertificate {
    const x = new X509Certificate(pair.certPem);
    this.version++;
    const now = Date.now() + this.#uploaded++;
    const cert: EdgeCertificate = {
      id: randomUUID(),
      zoneId: zone.id,
      certificatePem: pair.certPem + (opts.chainPem ?? ''),
      privateKeySealed: this.installation.secretBox.seal(pair.keyPem),
      bundleMethod: 'force',
      hosts: (x.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
      issuer: x.issuer,
      serialNumber: BigInt('0x' + x.serialNumber).toString(10),
      signature: 'ECDSAWithSHA256',
      fingerprintSha256: fingerprintOf(pair.certPem),
      notBefore: Date.parse(x.validFrom),
      expiresOn: Date.parse(x.validTo),
      uploadedOn: now,
      modifiedOn: now,
      priority: opts.priority ?? 0,
      deployVersion: this.version,
      deleteVersion: null,
      deleteRequestedOn: null,
    };
    this.edgeCertificates.push(cert);
    return cert;
  }

  deleteCert(cert: StoredCertificate): void {
    this.certificates = this.certificates.filter((c) => c.id !== cert.id);
    this.version++;
  }

  associate(zone: Zone, hostname: string, cert: StoredCertificate, enabled = true): void {
    this.associations = this.associations.filter((a) => !(a.zoneId === zone.id && a.hostname === hostname));
    this.version++;
    this.associations.push({ zoneId: zone.id, hostname, certId: cert.id, enabled, createdAt: Date.now(), updatedAt: Date.now(), version: this.version });
  }

  build(): ConfigData {
    return structuredClone({
      version: this.version,
      zones: this.zones,
      records: this.records,
      certificates: this.certificates,
      associations: this.associations,
      edgeCertificates: this.edgeCertificates,
      pki: this.installation.pki,
    });
  }
}
