// Header handling on the request path, one pass over the parsed head, writing the head that goes
// on the wire as a string (no intermediate objects). Upstream: hop-by-hop headers (RFC 9110
// §7.6.1) and the ones the edge sets itself are dropped, then X-Forwarded-*, CF-* and the ray id
// are added; the request's framing is checked on the way (RFC 9112 §6.3: the smuggling rules).
// Downstream: hop-by-hop headers are dropped and the origin's framing is read.
import { checkFieldValue, fieldName, fieldValue, HeadError, isAuthority, type RequestHead } from './http1/head.ts';

const DROP = 1;
const XFF = 2;
const CONTENT_LENGTH = 3;
const TRANSFER_ENCODING = 4;
const CONNECTION = 5;
const HOST = 6;
const EXPECT = 7;
const ACCEPT = 8;
const UPGRADE = 9;

/** Lower-case request header name → what to do with it. Anything absent is copied. */
const REQUEST_ACTIONS: ReadonlyMap<string, number> = new Map<string, number>([
  ['connection', CONNECTION],
  ['keep-alive', DROP],
  ['te', DROP],
  ['trailer', DROP],
  ['transfer-encoding', TRANSFER_ENCODING],
  // Passed on, with Connection: upgrade, only for an upgrade the edge can carry (see upgradeOf).
  ['upgrade', UPGRADE],
  ['proxy-connection', DROP],
  ['proxy-authorization', DROP],
  ['proxy-authenticate', DROP],
  ['http2-settings', DROP],
  // The edge answers 100-continue itself once the origin connection is ready.
  ['expect', EXPECT],
  // Set by the edge; a visitor must not be able to forge them.
  ['x-forwarded-proto', DROP],
  ['x-forwarded-host', DROP],
  ['cf-connecting-ip', DROP],
  ['cf-visitor', DROP],
  ['cf-ray', DROP],
  // Their underscore spellings too: CGI-style origins read X_Forwarded_For as X-Forwarded-For.
  ...underscoreAliases(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'cf-connecting-ip', 'cf-visitor', 'cf-ray']),
  ['x-forwarded-for', XFF],
  ['content-length', CONTENT_LENGTH],
  ['host', HOST],
  ['accept', ACCEPT],
]);

/** Every spelling of each name with some or all of its dashes as underscores, each to be dropped. */
function underscoreAliases(names: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (const name of names) {
    const parts = name.split('-');
    for (let mask = 1; mask < 1 << (parts.length - 1); mask++) {
      let alias = parts[0];
      for (let i = 1; i < parts.length; i++) alias += (mask & (1 << (i - 1)) ? '_' : '-') + parts[i];
      out.push([alias, DROP]);
    }
  }
  return out;
}

const CONTENT_LENGTH_NAME = 'content-length';
const RESPONSE_DROP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'http2-settings', 'cf-ray']);

// Most headers (User-Agent, Accept-*, Content-Type, Date, ETag…) match none of the names above.
// Their lengths tell so without lower-casing them or hashing a fresh string for a Map lookup.
function lengthsOf(names: Iterable<string>): Uint8Array {
  const table = new Uint8Array(256);
  for (const n of names) table[n.length] = 1;
  return table;
}
const REQUEST_LENGTHS = lengthsOf(REQUEST_ACTIONS.keys());
const RESPONSE_LENGTHS = lengthsOf([...RESPONSE_DROP, CONTENT_LENGTH_NAME]);
/** `proxy-*` request headers are dropped too: a name of more than 6 characters starting with p/P. */
const isProxyPrefixed = (name: string) => name.length > 6 && (name.charCodeAt(0) | 0x20) === 112 /* p */ && name.toLowerCase().startsWith('proxy-');

