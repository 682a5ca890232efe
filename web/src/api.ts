// The dashboard's only way to the server: the public /client/v4 API with the session's token.
// Failures become ApiFailure carrying the API's own words (errors[0].message) and, when the API
// names one, the field (source.pointer) so forms can show the message beside it.
import { loadToken } from './session.ts';

export const API_BASE = '/client/v4';
export const CA_PEM_URL = `${API_BASE}/ssl/static/authenticated_origin_pull_ca.pem`;

export class ApiFailure extends Error {
  readonly status: number;
  readonly code: number;
  /** JSON pointer of the offending field, e.g. `/private_key`, when the API gave one. */
  readonly pointer: string | undefined;
  readonly method: string;

  constructor(status: number, code: number, message: string, pointer: string | undefined, method: string) {
    super(message);
    this.name = 'ApiFailure';
    this.status = status;
    this.code = code;
    this.pointer = pointer;
    this.method = method;
  }

  /** The last segment of the pointer (`/config/0/cert_id` → `cert_id`). */
  get field(): string | undefined {
    if (!this.pointer) return undefined;
    const parts = this.pointer.split('/').filter((p) => p !== '' && !/^\d+$/.test(p));
    return parts.at(-1);
  }

  get isWrite(): boolean {
    return this.method !== 'GET' && this.method !== 'HEAD';
  }
}

export interface V4Message {
  code: number;
  message: string;
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages?: number;
}

export interface V4Response<T> {
  result: T;
  messages: V4Message[];
  result_info?: ResultInfo;
}

type Listener = (failure: ApiFailure) => void;
const listeners = new Set<Listener>();

/** Every failure is also announced here: the app signs out on 401 and learns read-only tokens from 403s. */
export function onApiFailure(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

interface ErrorBody {
  errors?: { code?: number; message?: string; source?: { pointer?: string } }[];
}

/**
 * How a read came about. A refresh is the page re-reading what it shows (on a timer or after a
 * change); it carries POLL_HEADER so the server logs it at debug, and a page left open does not
 * fill the operator's log.
 */
export interface Read {
  refresh: boolean;
}

export const POLL_HEADER = 'x-originpull-poll';

export async function request<T>(method: string, path: string, body?: unknown, token: string | null = loadToken(), read?: Read): Promise<V4Response<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (read?.refresh) headers[POLL_HEADER] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(API_BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (err) {
    throw new ApiFailure(0, 0, `The API did not answer (${err instanceof Error ? err.message : String(err)})`, undefined, method);
  }
  let parsed: unknown = null;
  const text = await res.text();
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const first = (parsed as ErrorBody | null)?.errors?.[0];
    const failure = new ApiFailure(
      res.status,
      first?.code ?? 0,
      first?.message ?? `The API answered ${res.status} ${res.statusText}`,
      first?.source?.pointer,
      method,
    );
    for (const l of listeners) l(failure);
    throw failure;
  }
  const envelope = parsed as { result: T; messages?: V4Message[]; result_info?: ResultInfo } | null;
  if (envelope === null || typeof envelope !== 'object') throw new ApiFailure(res.status, 0, 'The API answered something that is not JSON', undefined, method);
  return { result: envelope.result, messages: envelope.messages ?? [], result_info: envelope.result_info };
}

export async function get<T>(path: string, read?: Read): Promise<T> {
  return (await request<T>('GET', path, undefined, loadToken(), read)).result;
}

/** Every page of a paged list (zones, DNS records). */
export async function getAll<T>(path: string, perPage: number, read?: Read): Promise<T[]> {
  const out: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  for (let page = 1; page < 1000; page++) {
    const res = await request<T[]>('GET', `${path}${sep}page=${page}&per_page=${perPage}`, undefined, loadToken(), read);
    out.push(...res.result);
    const info = res.result_info;
    if (!info || res.result.length < perPage || (info.total_pages !== undefined && page >= info.total_pages)) break;
  }
  return out;
}

/** Fired on window after every successful change, so every live view refreshes at once. */
export const CHANGED_EVENT = 'originpull:changed';

export async function send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<V4Response<T>> {
  const res = await request<T>(method, path, body);
  dispatchEvent(new Event(CHANGED_EVENT));
  return res;
}

/** One path segment (host names, ids); `*` of wildcards is left as is, like the SDK does. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
