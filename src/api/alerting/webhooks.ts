// Webhook destinations (…/alerting/v3/destinations/webhooks). Creating or updating one POSTs the
// test message first; if the receiver does not answer 2xx the answer is a 400 saying what happened
// and nothing is stored. The secret is sealed at rest and never returned.
// Tested in test/api/alerting.test.ts, alerting-sdk.test.ts and test/regressions/webhook-destinations.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { checkWebhookUrl, deniedMessage, postWebhook, WEBHOOK_TEST_MESSAGE, webhookAllowList } from '../../notify/index.ts';
import { ConflictError, type AlertWebhook } from '../../store/index.ts';
import type { ApiContext } from '../context.ts';
import { Envelope, ListEnvelope, ok, okList } from '../envelope.ts';
import { API_ERRORS, ApiError } from '../errors.ts';
import { iso } from '../wire.ts';
import { AccountParams, BASE, config, DateTime, IdResult, invalid, loadAccount, Nullable, tags } from './common.ts';

/** Largest webhook secret, in bytes (it travels in a header). */
export const MAX_WEBHOOK_SECRET_BYTES = 1024;

const WebhookParams = Type.Object({ account_id: Type.String(), webhook_id: Type.String() });

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

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx: ApiContext = app.ctx;
  // Read once: a malformed setting stops the server at start, with the variable named.
  const allow = webhookAllowList();

  async function loadWebhook(accountId: string, id: string): Promise<AlertWebhook> {
    const webhook = await ctx.store.getAlertWebhook(accountId, id);
    if (!webhook) throw new ApiError(API_ERRORS.webhookNotFound, `Webhook destination not found: ${id}`);
    return webhook;
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
      const account = await loadAccount(ctx, request.params.account_id);
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
      const account = await loadAccount(ctx, request.params.account_id);
      return okList((await ctx.store.listAlertWebhooks(account.id)).map(webhookWire));
    },
  );

  app.get(
    `${BASE}/destinations/webhooks/:webhook_id`,
    { config, schema: { tags, summary: 'Get a webhook destination', params: WebhookParams, response: { 200: Envelope(WebhookSchema) } } },
    async (request) => {
      const account = await loadAccount(ctx, request.params.account_id);
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
      const account = await loadAccount(ctx, request.params.account_id);
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
      const account = await loadAccount(ctx, request.params.account_id);
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
};
