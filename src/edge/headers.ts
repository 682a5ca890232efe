// Header handling on the request path, in one pass over the raw arrays (no object copies).
// Upstream: hop-by-hop headers (RFC 9110 §7.6.1) and the ones the edge sets itself are dropped,
// then X-Forwarded-*, CF-* and the ray id are added. Downstream: hop-by-hop headers are dropped.

const DROP = 1;
const XFF = 2;
const CONTENT_LENGTH = 3;
const TRANSFER_ENCODING = 4;
const CONNECTION = 5;
const HOST = 6;

/** Lower-case request header name → what to do with it. Anything absent is copied. */
const REQUEST_ACTIONS: ReadonlyMap<string, number> = new Map<string, number>([
  ['connection', CONNECTION],
  ['keep-alive', DROP],
  ['te', DROP],
  ['trailer', DROP],
  ['transfer-encoding', TRANSFER_ENCODING],
  ['upgrade', DROP],
  ['proxy-connection', DROP],
  ['proxy-authorization', DROP],
  ['proxy-authenticate', DROP],
  ['http2-settings', DROP],
  // undici refuses `expect`; Node's server already answered any 100-continue.
  ['expect', DROP],
  // Set by the edge; a visitor must not be able to forge them.
  ['x-forwarded-proto', DROP],
  ['x-forwarded-host', DROP],
  ['cf-connecting-ip', DROP],
  ['cf-visitor', DROP],
  ['cf-ray', DROP],
  ['x-forwarded-for', XFF],
  ['content-length', CONTENT_LENGTH],
  ['host', HOST],
]);

const RESPONSE_DROP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'http2-settings']);

// Most headers (User-Agent, Accept…, Content-Type, Date, ETag…) match none of the names above.
// Their lengths tell so without lower-casing them or hashing a fresh string for a Map lookup.
function lengthsOf(names: Iterable<string>): Uint8Array {
  const table = new Uint8Array(256);
  for (const n of names) table[n.length] = 1;
  return table;
}
const REQUEST_LENGTHS = lengthsOf(REQUEST_ACTIONS.keys());
const RESPONSE_LENGTHS = lengthsOf([...RESPONSE_DROP, 'cf-ray']);
/** `proxy-*` request headers are dropped too: a name of more than 6 characters starting with p/P. */
const isProxyPrefixed = (name: string) => name.length > 6 && (name.charCodeAt(0) | 0x20) === 112 /* p */ && name.toLowerCase().startsWith('proxy-');

/** Tokens of Connection that are not themselves header names to strip. */
const CONNECTION_OPTIONS = new Set(['close', 'keep-alive']);

export interface RequestHeaderFacts {
  /** The visitor request carries a body (Content-Length > 0 or Transfer-Encoding). */
  hasBody: boolean;
  /** Host header as sent, or '' when missing. */
  host: string;
}

const CF_VISITOR_HTTPS = '{"scheme":"https"}';
const CF_VISITOR_HTTP = '{"scheme":"http"}';

/**
 * Flat [name, value, …] array for undici, built from the visitor's raw headers.
 * `facts` is filled in passing so the caller needs no second scan.
 */
export function upstreamHeaders(raw: string[], clientIp: string, scheme: 'http' | 'https', rayId: string, facts: RequestHeaderFacts): string[] {
  const out: string[] = [];
  let xff: string | null = null;
  let named: Set<string> | null = null;
  facts.hasBody = false;
  facts.host = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const action = name.length < 256 && REQUEST_LENGTHS[name.length] === 1 ? REQUEST_ACTIONS.get(name.toLowerCase()) : undefined;
    if (action === undefined) {
      if (named !== null && named.has(name.toLowerCase())) continue;
      if (isProxyPrefixed(name)) continue;
      out.push(name, raw[i + 1]);
      continue;
    }
    switch (action) {
      case DROP:
        break;
      case XFF:
        xff = xff === null ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
        break;
      case CONTENT_LENGTH:
        if (raw[i + 1] !== '0') facts.hasBody = true;
        out.push(name, raw[i + 1]);
        break;
      case TRANSFER_ENCODING:
        facts.hasBody = true;
        break;
      case HOST:
        facts.host = raw[i + 1];
        out.push(name, raw[i + 1]);
        break;
      case CONNECTION:
        named = connectionTokens(raw[i + 1], named);
        break;
    }
  }
  if (named !== null) removeNamed(out, named);
  out.push(
    'x-forwarded-for',
    xff === null ? clientIp : `${xff}, ${clientIp}`,
    'x-forwarded-proto',
    scheme,
    'x-forwarded-host',
    facts.host,
    'cf-connecting-ip',
    clientIp,
    'cf-visitor',
    scheme === 'https' ? CF_VISITOR_HTTPS : CF_VISITOR_HTTP,
    'cf-ray',
    rayId,
  );
  return out;
}

function connectionTokens(value: string, into: Set<string> | null): Set<string> | null {
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '' || CONNECTION_OPTIONS.has(t)) continue;
    into ??= new Set();
    into.add(t);
  }
  return into;
}

/** Headers named by Connection may come before it; drop them after the pass (rare path). */
function removeNamed(out: string[], named: Set<string>): void {
  let w = 0;
  for (let r = 0; r < out.length; r += 2) {
    if (named.has(out[r].toLowerCase())) continue;
    out[w++] = out[r];
    out[w++] = out[r + 1];
  }
  out.length = w;
}

/** Flat [name, value, …] strings for writeHead, from undici's raw response headers. */
export function downstreamHeaders(raw: Buffer[], rayId: string): string[] {
  const out: string[] = [];
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    if (name.length < 256 && RESPONSE_LENGTHS[name.length] === 1) {
      const lower = name.toLowerCase();
      if (RESPONSE_DROP.has(lower)) {
        if (lower === 'connection') named = connectionTokens(raw[i + 1].toString('latin1'), named);
        continue;
      }
      if (lower === 'cf-ray') continue;
    }
    out.push(name, raw[i + 1].toString('latin1'));
  }
  if (named !== null) removeNamed(out, named);
  out.push('cf-ray', rayId);
  return out;
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

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged. */
export function visitorIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
