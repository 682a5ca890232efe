// The zone settings that shape how the edge meets visitors (TLS versions, HTTP→HTTPS, HSTS,
// HTTP/2, WebSockets), their defaults, and what they mean once combined. Pure: the API validates
// values against these shapes, the snapshot builder turns a zone's settings into per-route facts.
// Tested in test/edge/hello-policy.test.ts, zone-settings.test.ts and test/api/zone-settings.test.ts.
import type { OnOff, SslMode } from './basics.ts';

/** Cloudflare's `min_tls_version` values; the edge itself speaks only the ones in EDGE_TLS_VERSIONS. */
export const MIN_TLS_VERSIONS = ['1.0', '1.1', '1.2', '1.3'] as const;
export type MinTlsVersion = (typeof MIN_TLS_VERSIONS)[number];

/**
 * What the edge can negotiate with visitors. TLS 1.0 and 1.1 need SHA-1/MD5 handshake signatures,
 * which OpenSSL 3 refuses at its default security level (and the HTTPS listener's floor is 1.2):
 * a zone minimum of 1.0 or 1.1 would be a promise the edge cannot keep, so the API refuses it.
 */
export const EDGE_TLS_VERSIONS: readonly MinTlsVersion[] = ['1.2', '1.3'];

/**
 * `tls_1_3`: `zrt` is Cloudflare's "on, with 0-RTT". Node's TLS server never accepts early data,
 * so `zrt` behaves as `on`: TLS 1.3 with a full (1-RTT) handshake — a client offering early data
 * just sends it again after the handshake, as TLS 1.3 requires.
 */
export const TLS_1_3_VALUES = ['on', 'off', 'zrt'] as const;
export type Tls13 = (typeof TLS_1_3_VALUES)[number];

/** `security_header.strict_transport_security`, in the domain's spelling. */
export interface StrictTransportSecurity {
  enabled: boolean;
  /** Seconds. */
  maxAge: number;
  includeSubdomains: boolean;
  preload: boolean;
  /** Adds `X-Content-Type-Options: nosniff` to every answer. */
  nosniff: boolean;
}

/** Largest HSTS max-age accepted: two years, what the HSTS preload list asks for at most. */
export const HSTS_MAX_AGE_LIMIT = 63_072_000;

export interface ZoneEdgeSettings {
  /** `always_use_https`: plain-HTTP visitors get a 301 to the same URL over HTTPS. */
  alwaysUseHttps: OnOff;
  minTlsVersion: MinTlsVersion;
  tls13: Tls13;
  http2: OnOff;
  websockets: OnOff;
  securityHeader: StrictTransportSecurity;
}

export type ZoneEdgeSettingKey = keyof ZoneEdgeSettings;

/**
 * Defaults as Cloudflare's, except `min_tls_version`: Cloudflare defaults to 1.0, which this edge
 * does not speak, so the default is what it really enforces.
 */
export const DEFAULT_EDGE_SETTINGS: Readonly<ZoneEdgeSettings> = Object.freeze({
  alwaysUseHttps: 'off',
  minTlsVersion: '1.2',
  tls13: 'on',
  http2: 'on',
  websockets: 'on',
  securityHeader: Object.freeze({ enabled: false, maxAge: 0, includeSubdomains: false, preload: false, nosniff: false }),
});

/** Node's names for TLS protocol versions, as `tls` and a ClientHello parser use them. */
export type TlsProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

const PROTOCOL: Readonly<Record<MinTlsVersion, TlsProtocol>> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

export interface TlsRange {
  min: TlsProtocol;
  max: TlsProtocol;
}

/**
 * The versions a zone's visitors may use. `tls_1_3: off` caps at 1.2; a minimum of 1.3 needs 1.3
 * (the API refuses that pair, but if both are stored — two writes racing — the minimum wins, so the
 * zone is never left with no version at all).
 */
export function tlsRange(s: Pick<ZoneEdgeSettings, 'minTlsVersion' | 'tls13'>): TlsRange {
  const min = PROTOCOL[s.minTlsVersion];
  const max: TlsProtocol = s.tls13 === 'off' && min !== 'TLSv1.3' ? 'TLSv1.2' : 'TLSv1.3';
  return { min, max };
}

/** Why a combination of settings is refused, or null when it is fine. */
export function edgeSettingsConflict(s: ZoneEdgeSettings): string | null {
  if (s.minTlsVersion === '1.3' && s.tls13 === 'off') return 'min_tls_version 1.3 needs tls_1_3 on (or zrt): with TLS 1.3 off no version would be left';
  return null;
}

/** The `Strict-Transport-Security` value, or null when HSTS is off. */
export function hstsValue(h: StrictTransportSecurity): string | null {
  if (!h.enabled) return null;
  let value = `max-age=${h.maxAge}`;
  if (h.includeSubdomains) value += '; includeSubDomains';
  if (h.preload) value += '; preload';
  return value;
}

/**
 * Header lines (each ending CRLF) the edge adds to answers, for HTTPS and plain-HTTP visitors.
 * HSTS goes on HTTPS answers only (RFC 6797 §7.2: a UA ignores it over HTTP), and never for a
 * zone in SSL mode `off`, whose HTTPS visitors are sent to HTTP (HSTS would send them back).
 */
export function visitorResponseHeaders(s: ZoneEdgeSettings, sslMode: SslMode): { https: string; http: string } {
  const nosniff = s.securityHeader.nosniff ? 'x-content-type-options: nosniff\r\n' : '';
  const hsts = sslMode === 'off' ? null : hstsValue(s.securityHeader);
  return { https: (hsts === null ? '' : `strict-transport-security: ${hsts}\r\n`) + nosniff, http: nosniff };
}
