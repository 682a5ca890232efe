// What the edge does with a visitor's TLS connection once its ClientHello is read, before any TLS
// library sees it: hand it to the TLS server, or refuse it with an alert. Pure: the ClientHello and
// what the edge knows in, a decision out (tls-gate.ts carries it out).
import type { ClientHello } from './client-hello.ts';

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
  /** Refuse: send `alert` and close; `reason` is for the log. */
  | { kind: 'alert'; alert: TlsAlert; reason: string }
  /** An ACME CA validating `host` over TLS-ALPN-01: the challenge certificate answers. */
  | { kind: 'acme_tls_alpn'; host: string };

export interface HelloFacts {
  /** Whether the edge has (or can issue) a certificate for this SNI name. */
  servesName(host: string): boolean;
  /** Whether a TLS-ALPN-01 challenge for this name is being validated. */
  hasAcmeTlsAlpn(host: string): boolean;
}

/** RFC 8737: the one protocol an ACME CA offers when it validates over TLS-ALPN-01. */
export const ACME_TLS_ALPN = 'acme-tls/1';

const GO_ON: HelloDecision = Object.freeze({ kind: 'tls' });

export function decideHello(hello: ClientHello, facts: HelloFacts): HelloDecision {
  if (hello.serverName !== null && hello.alpn.length === 1 && hello.alpn[0] === ACME_TLS_ALPN) {
    if (facts.hasAcmeTlsAlpn(hello.serverName)) return { kind: 'acme_tls_alpn', host: hello.serverName };
    return { kind: 'alert', alert: 'no_application_protocol', reason: 'no_acme_challenge_for_name' };
  }
  // No SNI: the default certificate answers (clients that send no name expect no particular one).
  if (hello.serverName !== null && !facts.servesName(hello.serverName)) {
    return { kind: 'alert', alert: 'unrecognized_name', reason: 'no_certificate_for_name' };
  }
  return GO_ON;
}
