// Notifications, Cloudflare alerting v3: webhook destinations, policies, available
// alerts, plus our delivery log. Account-level: only tokens not limited to zones may use them
// (`auth: 'account'`), writes need `edit`. Policies are limited to the AOP alert types originpull
// sends (src/notify/alert-types.ts) and to webhook mechanisms. Creating or updating a webhook
// POSTs the test message first; if the receiver does not answer 2xx the answer is a 400 saying
// what happened and nothing is stored. The SDK's two deletes return the whole envelope.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Account } from '../domain/index.ts';
import {
  ALERT_FILTER_KEYS,
  ALERT_PRODUCT,
  ALERT_TYPES,
  alertTypeInfo,
  checkWebhookUrl,
  deniedMessage,
  postWebhook,
  WEBHOOK_TEST_MESSAGE,
  webhookAllowList,
} from '../notify/index.ts';
import { ConflictError, NotFoundError, type AlertDelivery, type AlertPolicy, type AlertWebhook } from '../store/index.ts';
import type { ApiContext } from './context.ts';
import { Envelope, ListEnvelope, PageQuery, ok, okList, okPage } from './envelope.ts';
import { API_ERRORS, ApiError, type ErrorDef } from './errors.ts';
import { iso } from './wire.ts';

/** Largest webhook secret, in bytes (it travels in a header). */
export const MAX_WEBHOOK_SECRET_BYTES = 1024;

// ── schemas ──────────────────────────────────────────────────────────────────
const DateTime = Type.String({ format: 'date-time', description: 'RFC 3339, UTC' });
const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);

const AccountParams = Type.Object({ account_id: Type.String() });
const WebhookParams = Type.Object({ account_id: Type.String(), webhook_id: Type.String() });
const PolicyParams = Type.Object({ account_id: Type.String(), policy_id: Type.String() });
const IdResult = Type.Object({ id: Type.String() });

const WebhookBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  url: Type.String({ description: 'http(s) URL, allowed by ORIGINPULL_WEBHOOK_ALLOW (default: any public address; docs/alerting.md)' }),
  secret: Type.Optional(Type.String({ description: `Sent as the cf-webhook-auth header; printable ASCII, at most ${MAX_WEBHOOK_SECRET_BYTES} bytes; never returned. On update, omitted keeps the current one and "" removes it.` })),
});
type WebhookBody = Static<typeof WebhookBody>;

const WebhookSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  type: Type.String({ description: 'Always generic' }),
  created_at: DateTime,
  last_success: Nullable(DateTime),
  last_failure: Nullable(DateTime),
});

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

const AvailableAlertsSchema = Type.Record(
  Type.String(),
  Type.Array(
    Type.Object({
      type: Type.String(),
      display_name: Type.String(),
      description: Type.String(),
      filter_options: Type.Array(Type.Unknown()),
    }),
  ),
);

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

// ── wire shapes ──────────────────────────────────────────────────────────────
function webhookWire(w: AlertWebhook) {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    type: w.type,
    created_at: iso(w.createdAt),
    last_success: w.lastSuccess === null ? null : iso(w.lastSuccess),
    last_failure: w.lastFailure === null ? null : iso(w.lastFailure),
  };
}

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

function availableAlerts() {
  return {
    [ALERT_PRODUCT]: ALERT_TYPES.map((t) => ({
      type: t.type,
      display_name: t.displayName,
      description: t.description,
      filter_options: [{ ComparisonOperator: '==', Key: 'zones', Optional: true }],
    })),
  };
}

// ── validation ───────────────────────────────────────────────────────────────
function invalid(def: ErrorDef, message: string, pointer: string): ApiError {
  return new ApiError(def, message, { pointer });
}

/** The secret as it will travel in `cf-webhook-auth`: printable ASCII, at most 1 KiB. */
function checkSecret(secret: string): void {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes > MAX_WEBHOOK_SECRET_BYTES) {
    throw invalid(API_ERRORS.invalidWebhook, `secret is ${bytes} bytes; the limit is ${MAX_WEBHOOK_SECRET_BYTES} bytes (1 KiB)`, '/secret');
  }
  if (!/^[\x20-\x7e]*$/.test(secret)) {
    throw invalid(API_ERRORS.invalidWebhook, 'secret must be printable ASCII (it is sent as the cf-webhook-auth header)', '/secret');
  }
}

/** A save waits this long for the test message at most (the notifier's own sends wait longer). */
const SAVE_TEST_TIMEOUT_MS = 2_500;

