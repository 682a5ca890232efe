// Which URLs a webhook destination may target: the installation setting ORIGINPULL_WEBHOOK_ALLOW.
//
//   unset, empty or `*`   any http:// or https:// URL (the default: self-hosted receivers
//                         usually live on private networks, unlike Cloudflare's public-only rule)
//   a,b,c                 comma-separated URL prefixes; a URL is allowed when it has the same
//                         scheme, host and port as one of them and its path starts with that
//                         prefix's path (so `https://hooks.example` never matches
//                         `https://hooks.example.evil.net`)
//
// Always: http/https only, no user:password@ in the URL (send a secret instead), ≤ 2048 chars.
export const WEBHOOK_ALLOW_ENV = 'ORIGINPULL_WEBHOOK_ALLOW';
export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface WebhookAllowList {
  /** null: any http/https URL. */
  readonly prefixes: readonly URL[] | null;
  /** How the setting reads, for error messages. */
  readonly description: string;
}

/** Reads the setting; throws (naming the variable) when an entry is not an http(s) URL. */
export function webhookAllowList(env: NodeJS.ProcessEnv = process.env): WebhookAllowList {
  const raw = (env[WEBHOOK_ALLOW_ENV] ?? '').trim();
  if (raw === '' || raw === '*') return { prefixes: null, description: 'any http or https URL' };
  const prefixes = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch (err) {
        throw new Error(`${WEBHOOK_ALLOW_ENV}: "${entry}" is not a URL prefix such as https://hooks.example.com/`, { cause: err });
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${WEBHOOK_ALLOW_ENV}: "${entry}" must start with http:// or https://`);
      return url;
    });
  if (prefixes.length === 0) return { prefixes: null, description: 'any http or https URL' };
  return Object.freeze({ prefixes: Object.freeze(prefixes), description: `URLs starting with ${prefixes.map((p) => p.href).join(', ')}` });
}

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; message: string };

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
  if (allow.prefixes !== null && !allow.prefixes.some((p) => matchesPrefix(url, p))) {
    return { ok: false, message: `url is not allowed by this installation (${WEBHOOK_ALLOW_ENV}: ${allow.description})` };
  }
  return { ok: true, url };
}

function matchesPrefix(url: URL, prefix: URL): boolean {
  return url.protocol === prefix.protocol && url.host === prefix.host && url.pathname.startsWith(prefix.pathname);
}
