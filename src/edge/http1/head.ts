// HTTP/1.1 message heads (RFC 9112): request and response start lines and header fields, parsed
// from the latin1 text before the blank line. Headers come out flat ([name, value, …], names as
// sent), the shape the header filters walk once. Strict where leniency would let a request mean
// one thing to the edge and another to the origin (bare CR or LF, obs-fold, bad names, targets
// whose authority disagrees with Host).
// Tested in test/edge/headers.test.ts, test/edge/http1-cases.test.ts and test/edge/http1-fuzz.test.ts.

/**
 * A head the edge cannot accept. `status` is what the visitor gets (400, 405, 431, 501, 505);
 * `reason` is a stable code naming the fault (like llhttp's error codes), shown on the error page
 * and in the access log, and what tests assert.
 */
export class HeadError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export interface RequestHead {
  method: string;
  /** The request target as sent (what the access log shows). */
  target: string;
  /** The target in origin form, as the origin gets it: `target` itself unless it was absolute-form. */
  path: string;
  /** host[:port] of an absolute-form target (it wins over Host, RFC 9112 §3.2.2), else ''. */
  authority: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: number;
  headers: string[];
}

export interface ResponseHead {
  status: number;
  reason: string;
  minor: number;
  headers: string[];
}

/** Bytes `\r\n\r\n`: where a head ends. */
export const HEAD_END = Buffer.from('\r\n\r\n');
/** Largest head accepted from a visitor or an origin (nginx's large_client_header_buffers is 4 × 8 KiB). */
export const MAX_HEAD_BYTES = 32 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Any CR or LF left inside a line after splitting on CRLF, or a NUL, is a smuggling vector.
const FORBIDDEN_IN_LINE = /[\r\n\0]/;
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
// reason-phrase = *( HTAB / SP / VCHAR / obs-text ): anything else (CR, LF, NUL, other controls)
// would reach the visitor inside the status line the edge writes.
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
// host (reg-name, IPv4 or IP-literal) and an optional port; no userinfo.
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;

/** A Host value or an absolute target's authority: host[:port], nothing else. */
export function isAuthority(value: string): boolean {
  return AUTHORITY.test(value);
}

/** Why a line holding a forbidden byte is refused (the first such byte decides). */
function lineFault(line: string): string {
  const m = FORBIDDEN_IN_LINE.exec(line);
  return m === null ? 'invalid_character' : m[0] === '\n' ? 'bare_lf' : m[0] === '\r' ? 'bare_cr' : 'nul_character';
}

/**
 * Where the head that starts at `start` ends (the offset of its CRLFCRLF), or -1 while it is
 * incomplete. `from`: how far an earlier call got with the same bytes, so a head trickling in is
 * not scanned again from its start on every read. An incomplete head that already holds a bare LF
 * can never be accepted: it is refused at once rather than held until the idle timeout.
 */
export function findHeadEnd(buf: Buffer, start: number, from: number): number {
  const searchAt = from - 3 > start ? from - 3 : start;
  const end = buf.indexOf(HEAD_END, searchAt);
  if (end >= 0) return end;
  for (let lf = buf.indexOf(10, from > start ? from : start); lf >= 0; lf = buf.indexOf(10, lf + 1)) {
    if (lf === start || buf[lf - 1] !== 13) throw new HeadError(400, 'bare_lf', 'the head has a line ended by a bare LF');
  }
  return -1;
}

/** Header lines after the start line; `text` excludes the final CRLFCRLF. */
function parseFields(text: string, from: number, out: string[], what: string): void {
  let at = from;
  const end = text.length;
  while (at < end) {
    let eol = text.indexOf('\r\n', at);
    if (eol < 0) eol = end;
    const name = fieldName(text, at, eol, what);
    const value = fieldValue(text, at, eol, name);
    checkFieldValue(name, value, what);
    out.push(name, value);
    at = eol + 2;
  }
}

/** The name of the header line at `at` (its colon right after it), checked: a token. */
export function fieldName(text: string, at: number, eol: number, what: string): string {
  const first = text.charCodeAt(at);
  // A line starting with a blank continues the one before (obs-fold), whatever follows on it.
  if (first === 32 || first === 9) throw new HeadError(400, 'obs_fold', `a ${what} header line is folded onto the one before (obs-fold)`);
  const colon = text.indexOf(':', at);
  if (colon < 0 || colon > eol) {
    const line = text.slice(at, eol);
    throw new HeadError(400, FORBIDDEN_IN_LINE.test(line) ? lineFault(line) : 'header_without_colon', `a ${what} header line has no colon`);
  }
  const name = text.slice(at, colon);
  if (!TOKEN.test(name)) {
    const reason = FORBIDDEN_IN_LINE.test(name) ? lineFault(name) : 'invalid_header_name';
    throw new HeadError(400, reason, `a ${what} header name is not a token: ${JSON.stringify(name.slice(0, 40))}`);
  }
  return name;
}

/** A header value (or any part of its line) must hold no bare CR, LF or NUL. */
export function checkFieldValue(name: string, value: string, what: string): void {
  if (FORBIDDEN_IN_LINE.test(value)) throw new HeadError(400, lineFault(value), `the ${what} header ${name} holds a bare CR, LF or NUL`);
}

