// Which URLs a webhook destination may target: the installation setting ORIGINPULL_WEBHOOK_ALLOW,
// comma-separated entries of two kinds:
//
//   URL prefixes     a URL is allowed when it has the same scheme, host and port as one of them and
//                    its path starts with that prefix's path (so `https://hooks.example` never
//                    matches `https://hooks.example.evil.net`). Listing a host is explicit
//                    permission: it may be (or resolve to) a loopback or private address.
//   address classes  `loopback`, `private`, `link-local`: URLs whose host is such an address are
//                    allowed as well (for receivers on the installation's own networks).
//   `*`              any URL (the same as listing no prefix).
//
// Unset or empty: any http(s) URL whose host is a public address, as at Cloudflare. Without an
// explicit entry, loopback, private, link-local and reserved addresses are refused, at save time
// and again when sending (see webhook-address.ts: the address connected to is the one checked).
// Always: http/https only, no user:password@ in the URL (send a secret instead), ≤ 2048 chars.
import { isIP, type LookupFunction } from 'node:net';
import { addressAllowed, addressClass, ALLOWABLE_CLASSES, guardedLookup, type AllowableClass } from './webhook-address.ts';

export const WEBHOOK_ALLOW_ENV = 'ORIGINPULL_WEBHOOK_ALLOW';
export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface WebhookAllowList {
  /** null: any http/https URL. */
  readonly prefixes: readonly URL[] | null;
  /** Non-public address classes allowed for any URL (empty by default). */
  readonly addressClasses: ReadonlySet<AllowableClass>;
  /** How the setting reads, for error messages. */
  readonly description: string;
}

const PUBLIC_ONLY = 'any http or https URL of a public address';

/** Reads the setting; throws (naming the variable) when an entry is neither an http(s) URL nor an address class. */
export function webhookAllowList(env: NodeJS.ProcessEnv = process.env): WebhookAllowList {
  const entries = (env[WEBHOOK_ALLOW_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const prefixes: URL[] = [];
  const classes = new Set<AllowableClass>();
  let any = false;
  for (const entry of entries) {
    if (entry === '*') {
      any = true;
      continue;
    }
    if ((ALLOWABLE_CLASSES as readonly string[]).includes(entry)) {
      classes.add(entry as AllowableClass);
      continue;
    }
    let url: URL;
    try {
      url = new URL(entry);
    } catch (err) {
      throw new Error(
        `${WEBHOOK_ALLOW_ENV}: "${entry}" is neither a URL prefix such as https://hooks.example.com/ nor one of *, ${ALLOWABLE_CLASSES.join(', ')}`,
        { cause: err },
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${WEBHOOK_ALLOW_ENV}: "${entry}" must start with http:// or https://`);
    prefixes.push(url);
  }
  const open = classes.size > 0 ? ` (also ${[...classes].join(', ')} addresses)` : '';
  if (any || prefixes.length === 0) return Object.freeze({ prefixes: null, addressClasses: classes, description: `${PUBLIC_ONLY}${open}` });
  return Object.freeze({
    prefixes: Object.freeze(prefixes),
    addressClasses: classes,
    description: `URLs starting with ${prefixes.map((p) => p.href).join(', ')}${open}`,
  });
}

export type WebhookUrlCheck =
  | {
      ok: true;
      url: URL;
      /**
       * The resolver to connect with: it refuses addresses the list does not allow. Null when the
       * host needs no check (an allowed literal address, or a host an explicit prefix names).
       */
      lookup: LookupFunction | null;
    }
  | { ok: false; message: string };

/** Whether `raw` may be a webhook target; the message says why not, for a 400. */
export function checkWebhookUrl(raw: string, allow: WebhookAllowList): WebhookUrlCheck {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, message: `url is longer than ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: `url "${raw.slice(0, 200)}" is not a valid absolute URL (expected e.g. https://hooks.example.com/originpull)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `url must use http or https, not ${url.protocol.slice(0, -1)}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'url must not contain credentials (user:password@): use the secret, sent as cf-webhook-auth' };
  }
  const listed = allow.prefixes !== null && allow.prefixes.some((p) => matchesPrefix(url, p));
  if (allow.prefixes !== null && !listed) {
    return { ok: false, message: `url is not allowed by this installation (${WEBHOOK_ALLOW_ENV}: ${allow.description})` };
  }
  if (listed) return { ok: true, url, lookup: null };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0) {
    if (addressAllowed(host, allow.addressClasses)) return { ok: true, url, lookup: null };
    return { ok: false, message: deniedMessage(`${host} is a ${addressClass(host)} address`, allow) };
  }
  return { ok: true, url, lookup: guardedLookup(allow.addressClasses) };
}

/** Why an address is refused, and how to allow it. */
export function deniedMessage(what: string, allow: WebhookAllowList): string {
  return `url is not allowed by this installation: ${what} (${WEBHOOK_ALLOW_ENV}: ${allow.description}; list the URL prefix or the address class to allow it)`;
}

function matchesPrefix(url: URL, prefix: URL): boolean {
  return url.protocol === prefix.protocol && url.host === prefix.host && url.pathname.startsWith(prefix.pathname);
}
