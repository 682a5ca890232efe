// One direct request to an origin, as Cloudflare's curl check does: TCP, TLS (optionally presenting a
// client certificate), then `GET /` over HTTP/1.1. The outcome says precisely how it ended: an HTTP
// response, a TLS alert from the origin, a reset, or why nothing TLS-speaking was reached.
// Tested in test/origin/verify-origin.test.ts.
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';

/** TLS alert descriptions (RFC 8446 §6), by number. */
const TLS_ALERTS: Record<number, string> = {
  0: 'close notify',
  10: 'unexpected message',
  20: 'bad record mac',
  22: 'record overflow',
  40: 'handshake failure',
  42: 'bad certificate',
  43: 'unsupported certificate',
  44: 'certificate revoked',
  45: 'certificate expired',
  46: 'certificate unknown',
  47: 'illegal parameter',
  48: 'unknown CA',
  49: 'access denied',
  50: 'decode error',
  51: 'decrypt error',
  70: 'protocol version',
  71: 'insufficient security',
  80: 'internal error',
  86: 'inappropriate fallback',
  90: 'user canceled',
  109: 'missing extension',
  110: 'unsupported extension',
  112: 'unrecognized name',
  113: 'bad certificate status response',
  115: 'unknown PSK identity',
  116: 'certificate required',
  120: 'no application protocol',
};

export type ProbeOutcome =
  /** The origin answered over HTTP (inside TLS). */
  | { kind: 'http'; status: number; reason: string; bodySnippet: string }
  /** The origin sent a TLS alert: it refused the handshake (e.g. "certificate required"). */
  | { kind: 'alert'; alert: string; alertNumber: number | undefined; afterHandshake: boolean }
  /** The origin reset or closed the connection without an HTTP response. */
  | { kind: 'reset'; afterHandshake: boolean; message: string }
  /** Nothing TLS-speaking answered; the verification cannot go on. */
  | { kind: 'unreachable'; reason: UnreachableReason; message: string };

export type UnreachableReason = 'connection-refused' | 'timeout' | 'plain-http' | 'not-tls' | 'dns' | 'network';

export interface ServerCertInfo {
  subject: string;
  issuer: string;
  validTo: string;
  fingerprint256: string;
  /** Against the CA given with --ca; undefined when none was given. */
  chainValid?: boolean;
  chainError?: string;
  /** Whether the certificate is valid for the host name (checked only with --ca). */
  nameValid?: boolean;
  nameError?: string;
}

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** The TLS handshake completed from the client's side (with TLS 1.3 the origin may still refuse after). */
  handshake: boolean;
  tlsVersion?: string;
  serverCert?: ServerCertInfo;
  ms: number;
}

export interface ProbeTarget {
  host: string;
  port: number;
  /** Host header and SNI. */
  hostname: string;
  timeoutMs: number;
  /** PEM client certificate and key to present; none: present nothing. */
  cert?: string;
  key?: string;
  /** PEM CA to check the origin's own certificate against. */
  ca?: string;
}

/** Host header value: with the port when it is not 443, as curl and browsers send it. */
export function hostHeader(hostname: string, port: number): string {
  const h = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
  return port === 443 ? h : `${h}:${port}`;
}

function alertOf(err: NodeJS.ErrnoException): { alert: string; alertNumber: number | undefined } | undefined {
  const n = /SSL alert number (\d+)/.exec(err.message);
  if (n) {
    const num = Number(n[1]);
    return { alert: TLS_ALERTS[num] ?? `alert ${num}`, alertNumber: num };
  }
  const m = /^ERR_SSL_(?:TLSV13_|TLSV1_|SSLV3_|SSL\/TLS_)?ALERT_(.+)$/.exec(err.code ?? '');
  return m ? { alert: m[1].toLowerCase().replace(/_/g, ' ').replace('unknown ca', 'unknown CA'), alertNumber: undefined } : undefined;
}

function describeName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

function parseHttp(raw: string): { status: number; reason: string; bodySnippet: string } | undefined {
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: ([^\r\n]*))?\r?\n/.exec(raw);
  if (!m) return undefined;
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  // nginx says why in the page title: "400 No required SSL certificate was sent".
  const title = /<title>\s*\d{3}\s+([^<]+)<\/title>/i.exec(body)?.[1];
  return { status: Number(m[1]), reason: title ?? m[2] ?? '', bodySnippet: body.slice(0, 512) };
}

/** Whether something answers plain HTTP on the port (after a TLS attempt failed at the protocol level). */
export function probePlainHttp(target: Pick<ProbeTarget, 'host' | 'port' | 'hostname' | 'timeoutMs'>): Promise<string | undefined> {
  return new Promise((resolve) => {
    let data = '';
    const sock = netConnect({ host: target.host, port: target.port });
    const done = (v: string | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(target.timeoutMs, () => done(undefined));
    sock.on('connect', () => sock.write(`HEAD / HTTP/1.1\r\nHost: ${hostHeader(target.hostname, target.port)}\r\nConnection: close\r\nUser-Agent: originpull-verify-origin\r\n\r\n`));
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      const line = /^(HTTP\/\d(?:\.\d)? \d{3}[^\r\n]*)\r?\n/.exec(data);
      if (line) done(line[1]);
      else if (data.length > 64 || !'HTTP/'.startsWith(data.slice(0, 5))) done(undefined);
    });
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
  });
}

