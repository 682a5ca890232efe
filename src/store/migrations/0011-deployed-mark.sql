-- The highest config version every live edge has been seen to apply at once. Statuses derive from
-- it as well as from the current reports, so a status once reached does not regress when an edge
-- lapses and comes back with a stale first heartbeat, or when no edge is live at all. Only raised.
CREATE TABLE deployed_mark (
  id INTEGER PRIMARY KEY,
  version BIGINT NOT NULL
);
INSERT INTO deployed_mark (id, version) VALUES (1, 0);
