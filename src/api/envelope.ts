// The v4 envelope: every success is 200 with {success, errors, messages, result}.
// The SDK never reads `success`, so failures use 4xx/5xx (see error-handler.ts).
// Tested in test/api/sdk.test.ts and test/api/zones.test.ts (pages).
import { Type, type TSchema } from '@sinclair/typebox';

export interface V4Message {
  code: number;
  message: string;
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

export function ok<T>(result: T, messages: V4Message[] = []) {
  return { success: true as const, errors: [] as V4Message[], messages, result };
}

/** The page asked for, the way Cloudflare's page/per_page lists read it (defaults for missing or 0). */
export function pageQuery(query: { page?: string; per_page?: string }, defaults: { perPage: number; maxPerPage: number }) {
  const perPage = Math.min(Math.max(Number(query.per_page ?? defaults.perPage) || defaults.perPage, 1), defaults.maxPerPage);
  const page = Math.max(Number(query.page ?? 1) || 1, 1);
  return { page, perPage };
}

/** One page already cut (by the store) out of `total` items; the SDK stops at an empty page. */
export function okPageOf<T>(result: T[], total: number, at: { page: number; perPage: number }) {
  const result_info: ResultInfo = {
    page: at.page,
    per_page: at.perPage,
    count: result.length,
    total_count: total,
    total_pages: Math.max(1, Math.ceil(total / at.perPage)),
  };
  return { ...ok(result), result_info };
}

/** Pages a full list the way Cloudflare's page/per_page lists do; the SDK stops at an empty page. */
export function okPage<T>(all: T[], query: { page?: string; per_page?: string }, defaults: { perPage: number; maxPerPage: number }) {
  const at = pageQuery(query, defaults);
  return okPageOf(all.slice((at.page - 1) * at.perPage, at.page * at.perPage), all.length, at);
}

/** A whole list in one page (the AOP lists: the SDK reads them as a SinglePage). */
export function okList<T>(all: T[], messages: V4Message[] = []) {
  const result_info: ResultInfo = { page: 1, per_page: all.length, count: all.length, total_count: all.length, total_pages: 1 };
  return { ...ok(all, messages), result_info };
}

// ── schemas for OpenAPI and response serialization ───────────────────────────

export const V4MessageSchema = Type.Object({
  code: Type.Integer({ minimum: 1000 }),
  message: Type.String(),
  documentation_url: Type.Optional(Type.String()),
  source: Type.Optional(Type.Object({ pointer: Type.Optional(Type.String()) })),
});

export const ResultInfoSchema = Type.Object({
  page: Type.Integer(),
  per_page: Type.Integer(),
  count: Type.Integer(),
  total_count: Type.Integer(),
  total_pages: Type.Integer(),
});

export function Envelope<T extends TSchema>(result: T) {
  return Type.Object({
    success: Type.Boolean(),
    errors: Type.Array(V4MessageSchema),
    messages: Type.Array(V4MessageSchema),
    result,
  });
}

export function ListEnvelope<T extends TSchema>(item: T) {
  return Type.Object({
    success: Type.Boolean(),
    errors: Type.Array(V4MessageSchema),
    messages: Type.Array(V4MessageSchema),
    result: Type.Array(item),
    result_info: Type.Optional(ResultInfoSchema),
  });
}

/** Page query parameters are strings: the API validates without type coercion (wrong JSON types must fail). */
export const PageQuery = {
  page: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'Page number, from 1' })),
  per_page: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'Items per page' })),
};
