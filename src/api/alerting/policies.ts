// Notification policies (…/alerting/v3/policies), limited to the AOP alert types originpull sends
// (src/notify/alert-types.ts) and to webhook mechanisms.
// Tested in test/api/alerting.test.ts and test/api/alerting-sdk.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { Account } from '../../domain/index.ts';
import { ALERT_FILTER_KEYS, ALERT_TYPES, alertTypeInfo } from '../../notify/index.ts';
import { NotFoundError, type AlertPolicy } from '../../store/index.ts';
import type { ApiContext } from '../context.ts';
import { Envelope, ListEnvelope, ok, okList } from '../envelope.ts';
import { API_ERRORS, ApiError } from '../errors.ts';
import { iso } from '../wire.ts';
import { AccountParams, BASE, config, DateTime, IdResult, invalid, loadAccount, tags } from './common.ts';

const PolicyParams = Type.Object({ account_id: Type.String(), policy_id: Type.String() });

const MechanismList = Type.Array(Type.Object({ id: Type.Optional(Type.String()) }));
const Mechanisms = Type.Object(
  {
    webhooks: Type.Optional(MechanismList),
    email: Type.Optional(MechanismList),
    pagerduty: Type.Optional(MechanismList),
  },
  { description: 'originpull delivers to webhooks only: `webhooks` must name at least one destination' },
);
const Filters = Type.Record(Type.String(), Type.Array(Type.String()), { description: 'Only `zones` (zone ids of the account); none means every zone' });

const policyFields = {
  name: Type.String({ minLength: 1, maxLength: 256 }),
  alert_type: Type.String({ description: ALERT_TYPES.map((t) => t.type).join(', ') }),
  enabled: Type.Boolean(),
  mechanisms: Mechanisms,
  alert_interval: Type.Optional(Type.String({ maxLength: 32, description: 'Stored and returned; AOP alerts are sent once per threshold regardless' })),
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  filters: Type.Optional(Filters),
};
const PolicyCreateBody = Type.Object(policyFields);
type PolicyCreateBody = Static<typeof PolicyCreateBody>;
const PolicyUpdateBody = Type.Partial(Type.Object(policyFields));
type PolicyUpdateBody = Static<typeof PolicyUpdateBody>;

const PolicySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  alert_type: Type.String(),
  alert_interval: Type.Optional(Type.String()),
  mechanisms: Type.Object({ webhooks: Type.Array(Type.Object({ id: Type.String() })) }),
  filters: Filters,
  created: DateTime,
  modified: DateTime,
});

function policyWire(p: AlertPolicy) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    enabled: p.enabled,
    alert_type: p.alertType,
    ...(p.alertInterval === null ? {} : { alert_interval: p.alertInterval }),
    mechanisms: { webhooks: p.webhookIds.map((id) => ({ id })) },
    filters: p.filters,
    created: iso(p.created),
    modified: iso(p.modified),
  };
}

function fromStore(err: unknown): never {
  // A webhook deleted between the check and the write.
  if (err instanceof NotFoundError && /^webhook /.test(err.message)) {
    throw new ApiError(API_ERRORS.invalidPolicy, `mechanisms.webhooks: ${err.message}`, { pointer: '/mechanisms/webhooks', cause: err });
  }
  throw err;
}

