// ConfigData → Snapshot. Pure but for crypto: opens sealed keys and reads certificate facts once,
// resolves the AOP level per hostname, and precomputes every Route so the edge only does Map.get.
// Identities (opened keys + lazily made TLS contexts) are cached across builds by certificate id +
// fingerprint, so a rebuild after a small change costs little more than walking the records.
import { X509Certificate } from 'node:crypto';
import {
  aopApplies,
  newestZoneCertificate,
  resolveAop,
  type AopChoice,
  type AopLevel,
  type AopReason,
  type ConfigData,
  type DnsRecord,
  type HostnameAssociation,
  type StoredCertificate,
  type Zone,
} from '../domain/index.ts';
import type { SecretBox } from '../store/index.ts';
import {
  ClientIdentity,
  originTarget,
  peerKeyOf,
  type AopPick,
  type EdgeCaMaterial,
  type OriginTarget,
  type PeerKey,
  type Route,
  type Snapshot,
} from '../edge/index.ts';

interface PemFacts {
  fingerprint: string;
  notAfter: number;
}

/** Survives between builds; hand the same one to every build of a node. */
export class SnapshotBuildCache {
  readonly #identities = new Map<string, ClientIdentity>();
  readonly #pemFacts = new Map<string, PemFacts>();
  #edgeCa: EdgeCaMaterial | null = null;
  #edgeCaSealed = '';

  identity(key: string, make: () => ClientIdentity, used: Set<string>): ClientIdentity {
    used.add(key);
    let identity = this.#identities.get(key);
    if (identity === undefined) {
      identity = make();
      this.#identities.set(key, identity);
    }
    return identity;
  }

