// What an edge serves: an immutable, precomputed view of the configuration. Built by
// sync/build-snapshot.ts, swapped atomically by Edge.apply(); the request path only reads it.
// Tested in test/edge/phases-routing.test.ts and test/sync/build-snapshot.test.ts.
import type { SecureContext } from 'node:tls';
import type { AopLevel, AopReason, SslMode, TlsRange } from '../domain/index.ts';
import type { ClientIdentity, VisitorCertificateTable } from './tls-material.ts';

/** Pool identity: origin address + port + scheme, SNI, SSL mode and the client certificate's SHA-256. */
export type PeerKey = string;

export interface OriginTarget {
  readonly scheme: 'http' | 'https';
  /** Address or host name as in the DNS record (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** `https://host:port` (IPv6 in brackets): names the origin in peer keys and logs. */
  readonly url: string;
}

export interface AopPick {
  readonly level: AopLevel;
  readonly reason: AopReason;
  /** Certificate id, `global` for the installation certificate, null when nothing is presented. */
  readonly certId: string | null;
  readonly fingerprint: string | null;
}

/** How a zone's visitors are met (its zone settings, made concrete); one object shared by the zone's routes. */
export interface VisitorPolicy {
  /** `always_use_https`: plain-HTTP requests get a 301 to HTTPS (not in SSL mode `off`). */
  readonly alwaysUseHttps: boolean;
  /** TLS versions visitors may use (`min_tls_version`, `tls_1_3`), enforced from the ClientHello. */
  readonly tls: Readonly<TlsRange>;
  /** Header lines (each ending CRLF, '' for none) added to answers on HTTPS and on plain HTTP. */
  readonly httpsHeaders: string;
  readonly httpHeaders: string;
}

export interface Route {
  /** The record name: an exact host name or a wildcard (`*.example.com`). */
  readonly name: string;
  readonly wildcard: boolean;
  /**
   * False for a DNS-only record (`proxied: false`): it is kept only so that, as in DNS, it wins over
   * a less specific proxied wildcard; the edge answers such a name with a not-proxied page.
   */
  readonly proxied: boolean;
  readonly zoneId: string;
  readonly zoneName: string;
  readonly recordId: string;
  readonly sslMode: SslMode;
  readonly origin: OriginTarget;
  /**
   * TLS server name towards the origin (and the name verified in `strict`): the record's
   * `origin_sni`, else the host name; null for plain HTTP and for wildcard templates without one.
   */
  readonly servername: string | null;
  /** The record's `origin_host_header`: the Host sent to the origin instead of the visitor's; null for none. */
  readonly originHost: string | null;
  /** Zone setting `websockets` (default on): visitors may upgrade (WebSocket, or any protocol the origin switches to with 101). */
  readonly websockets: boolean;
  /** Zone setting `http2` (default on): HTTP/2 is offered (ALPN `h2`) to visitors of this name. */
  readonly http2: boolean;
  readonly policy: VisitorPolicy;
  readonly aop: AopPick;
  /** The client certificate + key to present, or null. */
  readonly identity: ClientIdentity | null;
  /** Pool key; for a wildcard template it lacks the SNI (see routeForHost). */
  readonly peerKey: PeerKey;
}

export interface EdgeCaMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the CA certificate: edge certificates are re-issued when it changes. */
  readonly fingerprint: string;
}

export interface Snapshot {
  readonly version: number;
  readonly builtAt: number;
  /** Records by exact name (DNS-only ones too, with `proxied: false`). */
  readonly exact: ReadonlyMap<string, Route>;
  /**
   * Per-hostname associations below a wildcard record, by host name: the wildcard's origin with the
   * association's certificate. Looked up after `exact`, before `wildcards`.
   */
  readonly associated: ReadonlyMap<string, Route>;
  /** Keyed by the wildcard name, e.g. `*.example.com` (DNS-only ones too, with `proxied: false`). */
  readonly wildcards: ReadonlyMap<string, Route>;
  readonly edgeCa: EdgeCaMaterial | null;
  /** Visitor session-ticket keys shared by the installation; absent or null: none made yet. */
  readonly ticketKeys?: TicketKeys | null;
  /** Visitor certificates, tried in this order (see edge-certificates.ts); the edge CA comes after. */
  readonly visitorCertificates: readonly VisitorCertificateTable[];
  /** Every route's peerKey: pools whose key is not here are retired on apply. */
  readonly peerKeys: ReadonlySet<PeerKey>;
  /** Client certificates some route presents (for expiry metrics). */
  readonly identities: ReadonlySet<ClientIdentity>;
  /** Problems met while building (e.g. a key that cannot be opened); the routes concerned present nothing. */
  readonly problems: readonly string[];
  /** ACME HTTP-01 answers by token, for `/.well-known/acme-challenge/<token>` on the HTTP listener. */
  readonly acmeHttp01: ReadonlyMap<string, AcmeHttpAnswer>;
  /** ACME TLS-ALPN-01 challenge certificates by host name, for `acme-tls/1` handshakes. */
  readonly acmeTlsAlpn: ReadonlyMap<string, SecureContext>;
}

