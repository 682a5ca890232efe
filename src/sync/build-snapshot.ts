// ConfigData → Snapshot. Pure but for crypto: opens sealed keys and reads certificate facts once,
// resolves the AOP level per hostname, and precomputes every Route so the edge only does Map.get.
// Identities (opened keys + lazily made TLS contexts) are cached across builds by certificate id +
// fingerprint. A SnapshotBuilder also keeps each zone's routes, so a build after a change rebuilds
// only the zones that changed and patches the previous snapshot's maps (a full build of a large
// installation holds the edge's event loop far longer than a one-zone change: bench/scale.ts).
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import {
  aopApplies,
  compareAcmeCertificates,
  compareEdgeCertificates,
  nextNotBefore,
  selectZoneCertificate,
  servedNames,
  resolveAop,
  tlsRange,
  visitorResponseHeaders,
  parseTicketKeyRing,
  sealingKeyIndex,
  type AopChoice,
  type CertificatePack,
  type ConfigData,
  type DnsRecord,
  type EdgeCertificate,
  type HostnameAssociation,
  type InstallationPki,
  type StoredCertificate,
  type Zone,
} from '../domain/index.ts';
import type { SecretBox } from '../store/index.ts';
import {
  ClientIdentity,
  LayeredMap,
  ServerIdentity,
  nearestWildcard,
  originTarget,
  peerKeyOf,
  type AcmeHttpAnswer,
  type AopPick,
  type EdgeCaMaterial,
  type TicketKeys,
  type OriginTarget,
  type PeerKey,
  type Route,
  type Snapshot,
  type VisitorCertificateTable,
  type VisitorPolicy,
} from '../edge/index.ts';
import { ConfigIndex, type ZoneConfig } from './config-index.ts';

interface PemFacts {
  fingerprint: string;
  notAfter: number;
}

/** Survives between builds; hand the same one to every build of a node. */
export class SnapshotBuildCache {
  readonly #identities = new Map<string, ClientIdentity>();
  readonly #serverIdentities = new Map<string, ServerIdentity>();
  readonly #pemFacts = new Map<string, PemFacts>();
  #edgeCa: EdgeCaMaterial | null = null;
  #edgeCaSealed = '';
  #ticketKeys: TicketKeys | null = null;
  #ticketKeysSealed = '';

  identity(key: string, make: () => ClientIdentity): ClientIdentity {
    let identity = this.#identities.get(key);
    if (identity === undefined) {
      identity = make();
      this.#identities.set(key, identity);
    }
    return identity;
  }

  /** A visitor certificate's context, made once per certificate id + fingerprint. */
  serverIdentity(key: string, make: () => ServerIdentity): ServerIdentity {
    let identity = this.#serverIdentities.get(key);
    if (identity === undefined) {
      identity = make();
      this.#serverIdentities.set(key, identity);
    }
    return identity;
  }

