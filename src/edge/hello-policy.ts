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
  | { kind: 'alert'; alert: TlsAlert; reason: string };

export interface HelloFacts {
  /** Whether the edge has (or can issue) a certificate for this SNI name. */
  servesName(host: string): boolean;
}

const GO_ON: HelloDecision = Object.freeze({ kind: 'tls' });

export function decideHello(hello: ClientHello, facts: HelloFacts): HelloDecision {
  // No SNI: the default certificate answers (clients that send no name expect no particular one).
  if (hello.serverName !== null && !facts.servesName(hello.serverName)) {
    return { kind: 'alert', alert: 'unrecognized_name', reason: 'no_certificate_for_name' };
  }
  return GO_ON;
}
