-- Certificate-expiry alerting (issue 5): webhook destinations, notification policies and the
-- delivery outbox. None of it is edge config, so none of it bumps the config version.

-- Webhook destinations. The secret is sealed by the secret box (the notifier opens it to send
-- `cf-webhook-auth`); NULL when the destination has none.
CREATE TABLE alert_webhooks (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  type TEXT NOT NULL,
  secret_sealed TEXT,
  created_at BIGINT NOT NULL,
  last_success BIGINT,
  last_failure BIGINT
);
CREATE INDEX alert_webhooks_account ON alert_webhooks (account_id);

-- Notification policies. `filters` is a JSON object of string arrays ({"zones": [...]}).
CREATE TABLE alert_policies (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  enabled SMALLINT NOT NULL,
  alert_type TEXT NOT NULL,
  alert_interval TEXT,
  filters TEXT NOT NULL,
  created BIGINT NOT NULL,
  modified BIGINT NOT NULL
);
CREATE INDEX alert_policies_account ON alert_policies (account_id);

-- mechanisms.webhooks of a policy, in order. The reference to the webhook has no cascade: a
-- destination in use cannot be deleted (the store refuses first; this is the backstop).
CREATE TABLE alert_policy_webhooks (
  policy_id TEXT NOT NULL REFERENCES alert_policies (id) ON DELETE CASCADE,
  webhook_id TEXT NOT NULL REFERENCES alert_webhooks (id),
  seq INTEGER NOT NULL,
  PRIMARY KEY (policy_id, webhook_id)
);
CREATE INDEX alert_policy_webhooks_webhook ON alert_policy_webhooks (webhook_id);

-- The outbox and delivery log: one row per (certificate, event, policy, webhook), written BEFORE
-- anything is sent. dedupe_key is UNIQUE, so scanners on several nodes or after a restart insert
-- it once; a sender must hold the row's lease (lease_owner/lease_until, conditional UPDATE) to
-- post it. No foreign keys: the log outlives deleted certificates, policies and webhooks.
CREATE TABLE alert_deliveries (
  id TEXT PRIMARY KEY,
  dedupe_key TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL,
  zone_id TEXT NOT NULL,
  certificate_id TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  alert_type TEXT NOT NULL,
  event TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT,
  give_up_at BIGINT NOT NULL,
  last_attempt_at BIGINT,
  last_status INTEGER,
  last_error TEXT,
  delivered_at BIGINT,
  lease_owner TEXT,
  lease_until BIGINT
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
CREATE INDEX alert_deliveries_account ON alert_deliveries (account_id, created_at);