/** What the request head says about itself, filled in passing so nobody scans twice. */
export interface RequestFacts {
  /** Host header as sent, or '' when missing. */
  host: string;
  /** The request carries a body: Content-Length > 0, or chunked. */
  hasBody: boolean;
  /** Content-Length, or -1. */
  contentLength: number;
  chunked: boolean;
  /** Connection: close (or HTTP/1.0 without keep-alive): the visitor connection ends after the answer. */
  closeAfter: boolean;
  /** Expect: 100-continue. */
  expectContinue: boolean;
  /** Accept names application/json: error pages come as JSON. */
  wantsJson: boolean;
  /** The protocols of an upgrade the edge will ask the origin for (Upgrade, h2c left out), or ''. */
  upgrade: string;
}

const CF_VISITOR_HTTPS = '{"scheme":"https"}';
const CF_VISITOR_HTTP = '{"scheme":"http"}';
const DIGITS = /^\d{1,15}$/;

/**
 * The head sent to the origin (always HTTP/1.1), ending with the blank line. Throws HeadError for
 * framing an origin could read differently from the edge.
 */
export function upstreamHead(req: RequestHead, clientIp: string, scheme: 'http' | 'https', rayId: string, facts: RequestFacts): string {
  const named = requestFields(req, facts, null);
  const fields = named.fields;
  // Headers named by Connection may come before it: rare, so a second pass rather than a buffer.
  const kept = named.named === null ? fields : requestFields(req, facts, named.named).fields;
  const host = facts.host;
  return (
    req.method + ' ' + req.path + ' HTTP/1.1\r\n' + kept +
    'x-forwarded-for: ' + (named.xff === null ? clientIp : named.xff + ', ' + clientIp) +
    '\r\nx-forwarded-proto: ' + scheme +
    '\r\nx-forwarded-host: ' + host +
    '\r\ncf-connecting-ip: ' + clientIp +
    '\r\ncf-visitor: ' + (scheme === 'https' ? CF_VISITOR_HTTPS : CF_VISITOR_HTTP) +
    '\r\ncf-ray: ' + rayId +
    (facts.upgrade !== '' ? '\r\nconnection: upgrade\r\nupgrade: ' + facts.upgrade : '') +
    (facts.chunked ? '\r\ntransfer-encoding: chunked\r\n\r\n' : '\r\n\r\n')
  );
}