export interface AcmeHttpAnswer {
  /** The name being validated: a request for another host does not get the answer. */
  readonly hostname: string;
  /** The key authorization, sent as the body. */
  readonly body: Buffer;
}

export function peerKeyOf(origin: OriginTarget, servername: string | null, mode: SslMode, fingerprint: string | null): PeerKey {
  const parts = keyPartsOf(origin);
  if (origin.scheme === 'http') return parts.plain;
  let byFingerprint = parts.tails.get(mode);
  if (byFingerprint === undefined) parts.tails.set(mode, (byFingerprint = new Map()));
  let tail = byFingerprint.get(fingerprint);
  if (tail === undefined) byFingerprint.set(fingerprint, (tail = `|${mode}|${fingerprint ?? 'none'}`));
  return parts.head + (servername ?? '*') + tail;
}

interface KeyParts {
  /** The whole key of a plain HTTP origin. */
  plain: PeerKey;
  head: string;
  /** By SSL mode, then by fingerprint. */
  tails: Map<SslMode, Map<string | null, string>>;
}

/**
 * Per origin, the parts its routes' keys share. A key is then two concatenations of shared
 * strings, not six: at 100,000 routes that is ~13 MB less heap (V8 keeps keys as cons-string trees).
 */
const keyParts = new WeakMap<OriginTarget, KeyParts>();

function keyPartsOf(origin: OriginTarget): KeyParts {
  let parts = keyParts.get(origin);
  if (parts === undefined) keyParts.set(origin, (parts = { plain: `${origin.url}|plain`, head: `${origin.url}|`, tails: new Map() }));
  return parts;
}

export function originTarget(scheme: 'http' | 'https', host: string, port: number): OriginTarget {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return Object.freeze({ scheme, host, port, url: `${scheme}://${bracketed}:${port}` });
}

/** A wildcard template made concrete for one visitor host name (SNI = that name). */
export function routeForHost(template: Route, hostname: string): Route {
  // A template with a server name of its own (origin_sni) is already complete.
  if (template.origin.scheme === 'http' || template.servername !== null) return template;
  return Object.freeze({
    ...template,
    servername: hostname,
    peerKey: peerKeyOf(template.origin, hostname, template.sslMode, template.aop.fingerprint),
  });
}

/** Exact name first, then the nearest wildcard walking up the labels. Names are normalized. */
export function findRoute(snapshot: Snapshot, hostname: string): Route | undefined {
  const exact = snapshot.exact.get(hostname);
  if (exact !== undefined || snapshot.wildcards.size === 0) return exact;
  if (snapshot.associated.size !== 0) {
    const associated = snapshot.associated.get(hostname);
    if (associated !== undefined) return associated;
  }
  return nearestWildcard(snapshot.wildcards, hostname);
}

/** The wildcard record nearest to `hostname`, walking up its labels (`*.b.c`, then `*.c`). */
export function nearestWildcard(wildcards: ReadonlyMap<string, Route>, hostname: string): Route | undefined {
  let dot = hostname.indexOf('.');
  while (dot > 0) {
    const wildcard = wildcards.get('*' + hostname.slice(dot));
    if (wildcard !== undefined) return wildcard;
    dot = hostname.indexOf('.', dot + 1);
  }
  return undefined;
}

/** For visitors whose name no route matches: the edge's own floor (TLS 1.2) and no redirects or headers. */
export const DEFAULT_VISITOR_POLICY: VisitorPolicy = Object.freeze({
  alwaysUseHttps: false,
  tls: Object.freeze({ min: 'TLSv1.2', max: 'TLSv1.3' } as const),
  httpsHeaders: '',
  httpHeaders: '',
});

/** The ring from the store, opened (ticket-keys.ts in the domain). */
export interface TicketKeys {
  /** Sessions last as long; the previous keys stay accepted about as long again. */
  readonly rotateEveryMs: number;
  /** Seals new tickets (48 bytes, as every key here). */
  readonly sealing: Buffer;
  /** The other keys of the ring, whose tickets are accepted: the next key and the previous ones. */
  readonly accepted: readonly Buffer[];
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  version: 0,
  builtAt: 0,
  exact: new Map<string, Route>(),
  associated: new Map<string, Route>(),
  wildcards: new Map<string, Route>(),
  edgeCa: null,
  visitorCertificates: Object.freeze([]) as readonly VisitorCertificateTable[],
  peerKeys: new Set<PeerKey>(),
  identities: new Set<ClientIdentity>(),
  problems: Object.freeze([]) as readonly string[],
  acmeHttp01: new Map<string, AcmeHttpAnswer>(),
  acmeTlsAlpn: new Map<string, SecureContext>(),
});
