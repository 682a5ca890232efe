-- One schema for SQLite and PostgreSQL: TEXT ids, BIGINT epoch-ms times and versions,
-- SMALLINT 0/1 booleans, no engine-specific types or functions.

-- The single config-version row: every write that changes what edges serve bumps it.
CREATE TABLE config_version (
  id SMALLINT PRIMARY KEY,
  v BIGINT NOT NULL
);
INSERT INTO config_version (id, v) VALUES (1, 0);

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE pki (
  id SMALLINT PRIMARY KEY,
  origin_pull_ca_pem TEXT NOT NULL,
  origin_pull_ca_key_sealed TEXT NOT NULL,
  global_cert_pem TEXT NOT NULL,
  global_key_sealed TEXT NOT NULL,
  edge_ca_pem TEXT NOT NULL,
  edge_ca_key_sealed TEXT NOT NULL
);

-- default_slot is 1 on the default account and NULL elsewhere; UNIQUE makes creating it race-safe.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_on BIGINT NOT NULL,
  default_slot SMALLINT UNIQUE
);

CREATE TABLE zones (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  name TEXT NOT NULL UNIQUE,
  created_on BIGINT NOT NULL,
  modified_on BIGINT NOT NULL,
  ssl_mode TEXT NOT NULL,
  ssl_modified_on BIGINT NOT NULL,
  tls_client_auth TEXT NOT NULL,
  tls_client_auth_modified_on BIGINT NOT NULL,
  aop_enabled SMALLINT NOT NULL,
  aop_modified_on BIGINT NOT NULL
);

-- Hostnames route uniquely, so a record name is unique across zones.
CREATE TABLE dns_records (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  content TEXT NOT NULL,
  proxied SMALLINT NOT NULL,
  ttl INTEGER NOT NULL,
  origin_http_port INTEGER NOT NULL,
  origin_https_port INTEGER NOT NULL,
  comment TEXT,
  created_on BIGINT NOT NULL,
  modified_on BIGINT NOT NULL
);
CREATE INDEX dns_records_zone ON dns_records (zone_id);

CREATE TABLE certificates (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  private_key_sealed TEXT NOT NULL,
  issuer TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  signature TEXT NOT NULL,
  fingerprint_sha256 TEXT NOT NULL,
  not_before BIGINT NOT NULL,
  expires_on BIGINT NOT NULL,
  uploaded_on BIGINT NOT NULL,
  deploy_version BIGINT NOT NULL,
  delete_version BIGINT,
  delete_requested_on BIGINT
);
CREATE INDEX certificates_zone_kind ON certificates (zone_id, kind);
-- Backstop for the duplicate-upload check the store makes inside its transaction.
CREATE UNIQUE INDEX certificates_live_fingerprint ON certificates (zone_id, kind, fingerprint_sha256)
  WHERE delete_version IS NULL;

CREATE TABLE associations (
  zone_id TEXT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  hostname TEXT NOT NULL,
  cert_id TEXT NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  enabled SMALLINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (zone_id, hostname)
);
CREATE INDEX associations_cert ON associations (cert_id);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  -- JSON array of zone ids, or NULL for every zone.
  zone_ids TEXT,
  permission TEXT NOT NULL,
  admin SMALLINT NOT NULL,
  created_on BIGINT NOT NULL
);

CREATE TABLE edges (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  last_heartbeat BIGINT NOT NULL,
  applied_version BIGINT NOT NULL
);
