-- Zone settings for how the edge meets visitors, one column each with Cloudflare's default
-- (min_tls_version: 1.2, what the edge really enforces), and when each was last changed (NULL:
-- never, the default applies). security_header is JSON: {"enabled","maxAge","includeSubdomains",
-- "preload","nosniff"}.
ALTER TABLE zones ADD COLUMN always_use_https TEXT NOT NULL DEFAULT 'off';
ALTER TABLE zones ADD COLUMN always_use_https_modified_on BIGINT;
ALTER TABLE zones ADD COLUMN min_tls_version TEXT NOT NULL DEFAULT '1.2';
ALTER TABLE zones ADD COLUMN min_tls_version_modified_on BIGINT;
ALTER TABLE zones ADD COLUMN tls_1_3 TEXT NOT NULL DEFAULT 'on';
ALTER TABLE zones ADD COLUMN tls_1_3_modified_on BIGINT;
ALTER TABLE zones ADD COLUMN http2 TEXT NOT NULL DEFAULT 'on';
ALTER TABLE zones ADD COLUMN http2_modified_on BIGINT;
ALTER TABLE zones ADD COLUMN websockets TEXT NOT NULL DEFAULT 'on';
ALTER TABLE zones ADD COLUMN websockets_modified_on BIGINT;
ALTER TABLE zones ADD COLUMN security_header TEXT NOT NULL DEFAULT '{"enabled":false,"maxAge":0,"includeSubdomains":false,"preload":false,"nosniff":false}';
ALTER TABLE zones ADD COLUMN security_header_modified_on BIGINT;
-- Origin overrides per proxied hostname: the TLS server name (and verification name) and the Host
-- header sent to the origin; NULL means the visitor's host name.
ALTER TABLE dns_records ADD COLUMN origin_sni TEXT;
ALTER TABLE dns_records ADD COLUMN origin_host_header TEXT;
