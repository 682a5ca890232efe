-- Custom edge certificates: what visitors' browsers see on HTTPS for the names their SANs cover.
-- Edge config: every write bumps the config version and logs the zone in config_changes.
-- hosts is a JSON array of the leaf's DNS names; the private key is sealed by the secret box.
CREATE TABLE edge_certificates (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  certificate_pem TEXT NOT NULL,
  private_key_sealed TEXT NOT NULL,
  bundle_method TEXT NOT NULL,
  hosts TEXT NOT NULL,
  issuer TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  signature TEXT NOT NULL,
  fingerprint_sha256 TEXT NOT NULL,
  not_before BIGINT NOT NULL,
  expires_on BIGINT NOT NULL,
  uploaded_on BIGINT NOT NULL,
  modified_on BIGINT NOT NULL,
  priority INTEGER NOT NULL,
  deploy_version BIGINT NOT NULL,
  delete_version BIGINT,
  delete_requested_on BIGINT
);
CREATE INDEX edge_certificates_zone ON edge_certificates (zone_id);
-- Backstop for the duplicate-upload check the store makes inside its transaction.
CREATE UNIQUE INDEX edge_certificates_live_fingerprint ON edge_certificates (zone_id, fingerprint_sha256)
  WHERE delete_version IS NULL;