function requestFields(req: RequestHead, facts: RequestFacts, skip: Set<string> | null): { fields: string; named: Set<string> | null; xff: string | null } {
  const raw = req.headers;
  let fields = '';
  let xff: string | null = null;
  let named: Set<string> | null = null;
  let keepAlive = false;
  let close = false;
  let hosts = 0;
  let te: string | null = null;
  let upgrade: string | null = null;
  let connectionUpgrade = false;
  facts.host = '';
  facts.contentLength = -1;
  facts.expectContinue = false;
  facts.wantsJson = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    const action = name.length < 256 && REQUEST_LENGTHS[name.length] === 1 ? REQUEST_ACTIONS.get(name.toLowerCase()) : undefined;
    if (action === undefined) {
      if (skip !== null && skip.has(name.toLowerCase())) continue;
      if (isProxyPrefixed(name)) continue;
      fields += name + ': ' + value + '\r\n';
      continue;
    }
    switch (action) {
      case XFF:
        xff = xff === null ? value : xff + ', ' + value;
        break;
      case CONTENT_LENGTH: {
        if (!DIGITS.test(value)) throw new HeadError(400, 'invalid_content_length', `Content-Length is not a number: ${JSON.stringify(value.slice(0, 40))}`);
        const n = Number(value);
        if (facts.contentLength >= 0) {
          if (n !== facts.contentLength) throw new HeadError(400, 'conflicting_content_length', 'the request has conflicting Content-Length headers');
          break;
        }
        facts.contentLength = n;
        fields += name + ': ' + value + '\r\n';
        break;
      }
      case TRANSFER_ENCODING:
        te = te === null ? value : te + ',' + value;
        break;
      case HOST:
        if (++hosts > 1) throw new HeadError(400, 'duplicate_host', 'the request has more than one Host header');
        if (!isAuthority(value)) throw new HeadError(400, 'invalid_host', `the Host header is not a host name and port: ${JSON.stringify(value.slice(0, 40))}`);
        // An absolute-form target's authority wins over Host (RFC 9112 §3.2.2), and replaces it.
        if (req.authority !== '') break;
        facts.host = value;
        fields += name + ': ' + value + '\r\n';
        break;
      case CONNECTION:
        for (const token of value.split(',')) {
          const t = trimOws(token).toLowerCase();
          if (t === 'close') close = true;
          else if (t === 'keep-alive') keepAlive = true;
          // Upgrade is handled by name (UPGRADE): naming it costs no second pass.
          else if (t === 'upgrade') connectionUpgrade = true;
          else if (t !== '') (named ??= new Set()).add(t);
        }
        break;
      case UPGRADE:
        upgrade = upgrade === null ? value : upgrade + ', ' + value;
        break;
      case EXPECT:
        // An HTTP/1.0 client cannot know 100 Continue (RFC 9110 §10.1.1): it gets none.
        if (req.minor === 1 && value.toLowerCase() === '100-continue') facts.expectContinue = true;
        break;
      case ACCEPT:
        if (value.includes('application/json')) facts.wantsJson = true;
        if (skip === null || !skip.has('accept')) fields += name + ': ' + value + '\r\n';
        break;
      default:
        break;
    }
  }
  if (req.authority !== '') {
    facts.host = req.authority;
    fields = 'host: ' + req.authority + '\r\n' + fields;
  }
  facts.chunked = te !== null && chunkedLast(te, 'request');
  if (facts.chunked && facts.contentLength >= 0) throw new HeadError(400, 'content_length_with_transfer_encoding', 'the request has both Content-Length and Transfer-Encoding');
  if (facts.chunked && req.minor === 0) throw new HeadError(400, 'chunked_http10', 'HTTP/1.0 requests cannot be chunked');
  facts.hasBody = facts.chunked || facts.contentLength > 0;
  facts.closeAfter = close || (req.minor === 0 && !keepAlive);
  facts.upgrade = upgrade === null || !connectionUpgrade ? '' : upgradeOf(upgrade, req.minor, facts.hasBody);
  return { fields, named, xff };
}

/**
 * The Upgrade list the edge passes on: only from HTTP/1.1 visitors (RFC 9110 §7.8: an HTTP/1.0
 * upgrade is ignored), never with a request body (its end would have to be found before the
 * switch, and nothing a browser sends needs it), and without `h2c`, which names a protocol the
 * edge would have to speak to the visitor itself, not a byte stream it can relay. '' when nothing
 * is left: the request then goes on as plain HTTP.
 */
export function upgradeOf(value: string, minor: number, hasBody: boolean): string {
  if (minor !== 1 || hasBody) return '';
  let out = '';
  for (const token of value.split(',')) {
    const t = trimOws(token);
    if (t === '' || t.toLowerCase() === 'h2c') continue;
    out = out === '' ? t : out + ', ' + t;
  }
  return out;
}

/** Blanks around a list element are SP and HTAB only (RFC 9110 §5.6.3): not what trim() takes (NBSP, VT, FF…). */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

const CODING = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Transfer-Encoding must end in chunked (RFC 9112 §6.3); the edge decodes no other coding, so
 * anything but chunked alone is refused, a request's with 400/501, a response's with 502 (read
 * until close, as RFC 9112 allows, its body would reach the visitor still coded with nothing saying
 * how; nginx and HAProxy refuse it too).
 */
