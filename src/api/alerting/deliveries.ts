// originpull's delivery log (…/alerting/v3/deliveries): one row per alert and webhook, newest first.
// Tested in test/api/alerting.test.ts and test/web/notifications.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AlertDelivery } from '../../store/index.ts';
import type { ApiContext } from '../context.ts';
import { ListEnvelope, PageQuery, okPageOf, pageQuery } from '../envelope.ts';
import { iso } from '../wire.ts';
import { AccountParams, BASE, config, DateTime, loadAccount, Nullable, tags } from './common.ts';

const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
const DeliveryQuery = Type.Object({
  status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
  policy_id: Type.Optional(Type.String()),
  webhook_id: Type.Optional(Type.String()),
  certificate_id: Type.Optional(Type.String()),
  ...PageQuery,
});

const DeliverySchema = Type.Object({
  id: Type.String(),
  status: Type.String({ description: 'pending (waiting for its next attempt), delivered, failed (gave up), cancelled' }),
  alert_type: Type.String(),
  event: Type.String({ description: '30d, 14d or expired' }),
  certificate_id: Type.String(),
  zone_id: Type.String(),
  policy_id: Type.String(),
  webhook_id: Type.String(),
  attempts: Type.Integer(),
  created_at: DateTime,
  next_attempt_at: Nullable(DateTime),
  give_up_at: DateTime,
  last_attempt_at: Nullable(DateTime),
  last_status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last attempt' }),
  last_error: Type.Union([Type.String(), Type.Null()]),
  delivered_at: Nullable(DateTime),
  payload: Type.Unknown({ description: 'The JSON body sent (the generic webhook payload)' }),
});

function deliveryWire(d: AlertDelivery) {
  const time = (ms: number | null) => (ms === null ? null : iso(ms));
  return {
    id: d.id,
    status: d.status,
    alert_type: d.alertType,
    event: d.event,
    certificate_id: d.certificateId,
    zone_id: d.zoneId,
    policy_id: d.policyId,
    webhook_id: d.webhookId,
    attempts: d.attempts,
    created_at: iso(d.createdAt),
    next_attempt_at: time(d.nextAttemptAt),
    give_up_at: iso(d.giveUpAt),
    last_attempt_at: time(d.lastAttemptAt),
    last_status: d.lastStatus,
    last_error: d.lastError,
    delivered_at: time(d.deliveredAt),
    payload: JSON.parse(d.payload) as unknown,
  };
}

export const deliveryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx: ApiContext = app.ctx;
  app.get(
    `${BASE}/deliveries`,
    {
      config,
      schema: {
        tags,
        summary: 'originpull extension: the alert delivery log',
        description:
          'One row per alert and webhook, newest first: attempts, HTTP status and error of the last attempt, next retry (exponential backoff for up to 24 h), and the payload sent. Paged with page/per_page (default 50, at most 1000).',
        params: AccountParams,
        querystring: DeliveryQuery,
        response: { 200: ListEnvelope(DeliverySchema) },
      },
    },
    async (request) => {
      const account = await loadAccount(ctx, request.params.account_id);
      const q = request.query;
      const at = pageQuery(q, { perPage: 50, maxPerPage: 1000 });
      const { rows, total } = await ctx.store.pageAlertDeliveries(
        {
          accountId: account.id,
          ...(q.status === undefined ? {} : { status: q.status }),
          ...(q.policy_id === undefined ? {} : { policyId: q.policy_id }),
          ...(q.webhook_id === undefined ? {} : { webhookId: q.webhook_id }),
          ...(q.certificate_id === undefined ? {} : { certificateId: q.certificate_id }),
        },
        at.page,
        at.perPage,
      );
      return okPageOf(rows.map(deliveryWire), total, at);
    },
  );
};
