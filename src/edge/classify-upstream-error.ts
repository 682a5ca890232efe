// One function turns whatever an origin connection or the TLS stack threw into the visitor-facing
// OriginError. The connection marks errors raised while connecting (TCP + TLS handshake), because a reset then
// means a failed handshake (525) while the same reset later is a plain bad gateway (502).
import type { SslMode } from '../domain/index.ts';
import {
  OriginCertificateError,
  OriginConnectTimeoutError,
  OriginError,
  OriginHandshakeError,
  OriginRefusedError,
  OriginUnreachableError,
} from './errors.ts';

const CONNECT_PHASE = Symbol('originpull.connectPhase');

/** Marks an error as raised before the origin connection was established. */
export function markConnectError<T>(err: T): T {
  if (err !== null && typeof err === 'object') (err as Record<symbol, boolean>)[CONNECT_PHASE] = true;
  return err;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EADDRNOTAVAIL', 'EHOSTDOWN', 'ENETDOWN']);

/** OpenSSL / Node verification failures of the origin's certificate (only raised under `strict`). */
const VERIFY = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const RESET = new Set(['ECONNRESET', 'EPIPE', 'ERR_ORIGIN_CLOSED', 'ERR_SOCKET_CLOSED']);

function codesOf(err: unknown): { codes: string[]; connectPhase: boolean } {
  const codes: string[] = [];
  let connectPhase = false;
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if ((e as Record<symbol, unknown>)[CONNECT_PHASE] === true) connectPhase = true;
    e = (e as { cause?: unknown }).cause;
  }
  return { codes, connectPhase };
}

/** Node suggests its own flags for an unknown issuer; the edge's operator has --origin-ca-file instead. */
function withoutNodeAdvice(message: string): string {
  const cut = message.search(/\.?\s*(?:if the root CA|try running Node)/i);
  return cut === -1 ? message : message.slice(0, cut);
}

export interface UpstreamErrorContext {
  /**
   * The request was the first on a new TLS connection and nothing came back. In TLS 1.3 the
   * origin checks the client certificate after the handshake completes on our side, so a refusal
   * often shows up only as the connection closing under the first request.
   */
  firstOnNewTlsConnection?: boolean;
}

export function classifyUpstreamError(err: unknown, mode: SslMode, context: UpstreamErrorContext = {}): OriginError {
  if (err instanceof OriginError) return err;
  const { codes, connectPhase } = codesOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const opts = { cause: err };
  const has = (set: Set<string>) => codes.some((c) => set.has(c));

  if (connectPhase && codes.includes('ETIMEDOUT')) {
    return new OriginConnectTimeoutError(`connecting to the origin timed out: ${message}`, opts);
  }
  if (codes.includes('ECONNREFUSED')) return new OriginRefusedError(`the origin refused the connection: ${message}`, opts);
  if (has(UNREACHABLE)) return new OriginUnreachableError(`the origin is unreachable: ${message}`, opts);
  if (has(VERIFY)) {
    // `full` never verifies, so a verify code can only come from `strict`; keep it 525 otherwise.
    return mode === 'strict'
      ? new OriginCertificateError(`the origin certificate is invalid: ${withoutNodeAdvice(message)}; if a private CA signed it, trust that CA with --origin-ca-file`, opts)
      : new OriginHandshakeError(`TLS handshake with the origin failed: ${message}`, opts);
  }
  if (codes.some((c) => c.startsWith('ERR_SSL_') || c === 'EPROTO' || c.startsWith('ERR_TLS_'))) {
    return new OriginHandshakeError(`TLS handshake with the origin failed (did it refuse our client certificate?): ${message}`, opts);
  }
  if (connectPhase && (mode === 'full' || mode === 'strict') && has(RESET)) {
    return new OriginHandshakeError(`the origin closed the connection during the TLS handshake: ${message}`, opts);
  }
  if (context.firstOnNewTlsConnection && has(RESET)) {
    return new OriginHandshakeError(
      `the origin closed a new TLS connection before answering; it most likely refused the client certificate (TLS 1.3 checks it after the handshake): ${message}`,
      opts,
    );
  }
  return new OriginError(`bad gateway: ${message}`, opts);
}