  /** Forgets visitor certificates no zone has any more. */
  pruneServer(used: Set<string>): void {
    for (const key of this.#serverIdentities.keys()) if (!used.has(key)) this.#serverIdentities.delete(key);
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

  /** The opened ticket key ring, the same object while the sealed ring is unchanged. */
  ticketKeys(sealed: string, secretBox: SecretBox): TicketKeys {
    if (this.#ticketKeys === null || this.#ticketKeysSealed !== sealed) {
      const ring = parseTicketKeyRing(secretBox.open(sealed));
      const keys = ring.keys.map((k) => Buffer.from(k, 'base64'));
      const sealing = sealingKeyIndex(keys.length);
      this.#ticketKeys = Object.freeze({ rotateEveryMs: ring.rotateEveryMs, sealing: keys[sealing]!, accepted: Object.freeze(keys.filter((_, i) => i !== sealing)) });
      this.#ticketKeysSealed = sealed;
    }
    return this.#ticketKeys;
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

/** One full build (tests, benchmarks); an edge node keeps a SnapshotBuilder instead. */
export function buildSnapshot(data: ConfigData, secretBox: SecretBox, opts: BuildSnapshotOptions = {}): Snapshot {
  return new SnapshotBuilder(secretBox, opts.cache).build(ConfigIndex.of(data), null, opts.now);
}

/** A zone's share of a snapshot, kept until the zone changes. */
interface ZoneRoutes {
  readonly name: string;
  /** One per proxied record: exact names and wildcards. */
  readonly records: readonly Route[];
  /** Per-hostname associations below one of the zone's wildcards (see assemble). */
  readonly derived: readonly { route: Route; template: Route }[];
  /** The identities the record routes present, each once. */
  readonly identities: readonly ClientIdentity[];
  /** Cache keys of the identities the routes present. */
  readonly identityKeys: readonly string[];
  readonly usesGlobal: boolean;
  readonly problems: readonly string[];
  /** Custom edge certificates with the names each is served for. */
  readonly visitorCertificates: readonly ZoneVisitorCertificate[];
  /** The zone's ACME certificates (certificate packs holding one). */
  readonly acmeCertificates: readonly ZoneAcmeCertificate[];
  /** HTTP-01 answers by token. */
  readonly acmeHttp01: readonly (readonly [string, AcmeHttpAnswer])[];
  /** TLS-ALPN-01 challenge certificates by host name. */
  readonly acmeTlsAlpn: readonly (readonly [string, SecureContext])[];
  /** The next not_before among the zone's AOP certificates: its routes change then (null: never). */
  readonly changesAt: number | null;
}

interface ZoneAcmeCertificate {
  readonly pack: CertificatePack;
  readonly identity: ServerIdentity;
  readonly key: string;
}

interface ZoneVisitorCertificate {
  readonly cert: EdgeCertificate;
  readonly names: readonly string[];
  readonly identity: ServerIdentity;
  readonly key: string;
}

interface GlobalIdentity {
  key: string;
  identity: ClientIdentity | null;
  problem: string | null;
}

export class SnapshotBuilder {
  readonly #secretBox: SecretBox;
  readonly #cache: SnapshotBuildCache;
  readonly #zones = new Map<string, ZoneRoutes>();
  /** Shared across routes and builds: one OriginTarget per origin, one AopPick per pick. */
  readonly #origins = new Map<string, OriginTarget>();
  readonly #picks = new Map<string, AopPick>();
  readonly #policies = new Map<string, VisitorPolicy>();
  #sharedAtPrune = 0;
  #pki: InstallationPki | null = null;
  #global: GlobalIdentity | null = null;
  // The previous snapshot's, each changed into the next one's (never in place).
  #exact = new LayeredMap<string, Route>();
  #wildcards = new LayeredMap<string, Route>();
  #associated: ReadonlyMap<string, Route> = new Map();
  #peerKeys: ReadonlySet<PeerKey> = new Set();
  /** Routes per pool key, over the maps above. */
  #peerKeyCounts = new Map<PeerKey, number>();
  #visitorTables: readonly VisitorCertificateTable[] = Object.freeze([]);
  #acmeHttp01: ReadonlyMap<string, AcmeHttpAnswer> = new Map();
  #acmeTlsAlpn: ReadonlyMap<string, SecureContext> = new Map();
  /** A zone with custom edge certificates came, went or changed since the tables were made. */
  #visitorDirty = true;

  constructor(secretBox: SecretBox, cache = new SnapshotBuildCache()) {
    this.#secretBox = secretBox;
    this.#cache = cache;
  }

  /**
   * Builds the snapshot of `index`, rebuilding the routes of the zones in `changed` (null: every
   * zone) and reusing the others' from the previous build: the maps of the previous snapshot get
   * an overlay of what changed (LayeredMap), the pool keys a count per key.
   */
  build(index: ConfigIndex, changed: ReadonlySet<string> | null, now = Date.now()): Snapshot {
    if (this.#pki !== index.pki) {
      // The global certificate backs routes in any zone.
      this.#pki = index.pki;
      this.#global = null;
      changed = null;
    }
    const zoneIdsByName = new Map<string, string>();
    for (const [id, z] of index.zones) zoneIdsByName.set(z.zone.name, id);
    if (changed !== null) changed = this.#withNestedZones(index, changed, zoneIdsByName);
    const routes = new RouteChanges();
    if (changed === null) {
      this.#zones.clear();
      this.#exact = new LayeredMap();
      this.#wildcards = new LayeredMap();
      this.#associated = new Map();
      this.#peerKeyCounts = new Map();
      this.#peerKeys = new Set();
    }
    // Every removal before any addition: a name may move between zones in one set of changes.
    if (changed === null) this.#visitorDirty = true;
    for (const [id, zone] of this.#zones) {
      if (index.zones.has(id) && !changed?.has(id)) continue;
      if (hasVisitorMaterial(zone)) this.#visitorDirty = true;
      routes.remove(zone.records);
      if (!index.zones.has(id)) this.#zones.delete(id);
    }
    for (const [id, z] of index.zones) {
      if (changed !== null && !changed.has(id) && this.#zones.has(id)) continue;
      const zone = this.#zoneRoutes(z, now, zoneIdsByName);
      if (hasVisitorMaterial(zone)) this.#visitorDirty = true;
      this.#zones.set(id, zone);
      routes.add(zone.records);
    }
    if (changed === null) {
      // Nothing was removed, so the changes are the whole maps.
      this.#exact = new LayeredMap(routes.exact as Map<string, Route>);
      this.#wildcards = new LayeredMap(routes.wildcards as Map<string, Route>);
    } else {
      this.#exact = this.#exact.with(routes.exact);
      this.#wildcards = this.#wildcards.with(routes.wildcards);
    }
    return this.#assemble(index, routes.peerKeys, now);
  }

  /**
   * A name belongs to the most specific zone that exists, so a zone that comes or goes changes
   * which records of its ancestors and descendants route: those zones are rebuilt with it.
   */
  #withNestedZones(index: ConfigIndex, changed: ReadonlySet<string>, zoneIdsByName: ReadonlyMap<string, string>): ReadonlySet<string> {
    const cuts: string[] = [];
    for (const [id, z] of index.zones) if (!this.#zones.has(id)) cuts.push(z.zone.name);
    for (const [id, zone] of this.#zones) if (!index.zones.has(id)) cuts.push(zone.name);
    if (cuts.length === 0) return changed;
    const out = new Set(changed);
    for (const cut of cuts) {
      for (const [name, id] of zoneIdsByName) if (name !== cut && (name.endsWith('.' + cut) || cut.endsWith('.' + name))) out.add(id);
    }
    return out;
  }

  /**
   * The earliest time a zone's AOP choice changes without a config change (a certificate reaching
   * its not_before); null when none will. The caller rebuilds `dueZones` then.
   */
  nextChangeAt(): number | null {
    let next: number | null = null;
    for (const zone of this.#zones.values()) if (zone.changesAt !== null && (next === null || zone.changesAt < next)) next = zone.changesAt;
    return next;
  }

  /** The zones whose AOP choice may have changed by `now` (the `changed` set for build). */
  dueZones(now: number): Set<string> {
    const due = new Set<string>();
    for (const [id, zone] of this.#zones) if (zone.changesAt !== null && zone.changesAt <= now) due.add(id);
    return due;
  }

  #assemble(index: ConfigIndex, peerKeyChanges: Map<PeerKey, number>, now: number): Snapshot {
    const identities = new Set<ClientIdentity>();
    const used = new Set<string>();
    const problems: string[] = [];
    let usesGlobal = false;
    // A per-hostname association below a wildcard record gets its own route, so the hostname's
    // certificate (or its disabled association) applies to just that name; only where no record
    // has the name and the nearest wildcard of all is its own zone's. Few: rebuilt every time.
    const associated = new Map<string, Route>();
    for (const zone of this.#zones.values()) {
      for (const identity of zone.identities) identities.add(identity);
      for (const key of zone.identityKeys) used.add(key);
      for (const problem of zone.problems) problems.push(problem);
      usesGlobal ||= zone.usesGlobal;
      for (const { route, template } of zone.derived) {
        if (associated.has(route.name) || this.#exact.has(route.name) || nearestWildcard(this.#wildcards, route.name) !== template) continue;
        associated.set(route.name, route);
        if (route.identity !== null) identities.add(route.identity);
      }
    }
    for (const route of this.#associated.values()) countKey(peerKeyChanges, route.peerKey, -1);
    for (const route of associated.values()) countKey(peerKeyChanges, route.peerKey, 1);
    this.#associated = associated;
    this.#applyPeerKeyChanges(peerKeyChanges);
    if (usesGlobal && this.#global !== null) {
      used.add(this.#global.key);
      if (this.#global.problem !== null) problems.unshift(this.#global.problem);
    }

    let edgeCa: EdgeCaMaterial | null = null;
    try {
      edgeCa = this.#cache.edgeCa(index.pki.edgeCaPem, index.pki.edgeCaKeySealed, this.#secretBox);
    } catch (err) {
      problems.push(`edge CA unusable: ${(err as Error).message}`);
    }
    let ticketKeys: TicketKeys | null = null;
    try {
      if (index.pki.ticketKeysSealed) ticketKeys = this.#cache.ticketKeys(index.pki.ticketKeysSealed, this.#secretBox);
    } catch (err) {
      problems.push(`session-ticket keys unusable: ${(err as Error).message}`);
    }
    this.#cache.prune(used);
    this.#pruneShared();
    if (this.#visitorDirty) this.#visitorTables = this.#makeVisitorTables(now);
    return Object.freeze({
      version: index.version,
      builtAt: now,
      exact: this.#exact,
      associated,
      wildcards: this.#wildcards,
      edgeCa,
      ticketKeys,
      visitorCertificates: this.#visitorTables,
      peerKeys: this.#peerKeys,
      identities,
      problems: Object.freeze(problems),
      acmeHttp01: this.#acmeHttp01,
      acmeTlsAlpn: this.#acmeTlsAlpn,
    });
  }

  /**
   * Each name's winner among the zones' custom certificates, by the rule the API explains
   * (compareEdgeCertificates), so a handshake does one Map lookup. Expiry is judged at build time.
   */
  #makeVisitorTables(now: number): readonly VisitorCertificateTable[] {
    const exact = new Map<string, ZoneVisitorCertificate>();
    const wildcard = new Map<string, ZoneVisitorCertificate>();
    const used = new Set<string>();
    for (const zone of this.#zones.values()) {
      for (const entry of zone.visitorCertificates) {
        used.add(entry.key);
        for (const name of entry.names) {
          const map = name.startsWith('*.') ? wildcard : exact;
          const holder = map.get(name);
          if (holder === undefined || compareEdgeCertificates(entry.cert, holder.cert, now) < 0) map.set(name, entry);
        }
      }
    }
    // The zones' ACME certificates come after every custom one; for a name two packs hold, the
    // unexpired one, then the newer.
    const acme = new Map<string, ZoneAcmeCertificate>();
    const http01 = new Map<string, AcmeHttpAnswer>();
    const tlsAlpn = new Map<string, SecureContext>();
    for (const zone of this.#zones.values()) {
      for (const entry of zone.acmeCertificates) {
        used.add(entry.key);
        for (const name of entry.pack.hosts) {
          const holder = acme.get(name);
          if (holder === undefined || compareAcmeCertificates(entry.pack, holder.pack, now) < 0) acme.set(name, entry);
        }
      }
      for (const [token, answer] of zone.acmeHttp01) http01.set(token, answer);
      for (const [host, context] of zone.acmeTlsAlpn) tlsAlpn.set(host, context);
    }
    this.#acmeHttp01 = http01;
    this.#acmeTlsAlpn = tlsAlpn;
    this.#cache.pruneServer(used);
    this.#visitorDirty = false;
    const identities = (m: Map<string, { identity: ServerIdentity }>) => new Map([...m].map(([name, entry]) => [name, entry.identity]));
    const acmeExact = new Map<string, ZoneAcmeCertificate>();
    const acmeWildcard = new Map<string, ZoneAcmeCertificate>();
    for (const [name, entry] of acme) (name.startsWith('*.') ? acmeWildcard : acmeExact).set(name, entry);
    return Object.freeze([
      Object.freeze({ source: 'custom' as const, exact: identities(exact), wildcard: identities(wildcard) }),
      Object.freeze({ source: 'acme' as const, exact: identities(acmeExact), wildcard: identities(acmeWildcard) }),
    ]);
  }

  /** Counts routes per pool key; the snapshot's set changes (as a copy) only when a key comes or goes. */
  #applyPeerKeyChanges(changes: Map<PeerKey, number>): void {
    const gone: PeerKey[] = [];
    const come: PeerKey[] = [];
    for (const [key, delta] of changes) {
      if (delta === 0) continue;
      const before = this.#peerKeyCounts.get(key) ?? 0;
      const after = before + delta;
      if (after === 0) this.#peerKeyCounts.delete(key);
      else this.#peerKeyCounts.set(key, after);
      if (before === 0 && after > 0) come.push(key);
      else if (before > 0 && after === 0) gone.push(key);
    }
    if (gone.length === 0 && come.length === 0) return;
    const next = new Set(this.#peerKeys); // a Set copied from a Set takes V8's fast path
    for (const key of gone) next.delete(key);
    for (const key of come) next.add(key);
    this.#peerKeys = next;
  }

  /** Forgets origins and picks no route uses any more, once they have doubled since the last time. */
  #pruneShared(): void {
    if (this.#origins.size + this.#picks.size <= 2 * this.#sharedAtPrune + 1024) return;
    const inUse = new Set<OriginTarget | AopPick>();
    for (const zone of this.#zones.values()) {
      for (const route of zone.records) inUse.add(route.origin).add(route.aop);
      for (const { route } of zone.derived) inUse.add(route.origin).add(route.aop);
    }
    for (const [key, origin] of this.#origins) if (!inUse.has(origin)) this.#origins.delete(key);
    for (const [key, pick] of this.#picks) if (!inUse.has(pick)) this.#picks.delete(key);
    this.#sharedAtPrune = this.#origins.size + this.#picks.size;
  }

  #originFor(scheme: 'http' | 'https', host: string, port: number): OriginTarget {
    const key = `${scheme}|${host}|${port}`;
    let target = this.#origins.get(key);
    if (target === undefined) this.#origins.set(key, (target = originTarget(scheme, host, port)));
    return target;
  }

  // Routes that present the same certificate (or none) for the same reason share one AopPick.
  #pickFor(choice: AopChoice, certId: string | null, fingerprint: string | null): AopPick {
    const key = `${choice.level}|${choice.reason}|${certId}|${fingerprint}`;
    let pick = this.#picks.get(key);
    if (pick === undefined) this.#picks.set(key, (pick = Object.freeze({ level: choice.level, reason: choice.reason, certId, fingerprint })));
    return pick;
  }

  /** A zone's settings as the edge applies them; equal policies are one shared object. */
  #policyFor(zone: Zone): VisitorPolicy {
    const range = tlsRange(zone.edge);
    const headers = visitorResponseHeaders(zone.edge, zone.sslMode);
    const alwaysUseHttps = zone.edge.alwaysUseHttps === 'on' && zone.sslMode !== 'off';
    const key = `${alwaysUseHttps}|${range.min}|${range.max}|${headers.https}|${headers.http}`;
    let policy = this.#policies.get(key);
    if (policy === undefined) {
      policy = Object.freeze({ alwaysUseHttps, tls: Object.freeze(range), httpsHeaders: headers.https, httpHeaders: headers.http });
      if (this.#policies.size > 1024) this.#policies.clear();
      this.#policies.set(key, policy);
    }
    return policy;
  }

  /**
   * A DNS-only record's marker: no origin is ever reached through it, so it presents nothing and
   * counts towards no pool; it is there so the more specific name wins over a proxied wildcard.
   */
  #dnsOnlyRoute(zone: Zone, record: Pick<DnsRecord, 'name' | 'id' | 'content' | 'originHttpPort'>, wildcard: boolean): Route {
    const origin = this.#originFor('http', record.content, record.originHttpPort);
    return Object.freeze({
      name: record.name,
      wildcard,
      proxied: false,
      zoneId: zone.id,
      zoneName: zone.name,
      recordId: record.id,
      sslMode: zone.sslMode,
      origin,
      servername: null,
      originHost: null,
      websockets: zone.edge.websockets === 'on',
      http2: zone.edge.http2 === 'on',
      policy: this.#policyFor(zone),
      aop: this.#pickFor({ level: 'none', reason: 'no_aop_enabled', certificate: null }, null, null),
      identity: null,
      peerKey: '',
    });
  }

  /** Where a nested zone has no record of its own: answered like a DNS-only name, never by a parent's wildcard. */
  #zoneCutRoute(zone: Zone, name: string, wildcard: boolean): Route {
    return this.#dnsOnlyRoute(zone, { name, id: '', content: zone.name, originHttpPort: 80 }, wildcard);
  }

  /** The installation's certificate, opened once per PKI (lazily: only if a route presents it). */
  #globalIdentity(): GlobalIdentity {
    if (this.#global !== null) return this.#global;
    const pki = this.#pki!;
    try {
      const facts = this.#cache.pemFacts(pki.globalCertPem);
      const key = `${GLOBAL_CERT_ID}:${facts.fingerprint}`;
      const identity = this.#cache.identity(
        key,
        () =>
          new ClientIdentity({
            certId: GLOBAL_CERT_ID,
            kind: 'global',
            fingerprint: facts.fingerprint,
            notAfter: facts.notAfter,
            chainPem: pki.globalCertPem,
            keyPem: this.#secretBox.open(pki.globalKeySealed),
          }),
      );
      this.#global = { key, identity, problem: null };
    } catch (err) {
      this.#global = { key: '', identity: null, problem: `global certificate unusable: ${(err as Error).message}` };
    }
    return this.#global;
  }

  #zoneRoutes(z: ZoneConfig, now: number, zoneIdsByName: ReadonlyMap<string, string>): ZoneRoutes {
    const identityKeys: string[] = [];
    const problems: string[] = [];
    let usesGlobal = false;
    let zoneCertificate: StoredCertificate | undefined;
    let zoneCertificateDeferred: StoredCertificate | undefined;
    const hostnameCertsById = new Map<string, StoredCertificate>();
    const zoneCerts: StoredCertificate[] = [];
    for (const cert of z.certificates) {
      if (cert.kind === 'hostname') hostnameCertsById.set(cert.id, cert);
      else zoneCerts.push(cert);
    }
    if (zoneCerts.length > 0) ({ certificate: zoneCertificate, deferred: zoneCertificateDeferred } = selectZoneCertificate(zoneCerts, now));
    const changesAt = nextNotBefore(z.certificates, now);
    const associations = new Map<string, HostnameAssociation>();
    for (const a of z.associations) associations.set(a.hostname, a);

    const identityFor = (cert: StoredCertificate): ClientIdentity | null => {
      const key = `${cert.id}:${cert.fingerprintSha256}`;
      try {
        const identity = this.#cache.identity(
          key,
          () =>
            new ClientIdentity({
              certId: cert.id,
              kind: cert.kind,
              fingerprint: cert.fingerprintSha256,
              notAfter: cert.expiresOn,
              chainPem: cert.certificatePem,
              keyPem: this.#secretBox.open(cert.privateKeySealed),
            }),
        );
        identityKeys.push(key);
        return identity;
      } catch (err) {
        problems.push(`certificate ${cert.id} unusable: ${(err as Error).message}`);
        return null;
      }
    };

    const policy = this.#policyFor(z.zone);
    const websockets = z.zone.edge.websockets === 'on';
    const http2 = z.zone.edge.http2 === 'on';
    const makeRoute = (record: DnsRecord, name: string, wildcard: boolean): Route => {
      const mode = z.zone.sslMode;
      const tls = aopApplies(mode);
      const origin = tls ? this.#originFor('https', record.content, record.originHttpsPort) : this.#originFor('http', record.content, record.originHttpPort);
      const choice = resolveAop({ zone: z.zone, association: associations.get(name), hostnameCertsById, zoneCertificate, zoneCertificateDeferred, now });
      let identity: ClientIdentity | null = null;
      let certId: string | null = null;
      let fingerprint: string | null = null;
      if (choice.level === 'global') {
        usesGlobal = true;
        identity = this.#globalIdentity().identity;
        certId = GLOBAL_CERT_ID;
      } else if (choice.certificate !== null) {
        identity = identityFor(choice.certificate);
        certId = choice.certificate.id;
        fingerprint = choice.certificate.fingerprintSha256;
      }
      if (identity !== null) fingerprint = identity.fingerprint;
      const servername = tls ? (record.originSni ?? (wildcard ? null : name)) : null;
      return Object.freeze({
        name,
        wildcard,
        proxied: true,
        zoneId: z.zone.id,
        zoneName: z.zone.name,
        recordId: record.id,
        sslMode: mode,
        origin,
        servername,
        originHost: record.originHostHeader,
        websockets,
        http2,
        policy,
        aop: this.#pickFor(choice, certId, fingerprint),
        identity,
        peerKey: peerKeyOf(origin, servername, mode, fingerprint),
      });
    };

    const records: Route[] = [];
    const wildcards = new Map<string, Route>();
    const wildcardRecords = new Map<Route, DnsRecord>();
    const names = new Set<string>();
    for (const record of z.records) {
      const wildcard = record.name.startsWith('*.');
      // Shadowed: the name belongs to a more specific zone (created after the record), which alone routes it.
      const owner = owningZoneId(wildcard ? record.name.slice(2) : record.name, zoneIdsByName);
      if (owner !== undefined && owner !== z.zone.id) continue;
      const route = record.proxied ? makeRoute(record, record.name, wildcard) : this.#dnsOnlyRoute(z.zone, record, wildcard);
      records.push(route);
      names.add(route.name);
      if (wildcard) {
        wildcards.set(route.name, route);
        wildcardRecords.set(route, record);
      }
    }
    // A zone inside another one cuts the parent's wildcards off: its apex and every name below it
    // route only through its own records, as DNS does below a delegation.
    if (parentZoneId(z.zone.name, zoneIdsByName) !== undefined) {
      for (const [name, wildcard] of [[z.zone.name, false], [`*.${z.zone.name}`, true]] as const) {
        if (!names.has(name)) records.push(this.#zoneCutRoute(z.zone, name, wildcard));
      }
    }
    const derived: { route: Route; template: Route }[] = [];
    if (wildcards.size > 0) {
      for (const hostname of associations.keys()) {
        if (names.has(hostname) || hostname.startsWith('*.')) continue;
        const template = nearestWildcard(wildcards, hostname);
        if (template === undefined) continue;
        derived.push({ route: makeRoute(wildcardRecords.get(template)!, hostname, false), template });
      }
    }
    const identities = new Set<ClientIdentity>();
    for (const route of records) if (route.identity !== null) identities.add(route.identity);
    const visitorCertificates = this.#zoneVisitorCertificates(z, problems);
    const acmeCertificates = this.#zoneAcmeCertificates(z, problems);
    const acmeHttp01: [string, AcmeHttpAnswer][] = [];
    const acmeTlsAlpn: [string, SecureContext][] = [];
    for (const c of z.acmeChallenges) {
      if (c.type === 'http-01') acmeHttp01.push([c.token, Object.freeze({ hostname: c.hostname, body: Buffer.from(c.keyAuthorization) })]);
      else if (c.certificatePem !== null && c.privateKeySealed !== null) {
        try {
          acmeTlsAlpn.push([c.hostname, createSecureContext({ cert: c.certificatePem, key: this.#secretBox.open(c.privateKeySealed), minVersion: 'TLSv1.2' })]);
        } catch (err) {
          problems.push(`ACME challenge for ${c.hostname} unusable: ${(err as Error).message}`);
        }
      }
    }
    return { name: z.zone.name, records, derived, identities: [...identities], identityKeys, usesGlobal, problems, visitorCertificates, acmeCertificates, acmeHttp01, acmeTlsAlpn, changesAt };
  }

  /** Opens each ACME certificate's key once and makes its TLS context (cached across builds). */
  #zoneAcmeCertificates(z: ZoneConfig, problems: string[]): ZoneAcmeCertificate[] {
    const out: ZoneAcmeCertificate[] = [];
    for (const pack of z.certificatePacks) {
      const cert = pack.certificate;
      if (cert === null || pack.deleteVersion !== null) continue;
      const key = `${pack.id}:${cert.fingerprintSha256}`;
      try {
        const identity = this.#cache.serverIdentity(
          key,
          () =>
            new ServerIdentity({
              certId: pack.id,
              source: 'acme',
              fingerprint: cert.fingerprintSha256,
              notAfter: cert.expiresOn,
              chainPem: cert.certificatePem,
              keyPem: this.#secretBox.open(cert.privateKeySealed),
            }),
        );
        out.push({ pack, identity, key });
      } catch (err) {
        problems.push(`certificate pack ${pack.id} unusable: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** Opens each custom edge certificate's key once and makes its TLS context (cached across builds). */
  #zoneVisitorCertificates(z: ZoneConfig, problems: string[]): ZoneVisitorCertificate[] {
    const out: ZoneVisitorCertificate[] = [];
    for (const cert of z.edgeCertificates) {
      const names = servedNames(cert.hosts, z.zone.name);
      if (names.length === 0) continue;
      const key = `${cert.id}:${cert.fingerprintSha256}`;
      try {
        const identity = this.#cache.serverIdentity(
          key,
          () =>
            new ServerIdentity({
              certId: cert.id,
              source: 'custom',
              fingerprint: cert.fingerprintSha256,
              notAfter: cert.expiresOn,
              chainPem: cert.certificatePem,
              keyPem: this.#secretBox.open(cert.privateKeySealed),
            }),
        );
        out.push({ cert, names, identity, key });
      } catch (err) {
        problems.push(`edge certificate ${cert.id} unusable: ${(err as Error).message}`);
      }
    }
    return out;
  }
}

function hasVisitorMaterial(zone: ZoneRoutes): boolean {
  return zone.visitorCertificates.length > 0 || zone.acmeCertificates.length > 0 || zone.acmeHttp01.length > 0 || zone.acmeTlsAlpn.length > 0;
}

/** What a build changes in the record maps, and by how many routes each pool key's count moves. */
class RouteChanges {
  readonly exact = new Map<string, Route | null>();
  readonly wildcards = new Map<string, Route | null>();
  readonly peerKeys = new Map<PeerKey, number>();

  remove(routes: readonly Route[]): void {
    for (const route of routes) {
      (route.wildcard ? this.wildcards : this.exact).set(route.name, null);
      if (route.proxied) countKey(this.peerKeys, route.peerKey, -1);
    }
  }

  add(routes: readonly Route[]): void {
    for (const route of routes) {
      (route.wildcard ? this.wildcards : this.exact).set(route.name, route);
      if (route.proxied) countKey(this.peerKeys, route.peerKey, 1);
    }
  }
}

/** The id of the most specific zone that `hostname` belongs to (undefined: none). */
function owningZoneId(hostname: string, zoneIdsByName: ReadonlyMap<string, string>): string | undefined {
  let name = hostname;
  for (;;) {
    const id = zoneIdsByName.get(name);
    if (id !== undefined) return id;
    const dot = name.indexOf('.');
    if (dot < 0) return undefined;
    name = name.slice(dot + 1);
  }
}

/** The nearest zone strictly above `zoneName`, if any. */
function parentZoneId(zoneName: string, zoneIdsByName: ReadonlyMap<string, string>): string | undefined {
  const dot = zoneName.indexOf('.');
  return dot < 0 ? undefined : owningZoneId(zoneName.slice(dot + 1), zoneIdsByName);
}

function countKey(counts: Map<PeerKey, number>, key: PeerKey, delta: number): void {
  counts.set(key, (counts.get(key) ?? 0) + delta);
}