export const alertingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx: ApiContext = app.ctx;
  // Read once: a malformed setting stops the server at start, with the variable named.
  const allow = webhookAllowList();
  const tags = ['Notifications'];
  const BASE = '/accounts/:account_id/alerting/v3';
  const config = { auth: 'account' as const };

  async function loadAccount(accountId: string): Promise<Account> {
    const account = await ctx.store.getAccount(accountId);
    if (!account) throw new ApiError(API_ERRORS.accountNotFound, `Account not found: ${accountId}`);
    return account;
  }

  async function loadWebhook(accountId: string, id: string): Promise<AlertWebhook> {
    const webhook = await ctx.store.getAlertWebhook(accountId, id);
    if (!webhook) throw new ApiError(API_ERRORS.webhookNotFound, `Webhook destination not found: ${id}`);
    return webhook;
  }

  async function loadPolicy(accountId: string, id: string): Promise<AlertPolicy> {
    const policy = await ctx.store.getAlertPolicy(accountId, id);
    if (!policy) throw new ApiError(API_ERRORS.policyNotFound, `Notification policy not found: ${id}`);
    return policy;
  }

  /**
   * Checks the URL, then sends the test message. A failed test is one coarse 400 whatever happened
   * (refused, reset, timed out, an HTTP error status): a save must not tell open, closed and
   * answering ports apart, or any account token could scan networks the installation reaches. The
   * cause goes to the server log. Bounded by SAVE_TEST_TIMEOUT_MS, name resolution included.
   */
  async function testWebhook(body: WebhookBody, secret: string | null, log: FastifyBaseLogger): Promise<string> {
    const url = body.url.trim();
    const target = checkWebhookUrl(url, allow);
    if (!target.ok) throw invalid(API_ERRORS.invalidWebhook, target.message, '/url');
    const res = await postWebhook({
      url: target.url,
      secret,
      body: JSON.stringify(WEBHOOK_TEST_MESSAGE),
      signal: ctx.closing,
      timeoutMs: SAVE_TEST_TIMEOUT_MS,
      lookup: target.lookup,
    });
    if (!res.ok) {
      if (res.addressDenied) throw invalid(API_ERRORS.invalidWebhook, deniedMessage(res.error.replace(/^not sent: /, ''), allow), '/url');
      log.info({ url: target.url.href, cause: res.error }, 'webhook test message failed');
      throw invalid(
        API_ERRORS.webhookTestFailed,
        `The test message to ${target.url.href} was not accepted (no 2xx answer within ${SAVE_TEST_TIMEOUT_MS / 1000} s). Nothing was saved.`,
        '/url',
      );
    }
    return url;
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

  function fromStore(err: unknown): never {
    // A webhook deleted between the check and the write.
    if (err instanceof NotFoundError && /^webhook /.test(err.message)) {
      throw new ApiError(API_ERRORS.invalidPolicy, `mechanisms.webhooks: ${err.message}`, { pointer: '/mechanisms/webhooks', cause: err });
    }
    throw err;
  }

  // ── available alerts ─────────────────────────────────────────────────────
  app.get(
    `${BASE}/available_alerts`,
    { config, schema: { tags, summary: 'List the alert types originpull sends, by product', params: AccountParams, response: { 200: Envelope(AvailableAlertsSchema) } } },
    async (request) => {
      await loadAccount(request.params.account_id);
      return ok(availableAlerts());
    },
  );

  // ── webhook destinations ─────────────────────────────────────────────────
  app.post(
    `${BASE}/destinations/webhooks`,
    {
      config,
      schema: {
        tags,
        summary: 'Create a webhook destination',
        description: 'Sends the test message first (with the secret in cf-webhook-auth); a failed test is a 400 and stores nothing.',
        params: AccountParams,
        body: WebhookBody,
        response: { 200: Envelope(IdResult) },
      },
    },
    async (request) => {
      const account = await loadAccount(request.params.account_id);
      const secret = request.body.secret || null;
      if (secret !== null) checkSecret(secret);
      const url = await testWebhook(request.body, secret, request.log);
      const now = ctx.now();
      const webhook = await ctx.store.createAlertWebhook({
        accountId: account.id,
        name: request.body.name,
        url,
        secretSealed: secret === null ? null : ctx.secretBox.seal(secret),
        createdAt: now,
        lastSuccess: now,
      });
      return ok({ id: webhook.id });
    },
  );

  app.get(
    `${BASE}/destinations/webhooks`,
    { config, schema: { tags, summary: 'List webhook destinations (never their secrets)', params: AccountParams, response: { 200: ListEnvelope(WebhookSchema) } } },
    async (request) => {
      const account = await loadAccount(request.params.account_id);
      return okList((await ctx.store.listAlertWebhooks(account.id)).map(webhookWire));
    },
  );

  app.get(
    `${BASE}/destinations/webhooks/:webhook_id`,
    { config, schema: { tags, summary: 'Get a webhook destination', params: WebhookParams, response: { 200: Envelope(WebhookSchema) } } },
    async (request) => {
      const account = await loadAccount(request.params.account_id);
      return ok(webhookWire(await loadWebhook(account.id, request.params.webhook_id)));
    },
  );

  app.put(
    `${BASE}/destinations/webhooks/:webhook_id`,
    {
      config,
      schema: {
        tags,
        summary: 'Update a webhook destination',
        description: 'Sends the test message to the new settings first; a failed test is a 400 and changes nothing.',
        params: WebhookParams,
        body: WebhookBody,
        response: { 200: Envelope(IdResult) },
      },
    },
    async (request) => {
      const account = await loadAccount(request.params.account_id);
      const current = await loadWebhook(account.id, request.params.webhook_id);
      let secret: string | null;
      if (request.body.secret === undefined) {
        secret = current.secretSealed === null ? null : ctx.secretBox.open(current.secretSealed);
      } else {
        secret = request.body.secret || null;
        if (secret !== null) checkSecret(secret);
      }
      const url = await testWebhook(request.body, secret, request.log);
      const updated = await ctx.store.updateAlertWebhook(account.id, current.id, {
        name: request.body.name,
        url,
        ...(request.body.secret === undefined ? {} : { secretSealed: secret === null ? null : ctx.secretBox.seal(secret) }),
        lastSuccess: ctx.now(),
      });
      return ok({ id: updated.id });
    },
  );

  app.delete(
    `${BASE}/destinations/webhooks/:webhook_id`,
    {
      config,
      schema: {
        tags,
        summary: 'Delete a webhook destination',
        description: 'Refused (409) while a policy uses it. Its pending deliveries are cancelled.',
        params: WebhookParams,
        response: { 200: Envelope(IdResult) },
      },
    },
    async (request) => {
      const account = await loadAccount(request.params.account_id);
      let deleted: boolean;
      try {
        deleted = await ctx.store.deleteAlertWebhook(account.id, request.params.webhook_id, ctx.now());
      } catch (err) {
        if (err instanceof ConflictError) throw new ApiError(API_ERRORS.webhookInUse, err.message, { cause: err });
        throw err;
      }
      if (!deleted) throw new ApiError(API_ERRORS.webhookNotFound, `Webhook destination not found: ${request.params.webhook_id}`);
      return ok({ id: request.params.webhook_id });
    },
  );

  // ── policies ─────────────────────────────────────────────────────────────
  app.post(
    `${BASE}/policies`,
    { config, schema: { tags, summary: 'Create a notification policy', params: AccountParams, body: PolicyCreateBody, response: { 200: Envelope(IdResult) } } },
    async (request) => {
      const account = await loadAccount(request.params.account_id);
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
      const account = await loadAccount(request.params.account_id);
      return okList((await ctx.store.listAlertPolicies(account.id)).map(policyWire));
    },
  );

  app.get(
    `${BASE}/policies/:policy_id`,
    { config, schema: { tags, summary: 'Get a notification policy', params: PolicyParams, response: { 200: Envelope(PolicySchema) } } },
    async (request) => {
      const account = await loadAccount(request.params.account_id);
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
      const account = await loadAccount(request.params.account_id);
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
      const account = await loadAccount(request.params.account_id);
      if (!(await ctx.store.deleteAlertPolicy(account.id, request.params.policy_id, ctx.now()))) {
        throw new ApiError(API_ERRORS.policyNotFound, `Notification policy not found: ${request.params.policy_id}`);
      }
      return ok({ id: request.params.policy_id });
    },
  );

  // ── delivery log (ours) ──────────────────────────────────────────────────
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
      const account = await loadAccount(request.params.account_id);
      const q = request.query;
      const rows = await ctx.store.listAlertDeliveries({
        accountId: account.id,
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.policy_id === undefined ? {} : { policyId: q.policy_id }),
        ...(q.webhook_id === undefined ? {} : { webhookId: q.webhook_id }),
        ...(q.certificate_id === undefined ? {} : { certificateId: q.certificate_id }),
        limit: 100_000,
      });
      return okPage(rows.map(deliveryWire), q, { perPage: 50, maxPerPage: 1000 });
    },
  );
};