const NETWORK_REASONS: Record<string, UnreachableReason> = {
  ECONNREFUSED: 'connection-refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EHOSTUNREACH: 'network',
  ENETUNREACH: 'network',
  EADDRNOTAVAIL: 'network',
};

/** Makes one request and says how it ended. Never throws. */
export function probe(target: ProbeTarget): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    let handshake = false;
    let raw = '';
    let socket: TLSSocket | undefined;
    const result: Omit<ProbeResult, 'outcome' | 'ms'> = { handshake: false };

    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve({ ...result, handshake, outcome, ms: Math.round(performance.now() - started) });
    };

    const timer = setTimeout(() => {
      if (handshake) {
        const http = parseHttp(raw);
        finish(http ? { kind: 'http', ...http } : { kind: 'reset', afterHandshake: true, message: `no HTTP response within ${target.timeoutMs} ms after the TLS handshake` });
      } else {
        finish({
          kind: 'unreachable',
          reason: 'timeout',
          message: connected
            ? `TCP connected but no TLS handshake within ${target.timeoutMs} ms (is it TLS on this port?)`
            : `no TCP connection within ${target.timeoutMs} ms (filtered port or host down?)`,
        });
      }
    }, target.timeoutMs);

    try {
      socket = tlsConnect({
        host: target.host,
        port: target.port,
        // SNI is the visitor's hostname, as the edge sends it; TLS forbids an IP address there.
        servername: isIP(target.hostname) ? undefined : target.hostname,
        cert: target.cert,
        key: target.key,
        ca: target.ca,
        // The origin's own certificate is reported (and checked against --ca), never a reason to stop.
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
    } catch (err) {
      finish({ kind: 'unreachable', reason: 'network', message: (err as Error).message });
      return;
    }
    const sock = socket;
    sock.once('connect', () => (connected = true));
    sock.once('secureConnect', () => {
      handshake = true;
      result.tlsVersion = sock.getProtocol() ?? undefined;
      const peer = sock.getPeerCertificate();
      if (peer && Object.keys(peer).length > 0) {
        const info: ServerCertInfo = {
          subject: describeName(peer.subject),
          issuer: describeName(peer.issuer),
          validTo: new Date(peer.valid_to).toISOString(),
          fingerprint256: peer.fingerprint256,
        };
        if (target.ca) {
          info.chainValid = sock.authorized;
          if (!sock.authorized) info.chainError = String(sock.authorizationError);
          const nameErr = checkServerIdentity(target.hostname, peer);
          info.nameValid = !nameErr;
          if (nameErr) info.nameError = nameErr.message;
        }
        result.serverCert = info;
      }
      sock.write(
        `GET / HTTP/1.1\r\nHost: ${hostHeader(target.hostname, target.port)}\r\nUser-Agent: originpull-verify-origin\r\nAccept: */*\r\nConnection: close\r\n\r\n`,
      );
    });
    sock.on('data', (d: Buffer) => {
      raw += d.toString('latin1');
      if (raw.length > 65_536) finish(parseHttp(raw) ? { kind: 'http', ...parseHttp(raw)! } : { kind: 'reset', afterHandshake: true, message: 'unparseable response' });
    });
    sock.on('end', () => {
      const http = parseHttp(raw);
      if (http) finish({ kind: 'http', ...http });
      else finish({ kind: 'reset', afterHandshake: handshake, message: handshake ? 'the origin closed the connection without an HTTP response' : 'the origin closed the connection during the TLS handshake' });
    });
    sock.on('close', () => {
      const http = parseHttp(raw);
      if (http) finish({ kind: 'http', ...http });
      else finish({ kind: 'reset', afterHandshake: handshake, message: 'connection closed' });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A response may already be complete when the origin then resets: keep the response.
      const http = parseHttp(raw);
      if (http) return finish({ kind: 'http', ...http });
      const alert = alertOf(err);
      if (alert) return finish({ kind: 'alert', ...alert, afterHandshake: handshake });
      const network = NETWORK_REASONS[err.code ?? ''];
      if (network) {
        const what = network === 'connection-refused' ? `connection refused by ${target.host}:${target.port} (nothing listens there)` : err.message;
        return finish({ kind: 'unreachable', reason: network, message: what });
      }
      if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|HTTP_REQUEST|UNKNOWN_PROTOCOL/.test(err.code ?? '') || /wrong version number|packet length too long/i.test(err.message)) {
        return finish({ kind: 'unreachable', reason: 'not-tls', message: `the origin does not speak TLS on port ${target.port} (${err.code ?? err.message})` });
      }
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        return finish({ kind: 'reset', afterHandshake: handshake, message: handshake ? 'connection reset by the origin after the TLS handshake' : 'connection reset by the origin during the TLS handshake' });
      }
      finish({ kind: 'reset', afterHandshake: handshake, message: `${err.code ?? 'error'}: ${err.message}` });
    });
  });
}
