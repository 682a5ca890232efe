-- Deltas for edges: every config write stamps the zone it touched with the version it bumped to,
-- and a deleted zone leaves a removal row, so an edge can load only what changed since the version
-- it serves (at 100,000 hostnames a full reload per write stalled each edge for ~1.3 s).
ALTER TABLE zones ADD COLUMN changed_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX zones_changed ON zones (changed_version);

CREATE TABLE zone_removals (
  zone_id TEXT PRIMARY KEY,
  version BIGINT NOT NULL
);
CREATE INDEX zone_removals_version ON zone_removals (version);
