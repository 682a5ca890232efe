// HTTP/1.1 message heads (RFC 9112): request and response start lines and header fields, parsed
// from the latin1 text before the blank line. Headers come out flat ([name, value, …], names as
// sent), the shape the header filters walk once. Strict where leniency would let a request mean
// one thing to the edge and another to the origin (bare CR or LF, obs-fold, bad names).

/** A head the edge cannot accept; `status` is what the visitor gets (400, 431, 501, 505). */
export class HeadError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface RequestHead {
  method: string;
  target: string;
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
  const colon = text.indexOf(':', at);
  if (colon < 0 || colon > eol) throw new HeadError(400, `a ${what} header line has no colon`);
  const name = text.slice(at, colon);
  // An obs-folded continuation line starts with a blank and fails here too.
  if (!TOKEN.test(name)) throw new HeadError(400, `a ${what} header name is not a token: ${JSON.stringify(name.slice(0, 40))}`);
  return name;
}

/** A header value (or any part of its line) must hold no bare CR, LF or NUL. */
export function checkFieldValue(name: string, value: string, what: string): void {
  if (FORBIDDEN_IN_LINE.test(value)) throw new HeadError(400, `the ${what} header ${name} holds a bare CR, LF or NUL`);
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
  if (/^HTTP\/\d\.\d$/.test(v)) throw new HeadError(505, `${what} uses ${v}; only HTTP/1.0 and HTTP/1.1 are spoken here`);
  throw new HeadError(400, `${what} has no valid HTTP version`);
}

export function parseRequestHead(text: string): RequestHead {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const sp1 = text.indexOf(' ');
  const sp2 = text.lastIndexOf(' ', eol - 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || sp1 > eol) throw new HeadError(400, 'the request line is not "METHOD target HTTP/1.x"');
  const method = text.slice(0, sp1);
  const target = text.slice(sp1 + 1, sp2);
  if (!TOKEN.test(method)) throw new HeadError(400, 'the request method is not a token');
  if (!TARGET.test(target)) throw new HeadError(400, 'the request target holds spaces or control characters');
  const minor = versionMinor(text.slice(sp2 + 1, eol), 'the request');
  const headers: string[] = [];
  parseFields(text, eol + 2, headers, 'request');
  return { method, target, minor, headers };
}

export function parseResponseHead(text: string): ResponseHead {
  const { status, reason, minor, fieldsAt } = parseStatusLine(text);
  const headers: string[] = [];
  parseFields(text, fieldsAt, headers, 'response');
  return { status, reason, minor, headers };
}

/** A response's status line; `fieldsAt`: where its header lines start. */
export function parseStatusLine(text: string): { status: number; reason: string; minor: number; fieldsAt: number } {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  // "HTTP/1.1 200 OK": version, a 3-digit status, an optional reason.
  if (eol < 12 || text.charCodeAt(8) !== 32) throw new HeadError(502, 'the origin sent no valid status line');
  const minor = versionMinor(text.slice(0, 8), 'the origin response');
  const status = Number(text.slice(9, 12));
  if (!Number.isInteger(status) || status < 100 || status > 999 || (eol > 12 && text.charCodeAt(12) !== 32)) {
    throw new HeadError(502, 'the origin sent no valid status code');
  }
  const reason = eol > 13 ? text.slice(13, eol) : '';
  return { status, reason, minor, fieldsAt: eol + 2 };
}