  pemFacts(pem: string): PemFacts {
    let facts = this.#pemFacts.get(pem);
    if (facts === undefined) {
      const cert = new X509Certificate(pem);
      facts = { fingerprint: cert.fingerprint256.replaceAll(':', '').toLowerCase(), notAfter: Date.parse(cert.validTo) };
      if (this.#pemFacts.size > 16) this.#pemFacts.clear();
      this.#pemFacts.set(pem, facts);
    }
    return facts;
  }

  edgeCa(certPem: string, keySealed: string, secretBox: SecretBox): EdgeCaMaterial {
    if (this.#edgeCa === null || this.#edgeCa.certPem !== certPem || this.#edgeCaSealed !== keySealed) {
      this.#edgeCa = Object.freeze({ certPem, keyPem: secretBox.open(keySealed), fingerprint: this.pemFacts(certPem).fingerprint });
      this.#edgeCaSealed = keySealed;
    }
    return this.#edgeCa;
  }

  /** Forgets identities the latest build did not use (deleted or replaced certificates). */
  prune(used: Set<string>): void {
    for (const key of this.#identities.keys()) if (!used.has(key)) this.#identities.delete(key);
  }

  get size(): number {
    return this.#identities.size;
  }
}

export interface BuildSnapshotOptions {
  cache?: SnapshotBuildCache;
  now?: number;
}

const GLOBAL_CERT_ID = 'global';

interface ZoneIndex {
  zone: Zone;
  zoneCertificate: StoredCertificate | undefined;
  hostnameCertsById: Map<string, StoredCertificate>;
  associations: Map<string, HostnameAssociation>;
}

export function buildSnapshot(data: ConfigData, secretBox: SecretBox, opts: BuildSnapshotOptions = {}): Snapshot {
  const cache = opts.cache ?? new SnapshotBuildCache();
  const used = new Set<string>();
  const problems: string[] = [];

  const zones = indexZones(data);
  const origins = new Map<string, OriginTarget>();
  const originFor = (scheme: 'http' | 'https', host: string, port: number): OriginTarget => {
    const key = `${scheme}|${host}|${port}`;
    let target = origins.get(key);
    if (target === undefined) {
      target = originTarget(scheme, host, port);
      origins.set(key, target);
    }
    return target;
  };

  let globalIdentity: ClientIdentity | null | undefined;
  const globalFor = (): ClientIdentity | null => {
    if (globalIdentity !== undefined) return globalIdentity;
    globalIdentity = null;
    try {
      const facts = cache.pemFacts(data.pki.globalCertPem);
      globalIdentity = cache.identity(
        `${GLOBAL_CERT_ID}:${facts.fingerprint}`,
        () =>
          new ClientIdentity({
            certId: GLOBAL_CERT_ID,
            kind: 'global',
            fingerprint: facts.fingerprint,
            notAfter: facts.notAfter,
            chainPem: data.pki.globalCertPem,
            keyPem: secretBox.open(data.pki.globalKeySealed),
          }),
        used,
      );
    } catch (err) {
      problems.push(`global certificate unusable: ${(err as Error).message}`);
    }
    return globalIdentity;
  };

  const identityFor = (cert: StoredCertificate): ClientIdentity | null => {
    try {
      return cache.identity(
        `${cert.id}:${cert.fingerprintSha256}`,
        () =>
          new ClientIdentity({
            certId: cert.id,
            kind: cert.kind,
            fingerprint: cert.fingerprintSha256,
            notAfter: cert.expiresOn,
            chainPem: cert.certificatePem,
            keyPem: secretBox.open(cert.privateKeySealed),
          }),
        used,
      );
    } catch (err) {
      problems.push(`certificate ${cert.id} unusable: ${(err as Error).message}`);
      return null;
    }
  };

  // Routes that present the same certificate (or none) for the same reason share one AopPick:
  // certId and fingerprint follow from the certificate, or from the level without one.
  const picks = new Map<StoredCertificate | AopLevel, Map<AopReason, AopPick>>();
  const pickFor = (choice: AopChoice, certId: string | null, fingerprint: string | null): AopPick => {
    const by = choice.certificate ?? choice.level;
    let byReason = picks.get(by);
    if (byReason === undefined) picks.set(by, (byReason = new Map()));
    let pick = byReason.get(choice.reason);
    if (pick === undefined) byReason.set(choice.reason, (pick = Object.freeze({ level: choice.level, reason: choice.reason, certId, fingerprint })));
    return pick;
  };

  const makeRoute = (record: DnsRecord, z: ZoneIndex, name: string, wildcard: boolean): Route => {
    const mode = z.zone.sslMode;
    const tls = aopApplies(mode);
    const origin = tls ? originFor('https', record.content, record.originHttpsPort) : originFor('http', record.content, record.originHttpPort);
    const choice = resolveAop({
      zone: z.zone,
      association: z.associations.get(name),
      hostnameCertsById: z.hostnameCertsById,
      zoneCertificate: z.zoneCertificate,
    });
    let identity: ClientIdentity | null = null;
    let certId: string | null = null;
    let fingerprint: string | null = null;
    if (choice.level === 'global') {
      identity = globalFor();
      certId = GLOBAL_CERT_ID;
    } else if (choice.certificate !== null) {
      identity = identityFor(choice.certificate);
      certId = choice.certificate.id;
      fingerprint = choice.certificate.fingerprintSha256;
    }
    if (identity !== null) fingerprint = identity.fingerprint;
    const aop = pickFor(choice, certId, fingerprint);
    const servername = tls && !wildcard ? name : null;
    const peerKey = peerKeyOf(origin, servername, mode, fingerprint);
    peerKeys.add(peerKey);
    if (identity !== null) identities.add(identity);
    return Object.freeze({
      name,
      wildcard,
      zoneId: z.zone.id,
      zoneName: z.zone.name,
      recordId: record.id,
      sslMode: mode,
      origin,
      servername,
      aop,
      identity,
      peerKey,
    });
  };

  const exact = new Map<string, Route>();
  const wildcards = new Map<string, Route>();
  const peerKeys = new Set<PeerKey>();
  const identities = new Set<ClientIdentity>();
  const wildcardRecords = new Map<string, DnsRecord>();
  for (const record of data.records) {
    if (!record.proxied) continue;
    const z = zones.get(record.zoneId);
    if (z === undefined) continue;
    const wildcard = record.name.startsWith('*.');
    const route = makeRoute(record, z, record.name, wildcard);
    if (wildcard) {
      wildcards.set(record.name, route);
      wildcardRecords.set(record.name, record);
    } else {
      exact.set(record.name, route);
    }
  }

  // A per-hostname association below a wildcard record gets its own exact route, so the
  // hostname's certificate (or its disabled association) applies to just that name.
  if (wildcards.size > 0) {
    for (const z of zones.values()) {
      for (const hostname of z.associations.keys()) {
        if (exact.has(hostname) || hostname.startsWith('*.')) continue;
        const template = nearestWildcard(wildcards, hostname);
        if (template === undefined || template.zoneId !== z.zone.id) continue;
        exact.set(hostname, makeRoute(wildcardRecords.get(template.name)!, z, hostname, false));
      }
    }
  }

  let edgeCa: EdgeCaMaterial | null = null;
  try {
    edgeCa = cache.edgeCa(data.pki.edgeCaPem, data.pki.edgeCaKeySealed, secretBox);
  } catch (err) {
    problems.push(`edge CA unusable: ${(err as Error).message}`);
  }

  cache.prune(used);
  return Object.freeze({
    version: data.version,
    builtAt: opts.now ?? Date.now(),
    exact,
    wildcards,
    edgeCa,
    peerKeys,
    identities,
    problems: Object.freeze(problems),
  });
}

function indexZones(data: ConfigData): Map<string, ZoneIndex> {
  const zones = new Map<string, ZoneIndex>();
  for (const zone of data.zones) {
    zones.set(zone.id, { zone, zoneCertificate: undefined, hostnameCertsById: new Map(), associations: new Map() });
  }
  const zoneCerts = new Map<string, StoredCertificate[]>();
  for (const cert of data.certificates) {
    if (cert.deleteVersion !== null) continue;
    const z = zones.get(cert.zoneId);
    if (z === undefined) continue;
    if (cert.kind === 'hostname') {
      z.hostnameCertsById.set(cert.id, cert);
    } else {
      let list = zoneCerts.get(cert.zoneId);
      if (list === undefined) zoneCerts.set(cert.zoneId, (list = []));
      list.push(cert);
    }
  }
  for (const [zoneId, list] of zoneCerts) zones.get(zoneId)!.zoneCertificate = newestZoneCertificate(list);
  for (const a of data.associations) zones.get(a.zoneId)?.associations.set(a.hostname, a);
  return zones;
}

function nearestWildcard(wildcards: ReadonlyMap<string, Route>, hostname: string): Route | undefined {
  let dot = hostname.indexOf('.');
  while (dot > 0) {
    const route = wildcards.get('*' + hostname.slice(dot));
    if (route !== undefined) return route;
    dot = hostname.indexOf('.', dot + 1);
  }
  return undefined;
}