function chunkedLast(te: string, what: string): boolean {
  const all = te.split(',').map((c) => trimOws(c).toLowerCase());
  // Empty list elements are legal (RFC 9110 §5.6.1), but nginx and HAProxy refuse them in a
  // request's Transfer-Encoding, and a parser that does not skip them reads no chunked at all.
  if (what === 'request' && all.includes('') && all.some((c) => c !== '')) throw new HeadError(400, 'invalid_transfer_encoding', `Transfer-Encoding "${te}" has empty list elements`);
  const codings = all.filter((c) => c !== '');
  if (codings.length === 1 && codings[0] === 'chunked') return true;
  const status = what === 'request' ? 400 : 502;
  if (codings.length === 0 || codings.some((c) => !CODING.test(c))) throw new HeadError(status, 'invalid_transfer_encoding', `Transfer-Encoding "${te}" is not a list of codings`);
  if (what === 'request') {
    const last = codings.at(-1) === 'chunked';
    throw new HeadError(last ? 501 : 400, last ? 'unsupported_transfer_coding' : 'chunked_not_last', `transfer coding "${te}" is not supported`);
  }
  throw new HeadError(502, 'unsupported_transfer_coding', `the origin's transfer coding "${te}" is not chunked alone`);
}

/** What a response head says about its framing and its connection. */
export interface ResponseFacts {
  /** Content-Length, or -1. */
  contentLength: number;
  chunked: boolean;
  /** Connection: close from the origin. */
  close: boolean;
  /** Connection: keep-alive from the origin (matters for HTTP/1.0 origins). */
  keepAlive: boolean;
  /** A Content-Length header was invalid or conflicting: the response cannot be framed. */
  badLength: boolean;
  /** The origin's `Keep-Alive: timeout=N` less a second (ms), or 0: reuse it no longer than that. */
  keepAliveTimeoutMs: number;
}

/** Header lines for the visitor (each ending in CRLF, no start line, no blank line), ray id last. */
export function downstreamFields(raw: string[], rayId: string, facts: ResponseFacts): string {
  const first = responseFields(raw, facts, null, false);
  // Rare: headers named by Connection, or Content-Length beside chunked (the length must go).
  if (first.named === null && !(facts.chunked && facts.contentLength >= 0)) return first.fields + 'cf-ray: ' + rayId + '\r\n';
  return responseFields(raw, facts, first.named, facts.chunked).fields + 'cf-ray: ' + rayId + '\r\n';
}

/**
 * downstreamFields in one pass over the origin's head text (`fieldsAt`: after its status line),
 * checked as parseResponseHead checks it: the header lines the visitor gets are copied as the
 * origin sent them, runs of them as one slice, instead of parsed apart and joined again (a visible share
 * of a keep-alive request's CPU: bench/HISTORY.md). Null when the head needs the general path: a Connection header naming
 * other headers, or Content-Length beside chunked (both drop lines seen before them).
 */
export function downstreamFieldsOf(text: string, fieldsAt: number, rayId: string, facts: ResponseFacts): string | null {
  resetResponseFacts(facts);
  let te: string | null = null;
  let out = '';
  let run = fieldsAt;
  const end = text.length;
  for (let at = fieldsAt; at < end; ) {
    let eol = text.indexOf('\r\n', at);
    if (eol < 0) eol = end;
    const name = fieldName(text, at, eol, 'response');
    checkFieldValue(name, text.slice(at + name.length + 1, eol), 'response');
    if (name.length < 256 && RESPONSE_LENGTHS[name.length] === 1) {
      const lower = name.toLowerCase();
      if (lower === CONTENT_LENGTH_NAME || RESPONSE_DROP.has(lower)) {
        const value = fieldValue(text, at, eol, name);
        let keep = false;
        if (lower === CONTENT_LENGTH_NAME) {
          keep = readContentLength(value, facts);
        } else if (lower === 'connection') {
          if (readConnection(value, facts) !== null) return null;
        } else if (lower === 'transfer-encoding') {
          te = te === null ? value : te + ',' + value;
        } else if (lower === 'keep-alive') {
          facts.keepAliveTimeoutMs = keepAliveTimeoutMs(value);
        }
        if (!keep) {
          out += text.slice(run, at);
          run = eol + 2;
        }
      }
    }
    at = eol + 2;
  }
  facts.chunked = te !== null && chunkedLast(te, 'response');
  if (facts.chunked && facts.contentLength >= 0) return null;
  if (run < end) out += text.slice(run, end) + '\r\n';
  return out + 'cf-ray: ' + rayId + '\r\n';
}

