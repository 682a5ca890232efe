-- Deltas for edges: one row per config version a write bumped to, naming the zone it touched ('' for
-- installation-wide writes), so an edge can load only the zones changed since the version it serves
-- (at 100,000 hostnames a full reload per write stalled each edge for ~1.3 s). An edge trusts a
-- delta only when every version since its own has its row here: writes by a node that predates
-- this table, or rows pruned away (only the last 10,000 versions are kept), mean a full load.
CREATE TABLE config_changes (
  version BIGINT NOT NULL,
  zone_id TEXT NOT NULL,
  PRIMARY KEY (version, zone_id)
);
