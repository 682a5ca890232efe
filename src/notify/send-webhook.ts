// One webhook POST: JSON body, the destination's secret in `cf-webhook-auth` (as Cloudflare sends
// it), a hard deadline, no redirects followed, and a failure described in words a 400 or the
// delivery log can show ("connection refused", "timed out after 10 s", "answered HTTP 500").
import type { LookupFunction } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';

export const WEBHOOK_AUTH_HEADER = 'cf-webhook-auth';
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** Cloudflare's "Save and Test" message, worded for originpull, same shape. */
export const WEBHOOK_TEST_MESSAGE = Object.freeze({
  text: 'Hello World! This is a test message sent from originpull. If you can see this, your webhook is configured properly.',
});

export interface WebhookPost {
  url: string | URL;
  /** Plain secret; omitted or null: no `cf-webhook-auth` header. */
  secret?: string | null;
  /** The JSON text to send. */
  body: string;
  timeoutMs?: number;
  /** Aborts the attempt (the notifier's destroy()). */
  signal?: AbortSignal;
  /** The resolver to connect with (checkWebhookUrl's, which refuses addresses not allowed). */
  lookup?: LookupFunction | null;
}

export type WebhookResult =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; aborted: boolean; addressDenied?: true };

export async function postWebhook(post: WebhookPost): Promise<WebhookResult> {
  const timeoutMs = post.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = post.signal ? AbortSignal.any([post.signal, timeout]) : timeout;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'originpull-notify' };
  if (post.secret) headers[WEBHOOK_AUTH_HEADER] = post.secret;
  const url = new URL(post.url);
  // The checked resolver runs inside the connection attempt: what it allowed is what is dialled.
  const dispatcher: Dispatcher | undefined = post.lookup ? new Agent({ connect: { lookup: post.lookup, timeout: timeoutMs } }) : undefined;
  try {
    const res = await request(url, {
      method: 'POST',
      headers,
      body: post.body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      // One connection per alert: alerts are rare, and no idle socket outlives the notifier.
      reset: true,
      ...(dispatcher ? { dispatcher } : {}),
    });
    // The answer's body is not used; read a little of it so the connection ends cleanly.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, status: res.statusCode, error: `the receiver answered HTTP ${res.statusCode}`, aborted: false };
  } catch (err) {
    if (post.signal?.aborted) return { ok: false, status: null, error: 'aborted: the notifier is shutting down', aborted: true };
    if (timeout.aborted) return { ok: false, status: null, error: `timed out after ${formatSeconds(timeoutMs)} without an answer`, aborted: false };
    const denied = addressError(err);
    if (denied) return { ok: false, status: null, error: `not sent: ${denied}`, aborted: false, addressDenied: true };
    return { ok: false, status: null, error: describeNetworkError(err, url), aborted: false };
  } finally {
    dispatcher?.destroy().catch(() => {});
  }
}

/** The refusal of guardedLookup (webhook-address.ts), as undici passes it on. */
function addressError(err: unknown): string | null {
  for (let e = err as { code?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'ERR_WEBHOOK_ADDRESS') return e.message ?? 'address not allowed';
  }
  return null;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Network failures in words; undici reports some with the socket error as `cause`. */
export function describeNetworkError(err: unknown, url: URL): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code && !e.code.startsWith('UND_ERR_') ? e.code : (e?.cause?.code ?? e?.code);
  const where = url.host;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `host ${url.hostname} not found (DNS)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `the connection to ${where} was closed before an answer`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connecting to ${where} timed out`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `${where} did not answer in time`;
  }
  if (code && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_/.test(code))) {
    return `TLS with ${where} failed: ${code}`;
  }
  const message = e?.cause?.message ?? e?.message ?? String(err);
  return `request to ${where} failed: ${code ? `${code} ` : ''}${message}`.slice(0, 500);
}
