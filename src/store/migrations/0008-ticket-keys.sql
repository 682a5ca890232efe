-- Visitor TLS session-ticket keys, shared by every worker and edge node: a JSON key ring
-- (newest first) sealed with the secret box, and when it was last rotated (NULL: never made yet).
ALTER TABLE pki ADD COLUMN ticket_keys_sealed TEXT;
ALTER TABLE pki ADD COLUMN ticket_keys_rotated_on BIGINT;