export const policyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx: ApiContext = app.ctx;

  async function loadPolicy(accountId: string, id: string): Promise<AlertPolicy> {
    const policy = await ctx.store.getAlertPolicy(accountId, id);
    if (!policy) throw new ApiError(API_ERRORS.policyNotFound, `Notification policy not found: ${id}`);
    return policy;
  }

  /** The whole policy after a create or update, checked against the account's webhooks and zones. */
  async function checkPolicy(account: Account, p: { alertType: string; mechanisms: Record<string, unknown>; filters: Record<string, string[]> }) {
    if (!alertTypeInfo(p.alertType)) {
      throw invalid(
        API_ERRORS.invalidPolicy,
        `Unknown alert_type "${p.alertType.slice(0, 100)}": originpull sends ${ALERT_TYPES.map((t) => t.type).join(', ')} (GET /accounts/${account.id}/alerting/v3/available_alerts)`,
        '/alert_type',
      );
    }
    for (const [key, list] of Object.entries(p.mechanisms)) {
      if (key !== 'webhooks' && Array.isArray(list) && list.length > 0) {
        throw invalid(API_ERRORS.invalidPolicy, `mechanisms.${key} is not supported: originpull delivers alerts to webhooks only`, `/mechanisms/${key}`);
      }
    }
    const hooks = p.mechanisms.webhooks as { id?: string }[] | undefined;
    if (!hooks || hooks.length === 0) {
      throw invalid(
        API_ERRORS.invalidPolicy,
        `mechanisms.webhooks must name at least one webhook destination (create one with POST /accounts/${account.id}/alerting/v3/destinations/webhooks)`,
        '/mechanisms/webhooks',
      );
    }
    const known = new Set((await ctx.store.listAlertWebhooks(account.id)).map((w) => w.id));
    const webhookIds = hooks.map((h, i) => {
      if (typeof h.id !== 'string' || !known.has(h.id)) {
        throw invalid(API_ERRORS.invalidPolicy, `mechanisms.webhooks[${i}].id: no webhook destination ${String(h.id ?? '(missing)').slice(0, 64)} in this account`, `/mechanisms/webhooks/${i}/id`);
      }
      return h.id;
    });
    for (const key of Object.keys(p.filters)) {
      if (!(ALERT_FILTER_KEYS as readonly string[]).includes(key)) {
        throw invalid(API_ERRORS.invalidPolicy, `filters.${key} is not supported for ${p.alertType}: only filters.zones`, `/filters/${key}`);
      }
    }
    const zones = p.filters.zones ?? [];
    if (zones.length > 0) {
      const mine = new Set((await ctx.store.listZones({ ids: zones })).filter((z) => z.accountId === account.id).map((z) => z.id));
      const i = zones.findIndex((z) => !mine.has(z));
      if (i >= 0) throw invalid(API_ERRORS.invalidPolicy, `filters.zones[${i}]: no zone ${zones[i].slice(0, 64)} in this account`, `/filters/zones/${i}`);
    }
    return webhookIds;
  }

  app.post(
    `${BASE}/policies`,
    { config, schema: { tags, summary: 'Create a notification policy', params: AccountParams, body: PolicyCreateBody, response: { 200: Envelope(IdResult) } } },
    async (request) => {
      const account = await loadAccount(ctx, request.params.account_id);
      const b: PolicyCreateBody = request.body;
      const filters = b.filters ?? {};
      const webhookIds = await checkPolicy(account, { alertType: b.alert_type, mechanisms: b.mechanisms, filters });
      const policy = await ctx.store
        .createAlertPolicy({
          accountId: account.id,
          name: b.name,
          description: b.description ?? '',
          enabled: b.enabled,
          alertType: b.alert_type,
          alertInterval: b.alert_interval ?? null,
          webhookIds,
          filters,
          created: ctx.now(),
        })
        .catch(fromStore);
      return ok({ id: policy.id });
    },
  );

  app.get(
    `${BASE}/policies`,
    { config, schema: { tags, summary: 'List notification policies', params: AccountParams, response: { 200: ListEnvelope(PolicySchema) } } },
    async (request) => {
      const account = await loadAccount(ctx, request.params.account_id);
      return okList((await ctx.store.listAlertPolicies(account.id)).map(policyWire));
    },
  );

  app.get(
    `${BASE}/policies/:policy_id`,
    { config, schema: { tags, summary: 'Get a notification policy', params: PolicyParams, response: { 200: Envelope(PolicySchema) } } },
    async (request) => {
      const account = await loadAccount(ctx, request.params.account_id);
      return ok(policyWire(await loadPolicy(account.id, request.params.policy_id)));
    },
  );

  app.put(
    `${BASE}/policies/:policy_id`,
    {
      config,
      schema: {
        tags,
        summary: 'Update a notification policy',
        description: 'Fields left out keep their values. Pending deliveries that no longer apply are cancelled at the next scan.',
        params: PolicyParams,
        body: PolicyUpdateBody,
        response: { 200: Envelope(IdResult) },
      },
    },
    async (request) => {
      const account = await loadAccount(ctx, request.params.account_id);
      const current = await loadPolicy(account.id, request.params.policy_id);
      const b: PolicyUpdateBody = request.body ?? {};
      const filters = b.filters ?? current.filters;
      const mechanisms = b.mechanisms ?? { webhooks: current.webhookIds.map((id) => ({ id })) };
      const webhookIds = await checkPolicy(account, { alertType: b.alert_type ?? current.alertType, mechanisms, filters });
      const policy = await ctx.store
        .updateAlertPolicy(account.id, current.id, {
          ...(b.name === undefined ? {} : { name: b.name }),
          ...(b.description === undefined ? {} : { description: b.description }),
          ...(b.enabled === undefined ? {} : { enabled: b.enabled }),
          ...(b.alert_type === undefined ? {} : { alertType: b.alert_type }),
          ...(b.alert_interval === undefined ? {} : { alertInterval: b.alert_interval }),
          webhookIds,
          filters,
          modified: ctx.now(),
        })
        .catch(fromStore);
      return ok({ id: policy.id });
    },
  );

  app.delete(
    `${BASE}/policies/:policy_id`,
    {
      config,
      schema: { tags, summary: 'Delete a notification policy', description: 'Its pending deliveries are cancelled.', params: PolicyParams, response: { 200: Envelope(IdResult) } },
    },
    async (request) => {
      const account = await loadAccount(ctx, request.params.account_id);
      if (!(await ctx.store.deleteAlertPolicy(account.id, request.params.policy_id, ctx.now()))) {
        throw new ApiError(API_ERRORS.policyNotFound, `Notification policy not found: ${request.params.policy_id}`);
      }
      return ok({ id: request.params.policy_id });
    },
  );
};