function resetResponseFacts(facts: ResponseFacts): void {
  facts.contentLength = -1;
  facts.close = false;
  facts.keepAlive = false;
  facts.badLength = false;
  facts.keepAliveTimeoutMs = 0;
}

/** A Content-Length value into `facts`; true when this line is the one to keep (the first). */
function readContentLength(value: string, facts: ResponseFacts): boolean {
  const n = DIGITS.test(value) ? Number(value) : -1;
  if (n < 0 || (facts.contentLength >= 0 && n !== facts.contentLength)) facts.badLength = true;
  if (facts.contentLength >= 0) return false;
  facts.contentLength = n;
  return true;
}

/** A Connection value into `facts`; returns the other header names it lists, or null. */
function readConnection(value: string, facts: ResponseFacts, named: Set<string> | null = null): Set<string> | null {
  for (const token of value.split(',')) {
    const t = trimOws(token).toLowerCase();
    if (t === 'close') facts.close = true;
    else if (t === 'keep-alive') facts.keepAlive = true;
    else if (t !== '') (named ??= new Set()).add(t);
  }
  return named;
}

function responseFields(raw: string[], facts: ResponseFacts, skip: Set<string> | null, dropLength: boolean): { fields: string; named: Set<string> | null } {
  let fields = '';
  let named: Set<string> | null = null;
  let te: string | null = null;
  resetResponseFacts(facts);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.length < 256 && RESPONSE_LENGTHS[name.length] === 1) {
      const lower = name.toLowerCase();
      if (lower === CONTENT_LENGTH_NAME) {
        if (readContentLength(value, facts) && !dropLength) fields += name + ': ' + value + '\r\n';
        continue;
      }
      if (RESPONSE_DROP.has(lower)) {
        if (lower === 'connection') {
          named = readConnection(value, facts, named);
        } else if (lower === 'transfer-encoding') {
          te = te === null ? value : te + ',' + value;
        } else if (lower === 'keep-alive') {
          facts.keepAliveTimeoutMs = keepAliveTimeoutMs(value);
        }
        continue;
      }
    }
    if (skip !== null && skip.has(name.toLowerCase())) continue;
    fields += name + ': ' + value + '\r\n';
  }
  facts.chunked = te !== null && chunkedLast(te, 'response');
  return { fields, named };
}

/** `timeout=5, max=100` → 4000: a second of margin, so the edge never reuses what the origin is closing. */
function keepAliveTimeoutMs(value: string): number {
  const m = /timeout\s*=\s*(\d+)/i.exec(value);
  return m === null ? 0 : Math.max(1, Number(m[1]) * 1000 - 1000);
}

/** The host name a request is routed by: Host without port, lower case, no trailing dot. */
export function routingHostname(host: string): string {
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    end = host.indexOf(']') + 1 || end;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) end = colon;
  }
  if (host.charCodeAt(end - 1) === 46 /* . */) end--;
  const name = end === host.length ? host : host.slice(0, end);
  return name.toLowerCase();
}

/**
 * The upstream head with its Host line replaced by `host` (a record's `origin_host_header`). Only
 * routes with an override pay for the scan; X-Forwarded-Host keeps the visitor's.
 */
export function withOriginHost(head: string, host: string): string {
  let start = head.indexOf('\r\n') + 2;
  for (;;) {
    const end = head.indexOf('\r\n', start);
    if (end <= start) return head;
    if (head.charCodeAt(start + 4) === 58 /* : */ && head.slice(start, start + 4).toLowerCase() === 'host') {
      return head.slice(0, start) + 'host: ' + host + head.slice(end);
    }
    start = end + 2;
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged. */
export function visitorIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
