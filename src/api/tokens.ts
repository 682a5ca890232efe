// API tokens under /user/tokens. Our create body is simpler than Cloudflare's policy documents:
// `{name, permission: read|edit, zones: [zone ids] | null}`; the answer carries the secret as
// `value`, once. Managing tokens takes the admin token; `verify` works for any token.
// Tested in test/api/auth.test.ts and test/web/tokens-zones.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireToken } from './auth.ts';
import { Envelope, ListEnvelope, ok, okList } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { TokenCreateBody, TokenParams, TokenSchema, TokenVerifySchema, ZoneDeletedSchema } from './schemas.ts';
import { generateTokenSecret, hashTokenSecret } from './token-secret.ts';
import { tokenWire } from './wire.ts';

const tags = ['API tokens'];

export const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.get(
    '/user/tokens/verify',
    { config: { auth: 'any' }, schema: { tags, summary: 'Verify the token of this request', response: { 200: Envelope(TokenVerifySchema) } } },
    async (request) => {
      const token = requireToken(request);
      return ok({ id: token.id, status: 'active', permission: token.permission, zones: token.zoneIds, admin: token.admin });
    },
  );

  app.post(
    '/user/tokens',
    { config: { auth: 'admin' }, schema: { tags, summary: 'Create an API token', body: TokenCreateBody, response: { 200: Envelope(TokenSchema) } } },
    async (request) => {
      const zones = request.body.zones ?? null;
      if (zones !== null) {
        if (zones.length === 0) throw new ApiError(API_ERRORS.invalidToken, 'zones must list at least one zone id, or be null for every zone', { pointer: '/zones' });
        const found = await ctx.store.listZones({ ids: zones });
        const known = new Set(found.map((z) => z.id));
        const unknown = zones.find((id) => !known.has(id));
        if (unknown !== undefined) throw new ApiError(API_ERRORS.invalidToken, `zones: unknown zone ${unknown.slice(0, 64)}`, { pointer: '/zones' });
      }
      const secret = generateTokenSecret();
      const token = await ctx.store.createToken({
        name: request.body.name,
        secretHash: hashTokenSecret(secret),
        zoneIds: zones === null ? null : [...new Set(zones)],
        permission: request.body.permission ?? 'read',
        admin: false,
      });
      return ok(tokenWire(token, secret));
    },
  );

  app.get(
    '/user/tokens',
    { config: { auth: 'admin' }, schema: { tags, summary: 'List API tokens (never their secrets)', response: { 200: ListEnvelope(TokenSchema) } } },
    async () => okList((await ctx.store.listTokens()).map((t) => tokenWire(t))),
  );

  app.get(
    '/user/tokens/:token_id',
    { config: { auth: 'admin' }, schema: { tags, summary: 'Get an API token', params: TokenParams, response: { 200: Envelope(TokenSchema) } } },
    async (request) => {
      const token = (await ctx.store.listTokens()).find((t) => t.id === request.params.token_id);
      if (!token) throw new ApiError(API_ERRORS.tokenNotFound, `Token not found: ${request.params.token_id}`);
      return ok(tokenWire(token));
    },
  );

  app.delete(
    '/user/tokens/:token_id',
    { config: { auth: 'admin' }, schema: { tags, summary: 'Delete an API token', params: TokenParams, response: { 200: Envelope(ZoneDeletedSchema) } } },
    async (request) => {
      const token = (await ctx.store.listTokens()).find((t) => t.id === request.params.token_id);
      if (!token) throw new ApiError(API_ERRORS.tokenNotFound, `Token not found: ${request.params.token_id}`);
      if (token.admin) throw new ApiError(API_ERRORS.adminTokenProtected, 'The admin token cannot be deleted: set ORIGINPULL_API_TOKEN or replace <data-dir>/admin-token to rotate it');
      await ctx.store.deleteToken(token.id);
      return ok({ id: token.id });
    },
  );
};
