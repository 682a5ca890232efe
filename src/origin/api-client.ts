// A small client of originpull's v4 API (Cloudflare's paths and envelopes) for the CLI: upload a
// client certificate, associate hostnames, poll status, and fetch the installation's origin-pull CA.
// Tested in test/origin/upload.test.ts and test/cli/upload-api.test.ts.

export class ApiError extends Error {
  readonly code = 'ERR_ORIGINPULL_API';
  readonly status: number;
  readonly errors: { code?: number; message: string }[];
  constructor(message: string, status: number, errors: { code?: number; message: string }[] = [], options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.errors = errors;
  }
}

/** `http://host:4000`, `http://host:4000/` or `http://host:4000/client/v4` → the server root and the v4 base. */
export function apiUrls(url: string): { root: string; v4: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new ApiError(`--api: expected a URL like http://127.0.0.1:4000, got "${url}"`, 0, [], { cause: err });
  }
  const root = `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/client\/v4$/, '')}`;
  return { root, v4: `${root}/client/v4` };
}

interface Envelope<T> {
  success: boolean;
  errors?: { code?: number; message: string }[];
  messages?: unknown[];
  result: T;
}

export interface ApiClientOptions {
  /** Server root or v4 base URL. */
  baseUrl: string;
  token: string;
  timeoutMs?: number;
}

export class ApiClient {
  readonly v4: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(opts: ApiClientOptions) {
    this.v4 = apiUrls(opts.baseUrl).v4;
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** One call; returns `result`, or throws ApiError with the envelope's messages. */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = this.v4 + path;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why =
        cause?.code === 'ECONNREFUSED'
          ? 'connection refused (is `originpull serve` running there?)'
          : `${(err as Error).message}${cause?.message ? ` (${cause.message})` : ''}`;
      throw new ApiError(`${method} ${url}: ${why}`, 0, [], { cause: err });
    }
    const text = await res.text();
    let envelope: Envelope<T> | undefined;
    try {
      envelope = JSON.parse(text) as Envelope<T>;
    } catch {
      envelope = undefined;
    }
    if (!res.ok || !envelope || envelope.success === false) {
      const errors = envelope?.errors ?? [];
      const detail = errors.length > 0 ? errors.map((e) => (e.code ? `${e.message} (${e.code})` : e.message)).join('; ') : text.slice(0, 200) || res.statusText;
      const hint = res.status === 401 || res.status === 403 ? ' — check --token / ORIGINPULL_API_TOKEN' : '';
      throw new ApiError(`${method} ${path}: HTTP ${res.status}: ${detail}${hint}`, res.status, errors);
    }
    return envelope.result;
  }

  /** A zone id as given, or looked up by name with GET /zones?name=. */
  async resolveZone(nameOrId: string): Promise<{ id: string; name?: string }> {
    if (/^[0-9a-f]{32}$/i.test(nameOrId)) return { id: nameOrId };
    const zones = await this.request<{ id: string; name: string }[]>('GET', `/zones?name=${encodeURIComponent(nameOrId)}`);
    const zone = zones.find((z) => z.name === nameOrId) ?? zones[0];
    if (!zone) throw new ApiError(`no zone named "${nameOrId}" (GET /zones?name=${nameOrId} returned none)`, 404);
    return { id: zone.id, name: zone.name };
  }
}

/** The installation's origin-pull CA (PEM), served without authentication. */
export async function fetchOriginPullCa(apiUrl: string, timeoutMs = 10_000): Promise<string> {
  const url = `${apiUrls(apiUrl).root}/ssl/static/authenticated_origin_pull_ca.pem`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new ApiError(`GET ${url}: ${(err as Error).message}`, 0, [], { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw new ApiError(`GET ${url}: HTTP ${res.status}`, res.status);
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ApiError(`GET ${url}: the answer is not a PEM certificate`, res.status);
  return text;
}
