// Notifications, Cloudflare alerting v3 (…/accounts/:account_id/alerting/v3): available alerts,
// webhook destinations, policies, plus our delivery log, one module per resource. Account-level:
// only tokens not limited to zones may use them (`auth: 'account'`), writes need `edit`. The SDK's
// two deletes return the whole envelope.
// Tested in test/api/alerting.test.ts and test/api/alerting-sdk.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { availableAlertRoutes } from './available-alerts.ts';
import { deliveryRoutes } from './deliveries.ts';
import { policyRoutes } from './policies.ts';
import { webhookRoutes } from './webhooks.ts';

export { MAX_WEBHOOK_SECRET_BYTES } from './webhooks.ts';

export const alertingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The OpenAPI document lists routes in the order they are registered.
  await app.register(availableAlertRoutes);
  await app.register(webhookRoutes);
  await app.register(policyRoutes);
  await app.register(deliveryRoutes);
};
