// Authentication and authorization, decorated once at the root (fastify-plugin) so one onRequest
// hook guards every route. Credentials: `Authorization: Bearer <token>`, or the legacy
// `X-Auth-Email` + `X-Auth-Key` pair where the key is the admin token.
//
// Route rules (`config.auth`):
//   public   no credentials (CA PEM, OpenAPI document)
//   any      any valid token (token verify, zone list which is filtered by the token's zones)
//   zone     default: any valid token; when the path names a zone the token must cover it
//   account  tokens not limited to zones (accounts, creating/deleting zones)
//   admin    the admin token only (managing API tokens)
// Writes (every method but GET/HEAD) need `edit` permission. A zone outside a token's scope is
// answered 403 whether or not it exists, so scoped tokens learn nothing about other zones.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiToken } from '../domain/index.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { hashTokenSecret, sameHash } from './token-secret.ts';
import type { AuthRule } from './context.ts';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function authError(detail?: string): ApiError {
  return new ApiError(API_ERRORS.authentication, detail ? `Authentication error: ${detail}` : undefined);
}

function forbidden(detail: string): ApiError {
  return new ApiError(API_ERRORS.forbidden, `Forbidden: ${detail}`);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function authenticate(app: FastifyInstance, request: FastifyRequest): Promise<ApiToken> {
  const authorization = header(request, 'authorization');
  const legacyKey = header(request, 'x-auth-key');
  let secret: string;
  let legacy = false;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw authError('the Authorization header must be "Bearer <token>"');
    secret = m[1];
  } else if (legacyKey !== undefined) {
    if (!header(request, 'x-auth-email')) throw authError('X-Auth-Key needs X-Auth-Email too');
    secret = legacyKey.trim();
    legacy = true;
  } else {
    throw authError('no credentials: send "Authorization: Bearer <token>"');
  }
  const hash = hashTokenSecret(secret);
  const token = await app.ctx.store.findTokenBySecretHash(hash);
  if (!token || !sameHash(token.secretHash, hash)) throw authError('invalid API token');
  // The legacy key/email pair stands for the admin identity only.
  if (legacy && !token.admin) throw authError('X-Auth-Key must be the admin token; use "Authorization: Bearer" for other tokens');
  return token;
}

export function authorize(token: ApiToken, rule: AuthRule, method: string, zoneId: string | undefined): void {
  if (!READ_METHODS.has(method) && token.permission !== 'edit') throw forbidden('this token may only read');
  if (rule === 'admin' && !token.admin) throw forbidden('only the admin token may manage API tokens');
  if (rule === 'account' && token.zoneIds !== null) throw forbidden('this token is limited to specific zones');
  if (zoneId !== undefined && token.zoneIds !== null && !token.zoneIds.includes(zoneId)) throw forbidden('this token does not cover this zone');
}

/** True when a scoped token may see `zoneId` (lists are filtered with this). */
export function tokenCoversZone(token: ApiToken, zoneId: string): boolean {
  return token.zoneIds === null || token.zoneIds.includes(zoneId);
}

async function authPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('token', null);
  app.addHook('onRequest', async (request) => {
    // Unknown routes answer 404/405 without credentials: the route list is public (openapi.json).
    if (request.is404) return;
    const rule = request.routeOptions.config.auth ?? 'zone';
    if (rule === 'public') return;
    const token = await authenticate(app, request);
    request.token = token;
    const zoneId = (request.params as { zone_id?: string } | undefined)?.zone_id;
    authorize(token, rule, request.method, zoneId);
  });
}

export const auth = fp(authPlugin, { name: 'originpull-auth', fastify: '5.x' });

/** The request's token on routes that are not public. */
export function requireToken(request: FastifyRequest): ApiToken {
  if (!request.token) throw authError();
  return request.token;
}
