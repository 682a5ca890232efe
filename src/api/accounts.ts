// Accounts: one default account exists after first start (bootstrap calls ensureDefaultAccount).
// Tested in test/api/sdk.test.ts and test/api/openapi.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Envelope, ListEnvelope, PageQuery, ok, okPage } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { AccountSchema } from './schemas.ts';
import { accountWire } from './wire.ts';

const tags = ['Accounts'];

export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.get(
    '/accounts',
    {
      config: { auth: 'any' },
      schema: { tags, summary: 'List accounts', querystring: Type.Object(PageQuery), response: { 200: ListEnvelope(AccountSchema) } },
    },
    async (request) => okPage((await ctx.store.listAccounts()).map(accountWire), request.query, { perPage: 20, maxPerPage: 50 }),
  );

  app.get(
    '/accounts/:account_id',
    {
      config: { auth: 'any' },
      schema: { tags, summary: 'Get an account', params: Type.Object({ account_id: Type.String() }), response: { 200: Envelope(AccountSchema) } },
    },
    async (request) => {
      const account = await ctx.store.getAccount(request.params.account_id);
      if (!account) throw new ApiError(API_ERRORS.accountNotFound, `Account not found: ${request.params.account_id}`);
      return ok(accountWire(account));
    },
  );
};
