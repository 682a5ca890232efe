-- Universal SSL by ACME. The account key (one per installation and directory) and certificate
-- keys are sealed by the secret box. Packs with a certificate and pending challenges are edge
-- config: writes that change them bump the config version and log the zone in config_changes.
CREATE TABLE acme_accounts (
  directory_url TEXT PRIMARY KEY,
  account_key_sealed TEXT NOT NULL,
  account_url TEXT,
  created_on BIGINT NOT NULL
);
-- A zone without a row has Universal SSL on (Cloudflare's default).
CREATE TABLE universal_ssl_settings (
  zone_id TEXT PRIMARY KEY REFERENCES zones (id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL,
  modified_on BIGINT NOT NULL
);
CREATE TABLE certificate_packs (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  hosts TEXT NOT NULL,
  validation_method TEXT NOT NULL,
  validity_days INTEGER NOT NULL,
  certificate_authority TEXT NOT NULL,
  stage TEXT NOT NULL,
  error_text TEXT,
  attempts INTEGER NOT NULL,
  next_attempt_at BIGINT,
  certificate_pem TEXT,
  private_key_sealed TEXT,
  issuer TEXT,
  serial_number TEXT,
  signature TEXT,
  fingerprint_sha256 TEXT,
  not_before BIGINT,
  expires_on BIGINT,
  renew_at BIGINT,
  deploy_version BIGINT,
  created_on BIGINT NOT NULL,
  modified_on BIGINT NOT NULL,
  delete_version BIGINT,
  delete_requested_on BIGINT
);
CREATE INDEX certificate_packs_zone ON certificate_packs (zone_id);
CREATE TABLE acme_challenges (
  token TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  pack_id TEXT NOT NULL REFERENCES certificate_packs (id) ON DELETE CASCADE,
  hostname TEXT NOT NULL,
  type TEXT NOT NULL,
  key_authorization TEXT NOT NULL,
  certificate_pem TEXT,
  private_key_sealed TEXT,
  status TEXT NOT NULL,
  created_on BIGINT NOT NULL
);
CREATE INDEX acme_challenges_zone ON acme_challenges (zone_id);
