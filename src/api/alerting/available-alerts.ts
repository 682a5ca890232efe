// GET …/alerting/v3/available_alerts: the alert types originpull sends (src/notify/alert-types.ts), by product.
// Tested in test/api/alerting.test.ts and test/api/alerting-sdk.test.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ALERT_PRODUCT, ALERT_TYPES } from '../../notify/index.ts';
import { Envelope, ok } from '../envelope.ts';
import { AccountParams, BASE, config, loadAccount, tags } from './common.ts';

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

export const availableAlertRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;
  app.get(
    `${BASE}/available_alerts`,
    { config, schema: { tags, summary: 'List the alert types originpull sends, by product', params: AccountParams, response: { 200: Envelope(AvailableAlertsSchema) } } },
    async (request) => {
      await loadAccount(ctx, request.params.account_id);
      return ok(availableAlerts());
    },
  );
};