/** The value of the header line `at`…`eol` whose name is `name`, blanks around it trimmed. */
export function fieldValue(text: string, at: number, eol: number, name: string): string {
  let vs = at + name.length + 1;
  let ve = eol;
  while (vs < ve && isBlank(text.charCodeAt(vs))) vs++;
  while (ve > vs && isBlank(text.charCodeAt(ve - 1))) ve--;
  return text.slice(vs, ve);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function versionMinor(v: string, what: string): number {
  if (v === 'HTTP/1.1') return 1;
  if (v === 'HTTP/1.0') return 0;
  if (/^HTTP\/\d\.\d$/.test(v)) throw new HeadError(505, 'unsupported_version', `${what} uses ${v}; only HTTP/1.0 and HTTP/1.1 are spoken here`);
  throw new HeadError(400, FORBIDDEN_IN_LINE.test(v) ? lineFault(v) : 'invalid_version', `${what} has no valid HTTP version`);
}

export function parseRequestHead(text: string): RequestHead {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const sp1 = text.indexOf(' ');
  const sp2 = text.lastIndexOf(' ', eol - 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || sp1 > eol) {
    const line = text.slice(0, eol);
    throw new HeadError(400, FORBIDDEN_IN_LINE.test(line) ? lineFault(line) : 'invalid_request_line', 'the request line is not "METHOD target HTTP/1.x"');
  }
  const method = text.slice(0, sp1);
  const target = text.slice(sp1 + 1, sp2);
  if (!TOKEN.test(method)) throw new HeadError(400, 'invalid_method', 'the request method is not a token');
  if (!TARGET.test(target)) {
    throw new HeadError(400, FORBIDDEN_IN_LINE.test(target) ? lineFault(target) : 'invalid_target', 'the request target holds spaces or control characters');
  }
  const minor = versionMinor(text.slice(sp2 + 1, eol), 'the request');
  // The edge is a reverse proxy, not a forward one: no tunnels (nor their bodies) go to origins.
  if (method === 'CONNECT') throw new HeadError(405, 'connect_not_allowed', 'CONNECT is not served: this edge is not a forward proxy');
  let path = target;
  let authority = '';
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (target === '*') {
      if (method !== 'OPTIONS') throw new HeadError(400, 'invalid_target', 'the asterisk target is for OPTIONS only');
    } else {
      const split = absoluteTarget(target);
      authority = split.authority;
      path = split.path;
    }
  }
  const headers: string[] = [];
  parseFields(text, eol + 2, headers, 'request');
  return { method, target, path, authority, minor, headers };
}

/** An absolute-form target split into its authority and its origin form; other forms throw. */
function absoluteTarget(target: string): { authority: string; path: string } {
  if (!ABSOLUTE.test(target)) {
    throw new HeadError(400, 'invalid_target', 'the request target is neither a path starting with "/" nor an absolute URL (authority form is for CONNECT)');
  }
  const colon = target.indexOf(':');
  const scheme = target.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') throw new HeadError(400, 'invalid_target_scheme', `the request target's scheme "${scheme}" is not http or https`);
  const from = colon + 3;
  let to = from;
  while (to < target.length) {
    const c = target.charCodeAt(to);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    to++;
  }
  const authority = target.slice(from, to);
  if (authority.includes('@')) throw new HeadError(400, 'userinfo_in_target', 'the request target carries user information ("user@host"), which HTTP forbids');
  if (!AUTHORITY.test(authority)) throw new HeadError(400, 'invalid_target_authority', 'the request target has no valid host');
  const rest = target.slice(to);
  return { authority, path: rest.charCodeAt(0) === 47 ? rest : '/' + rest };
}

export function parseResponseHead(text: string): ResponseHead {
  const { status, reason, minor, fieldsAt } = parseStatusLine(text);
  const headers: string[] = [];
  parseFields(text, fieldsAt, headers, 'response');
  return { status, reason, minor, headers };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A response's status line; `fieldsAt`: where its header lines start. */
export function parseStatusLine(text: string): { status: number; reason: string; minor: number; fieldsAt: number } {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  // "HTTP/1.1 200 OK": version, exactly 3 digits, an optional reason of visible characters.
  if (eol < 12 || text.charCodeAt(8) !== 32) throw new HeadError(502, 'invalid_status_line', 'the origin sent no valid status line');
  const minor = versionMinor(text.slice(0, 8), 'the origin response');
  const d0 = text.charCodeAt(9);
  const d1 = text.charCodeAt(10);
  const d2 = text.charCodeAt(11);
  if (!isDigit(d0) || !isDigit(d1) || !isDigit(d2) || d0 === 48 || (eol > 12 && text.charCodeAt(12) !== 32)) {
    throw new HeadError(502, 'invalid_status_code', 'the origin sent no valid status code');
  }
  const status = (d0 - 48) * 100 + (d1 - 48) * 10 + (d2 - 48);
  const reason = eol > 13 ? text.slice(13, eol) : '';
  if (!REASON.test(reason)) {
    const fault = lineFault(reason);
    throw new HeadError(502, fault === 'invalid_character' ? 'invalid_reason_phrase' : fault, 'the origin sent a status line with control characters in its reason phrase');
  }
  return { status, reason, minor, fieldsAt: eol + 2 };
}

/**
 * The first value of header `lower` (a lower-case name) in a parsed head, or undefined. Names are
 * compared only when their lengths match, so a line costs a few length checks per header.
 */
export function headerValue(headers: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name.length === lower.length && (name === lower || name.toLowerCase() === lower)) return headers[i + 1];
  }
  return undefined;
}
