// Translation between HTTP/2 header blocks and the HTTP/1.1 heads the phases work with. A visitor's
// HTTP/2 request becomes the RequestHead an HTTP/1.1 request line and fields would have parsed to
// (`:authority` as Host, cookies joined), so routing, the upstream head and its framing checks are
// the very ones of the HTTP/1 path. The phases answer with HTTP/1.1 head text; an HTTP/2 stream
// reads its status and fields back out of it. Pure: tested in test/edge/http2-head.test.ts.
import { checkFieldValue, HeadError, isAuthority, type RequestHead } from './http1/head.ts';

/**
 * Connection-specific fields (RFC 9113 §8.2.2): a request carrying one is malformed. `te` is
 * allowed with the value `trailers` only.
 */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * The request head of an HTTP/2 stream. `raw` is the header block as received (name, value, …;
 * names are lower case: nghttp2 refuses others); `endStream`: the block ended the stream, so there
 * is no body. A body without Content-Length goes to the origin chunked, as an HTTP/1.1 client
 * would send it: the head then carries `transfer-encoding: chunked`, which only the edge adds.
 * Throws HeadError for what the edge refuses.
 */
export function requestHeadOf(raw: readonly string[], endStream: boolean): RequestHead {
  let method = '';
  let path = '';
  let authority = '';
  let scheme = '';
  let host = '';
  let cookie: string | null = null;
  let contentLength = false;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') authority = value;
      else if (name === ':scheme') scheme = value;
      else throw new HeadError(400, 'invalid_pseudo_header', `the request carries the pseudo-header ${name}, which the edge does not serve`);
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value.toLowerCase() !== 'trailers')) {
      throw new HeadError(400, 'connection_specific_header', `the request carries the connection-specific header ${name}, which HTTP/2 forbids`);
    }
    checkFieldValue(name, value, 'request');
    if (name === 'cookie') {
      // Cookie crumbs may come as separate fields; HTTP/1.1 wants one (RFC 9113 §8.2.3).
      cookie = cookie === null ? value : cookie + '; ' + value;
      continue;
    }
    if (name === 'host') {
      host = value;
      continue;
    }
    if (name === 'content-length') contentLength = true;
    headers.push(name, value);
  }
  if (method === 'CONNECT') throw new HeadError(405, 'connect_not_allowed', 'CONNECT is not served: this edge is not a forward proxy');
  if (method === '' || path === '' || scheme === '') throw new HeadError(400, 'missing_pseudo_header', 'the request lacks :method, :scheme or :path');
  if (path.charCodeAt(0) !== 47 /* / */ && !(path === '*' && method === 'OPTIONS')) {
    throw new HeadError(400, 'invalid_target', 'the request :path is neither a path starting with "/" nor "*" for OPTIONS');
  }
  checkFieldValue(':path', path, 'request');
  if (authority !== '') {
    if (!isAuthority(authority)) throw new HeadError(400, 'invalid_authority', `:authority is not a host name and port: ${JSON.stringify(authority.slice(0, 40))}`);
    if (host !== '' && host.toLowerCase() !== authority.toLowerCase()) throw new HeadError(400, 'authority_host_mismatch', 'the Host header names another host than :authority');
    host = authority;
  }
  // Host first, as HTTP/1.1 clients send it; the upstream head copies fields in order.
  const out = host === '' ? headers : ['host', host, ...headers];
  if (cookie !== null) out.push('cookie', cookie);
  if (!endStream && !contentLength) out.push('transfer-encoding', 'chunked');
  return { method, target: path, path, authority: '', minor: 1, headers: out };
}

/** Fields the phases add for HTTP/1.1 visitors, meaningless (and forbidden) on an HTTP/2 stream. */
const DROP_DOWNSTREAM: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

export interface Http2Response {
  /** `:status` first, then lower-case field names and values (node:http2's raw header form). */
  headers: string[];
  status: number;
  /** The head declares a Content-Length: the body's end is known, no trailers can follow. */
  hasLength: boolean;
  /** Its value (-1 without one). */
  length: number;
}

/** The HTTP/2 header block for an HTTP/1.1 response head (status line and fields, with or without the blank line). */
export function responseOf(head: string): Http2Response {
  const status = (head.charCodeAt(9) - 48) * 100 + (head.charCodeAt(10) - 48) * 10 + (head.charCodeAt(11) - 48);
  const headers: string[] = [':status', String(status)];
  let hasLength = false;
  let length = -1;
  let at = head.indexOf('\r\n') + 2;
  const end = head.length;
  while (at > 1 && at < end) {
    let eol = head.indexOf('\r\n', at);
    if (eol < 0) eol = end;
    if (eol === at) break;
    const colon = head.indexOf(':', at);
    const name = head.slice(at, colon).toLowerCase();
    if (!DROP_DOWNSTREAM.has(name)) {
      let vs = colon + 1;
      while (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9) vs++;
      const value = head.slice(vs, eol);
      headers.push(name, value);
      if (name === 'content-length') {
        hasLength = true;
        length = Number(value);
      }
    }
    at = eol + 2;
  }
  return { headers, status, hasLength, length };
}

/**
 * Trailer fields from a chunked body's trailer section (latin1, as the origin sent it), for an
 * HTTP/2 stream: lower-case names, connection-specific fields and pseudo-headers left out.
 */
export function trailersOf(section: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const line of section.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (DROP_DOWNSTREAM.has(name) || name === 'te' || name === 'content-length' || name === 'host') continue;
    const value = line.slice(colon + 1).trim();
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
