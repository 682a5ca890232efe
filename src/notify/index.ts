// Certificate-expiry alerts (AOP client certificates and custom edge certificates): the notifier that scans and delivers, the webhook sender
// the API uses for test messages, the URL allow-list setting and the alert type catalogue.
export { createNotifier, startNotifier, startNotifier as startExpiryScanner, deliveryChannel } from './notifier.ts';
export type { Notifier, NotifierOptions, NotifyLogger, ScanResult } from './notifier.ts';
export { DEFAULT_RETRY, retryDelay } from './backoff.ts';
export type { RetryPolicy } from './backoff.ts';
export { postWebhook, WEBHOOK_TEST_MESSAGE, WEBHOOK_AUTH_HEADER, DEFAULT_WEBHOOK_TIMEOUT_MS } from './send-webhook.ts';
export type { WebhookPost, WebhookResult } from './send-webhook.ts';
export { webhookAllowList, checkWebhookUrl, deniedMessage, WEBHOOK_ALLOW_ENV, MAX_WEBHOOK_URL_LENGTH } from './webhook-allow.ts';
export { addressClass, addressAllowed, guardedLookup } from './webhook-address.ts';
export type { AddressClass, AllowableClass } from './webhook-address.ts';
export type { WebhookAllowList, WebhookUrlCheck } from './webhook-allow.ts';
export {
  ALERT_TYPES,
  ALERT_PRODUCT,
  ALERT_FILTER_KEYS,
  EXPIRY_THRESHOLDS_DAYS,
  ZONE_EXPIRY_ALERT,
  HOSTNAME_EXPIRY_ALERT,
  EXPIRED_IN_USE_ALERT,
  EDGE_CUSTOM_EXPIRY_ALERT,
  UNIVERSAL_SSL_ALERT,
  ADVANCED_CERTIFICATE_ALERT,
  alertTypeInfo,
} from './alert-types.ts';
export type { AlertTypeInfo, AlertTrigger, WatchedKind } from './alert-types.ts';
export { planAlerts, dedupeKey } from './plan-alerts.ts';
export type { AlertPlan, PlanInputs } from './plan-alerts.ts';
export { buildPayload, correlationId } from './payload.ts';
export type { AlertPayload, AlertData } from './payload.ts';
