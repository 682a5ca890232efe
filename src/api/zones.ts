// Zones: create (unscoped tokens only), list (filtered to a scoped token's zones), get, delete.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { isValidHostname, normalizeHostname, type Account } from '../domain/index.ts';
import { ConflictError } from '../store/index.ts';
import { requireToken } from './auth.ts';
import { Envelope, ListEnvelope, PageQuery, ok, okPage } from './envelope.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { loadZone } from './lookups.ts';
import { ZoneCreateBody, ZoneDeletedSchema, ZoneParams, ZoneSchema } from './schemas.ts';
import { zoneWire } from './wire.ts';

const tags = ['Zones'];

export const zoneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  /**
   * A name belongs to the most specific zone, so a zone inside another one would take over the
   * names the enclosing zone's records use: refused (409 naming them) until they are deleted there.
   */
  async function refuseTakenNames(name: string): Promise<void> {
    for (let parent = name.slice(name.indexOf('.') + 1); parent.includes('.'); parent = parent.slice(parent.indexOf('.') + 1)) {
      for (const zone of await ctx.store.listZones({ name: parent })) {
        const taken = (await ctx.store.listDnsRecords(zone.id))
          .map((r) => r.name)
          .filter((n) => {
            const base = n.startsWith('*.') ? n.slice(2) : n;
            return base === name || base.endsWith('.' + name);
          })
          .sort();
        if (taken.length === 0) continue;
        const shown = taken.slice(0, 10).join(', ') + (taken.length > 10 ? ` and ${taken.length - 10} more` : '');
        throw new ApiError(
          API_ERRORS.zoneNamesInUse,
          `${name} cannot be created: records of the zone ${zone.name} use its names (${shown}); delete them in ${zone.name} first, then create them in ${name}`,
          { pointer: '/name' },
        );
      }
    }
  }

  async function accountsById(): Promise<Map<string, Account>> {
    return new Map((await ctx.store.listAccounts()).map((a) => [a.id, a]));
  }

  app.post(
    '/zones',
    {
      config: { auth: 'account' },
      schema: { tags, summary: 'Create a zone', description: '`account` defaults to the installation\'s default account.', body: ZoneCreateBody, response: { 200: Envelope(ZoneSchema) } },
    },
    async (request) => {
      const name = normalizeHostname(request.body.name);
      if (!isValidHostname(name)) {
        throw new ApiError(API_ERRORS.invalidZoneName, `Invalid zone name "${request.body.name.slice(0, 253)}": expected a domain such as example.com`, { pointer: '/name' });
      }
      let account: Account | null;
      if (request.body.account?.id !== undefined) {
        account = await ctx.store.getAccount(request.body.account.id);
        if (!account) throw new ApiError(API_ERRORS.accountNotFound, `Account not found: ${request.body.account.id}`, { pointer: '/account/id' });
      } else {
        account = await ctx.store.ensureDefaultAccount();
      }
      await refuseTakenNames(name);
      try {
        const zone = await ctx.store.createZone({ accountId: account.id, name });
        return ok(zoneWire(zone, account));
      } catch (err) {
        if (err instanceof ConflictError) throw new ApiError(API_ERRORS.zoneExists, `${name} already exists`, { cause: err, pointer: '/name' });
        throw err;
      }
    },
  );

  app.get(
    '/zones',
    {
      config: { auth: 'any' },
      schema: {
        tags,
        summary: 'List zones',
        description: 'A token limited to zones sees only those.',
        querystring: Type.Object({ name: Type.Optional(Type.String()), ...PageQuery }),
        response: { 200: ListEnvelope(ZoneSchema) },
      },
    },
    async (request) => {
      const token = requireToken(request);
      const filter: { name?: string; ids?: string[] } = {};
      if (request.query.name !== undefined) filter.name = normalizeHostname(request.query.name);
      if (token.zoneIds !== null) filter.ids = token.zoneIds;
      const [zones, accounts] = await Promise.all([token.zoneIds?.length === 0 ? [] : ctx.store.listZones(filter), accountsById()]);
      return okPage(
        zones.map((z) => zoneWire(z, accounts.get(z.accountId) ?? null)),
        request.query,
        { perPage: 20, maxPerPage: 50 },
      );
    },
  );

  app.get(
    '/zones/:zone_id',
    { schema: { tags, summary: 'Get a zone', params: ZoneParams, response: { 200: Envelope(ZoneSchema) } } },
    async (request) => {
      const zone = await loadZone(ctx, request.params.zone_id);
      return ok(zoneWire(zone, await ctx.store.getAccount(zone.accountId)));
    },
  );

  app.delete(
    '/zones/:zone_id',
    {
      config: { auth: 'account' },
      schema: { tags, summary: 'Delete a zone with its records, certificates and associations', params: ZoneParams, response: { 200: Envelope(ZoneDeletedSchema) } },
    },
    async (request) => {
      if (!(await ctx.store.deleteZone(request.params.zone_id))) {
        throw new ApiError(API_ERRORS.zoneNotFound, `Zone not found: ${request.params.zone_id}`);
      }
      return ok({ id: request.params.zone_id });
    },
  );
};
