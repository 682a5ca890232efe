// What the edge does with a visitor's TLS connection once its ClientHello is read, before any TLS
// library sees it: hand it to the TLS server, or refuse it with an alert. Pure: the ClientHello and
// what the edge knows in, a decision out (tls-gate.ts carries it out).
import { isIP } from 'node:net';
import { versionRank, type ClientHello, type TlsVersion } from './client-hello.ts';

/** The fatal TLS alerts the edge sends itself (RFC 8446 §6.2). */
export const TLS_ALERTS = {
  handshake_failure: 40,
  protocol_version: 70,
  unrecognized_name: 112,
  no_application_protocol: 120,
} as const;
export type TlsAlert = keyof typeof TLS_ALERTS;

export type HelloDecision =
  /** Go on with the TLS handshake. */
  | { kind: 'tls' }
  /**
   * Go on, but with TLS 1.2 at most: the zone has `tls_1_3` off and the visitor offers 1.3 too.
   * (Node's TLS server picks the version from its own options, so the edge keeps a second one.)
   */
  | { kind: 'tls12' }
  /** Refuse: send `alert` and close; `reason` is for the log. */
  | { kind: 'alert'; alert: TlsAlert; reason: string }
  /** An ACME CA validating `host` over TLS-ALPN-01: the challenge certificate answers. */
  | { kind: 'acme_tls_alpn'; host: string };

export interface HelloFacts {
  /** Whether the edge has (or can issue) a certificate for this SNI name. */
  servesName(host: string): boolean;
  /** Whether a TLS-ALPN-01 challenge for this name is being validated; omitted: none ever is. */
  hasAcmeTlsAlpn?(host: string): boolean;
  /** The TLS versions the name's zone allows (`min_tls_version`, `tls_1_3`); omitted: any the TLS server speaks. */
  tlsVersions?(host: string | null): { readonly min: TlsVersion; readonly max: TlsVersion };
}

/** RFC 8737: the one protocol an ACME CA offers when it validates over TLS-ALPN-01. */
export const ACME_TLS_ALPN = 'acme-tls/1';

const GO_ON: HelloDecision = Object.freeze({ kind: 'tls' });
const GO_ON_TLS12: HelloDecision = Object.freeze({ kind: 'tls12' });

/**
 * The name a visitor asks for. An address is no name: RFC 6066 forbids them in SNI, yet some
 * clients (wrk, scripts given a URL with an IP) send one, and they get what a client without SNI gets.
 */
export function requestedName(serverName: string | null): string | null {
  return serverName === null || isIP(serverName) !== 0 ? null : serverName;
}

export function decideHello(hello: ClientHello, facts: HelloFacts): HelloDecision {
  if (hello.serverName !== null && hello.alpn.length === 1 && hello.alpn[0] === ACME_TLS_ALPN) {
    if (facts.hasAcmeTlsAlpn?.(hello.serverName) === true) return { kind: 'acme_tls_alpn', host: hello.serverName };
    return { kind: 'alert', alert: 'no_application_protocol', reason: 'no_acme_challenge_for_name' };
  }
  // No SNI: the default certificate answers (clients that send no name expect no particular one).
  const name = requestedName(hello.serverName);
  if (name !== null && !facts.servesName(name)) {
    return { kind: 'alert', alert: 'unrecognized_name', reason: 'no_certificate_for_name' };
  }
  if (facts.tlsVersions !== undefined) return decideVersion(hello, facts.tlsVersions(name));
  return GO_ON;
}

/**
 * A zone's version range against what the visitor offers: nothing in common is refused with
 * protocol_version (RFC 8446 §4.2.1, what OpenSSL itself sends); 1.3 offered where the zone stops
 * at 1.2 goes to the TLS 1.2 server; else the handshake goes on as usual.
 */
function decideVersion(hello: ClientHello, range: { readonly min: TlsVersion; readonly max: TlsVersion }): HelloDecision {
  const min = versionRank(range.min);
  const max = versionRank(range.max);
  let usable = false;
  let above = false;
  for (const version of hello.versions) {
    const rank = versionRank(version);
    if (rank > max) above = true;
    else if (rank >= min) usable = true;
  }
  if (!usable) return { kind: 'alert', alert: 'protocol_version', reason: above ? 'tls_version_above_zone_maximum' : 'tls_version_below_zone_minimum' };
  return above && max < versionRank('TLSv1.3') ? GO_ON_TLS12 : GO_ON;
}
