-- 0007: destination identity (DESIGN "Destination identity", invariants 23, 24 and 28).
--
-- * A directory destination is its marker: the store keys it `dir:<marker id>`, with the
--   owner node and its label beside it. `destinations` becomes that registry: the
--   directories this node writes (owner = this node, local_name = its config name) and the
--   directories peers assert about (owner = that peer, the label it asserts them under).
-- * Existing rows move forward: a local directory row keyed by its config label becomes its
--   marker key. A row keyed by a label that cannot be resolved to a marker (a local label
--   with no recorded marker, or a peer's `<node id>/<label>` claim from before markers were
--   on the wire) is dropped and audited in vector_retractions under one 'reset' run, never
--   guessed. History tables keep the keys they were written with.
-- * A name that ever named an enrolled peer keeps naming it: another node may not be
--   enrolled (or renamed) under it, revoked or not.

ALTER TABLE destinations RENAME TO destinations_v1;

CREATE TABLE destinations (
  key             TEXT PRIMARY KEY CHECK (length(key) = 36 AND substr(key, 1, 4) = 'dir:'
                                         AND substr(key, 5) NOT GLOB '*[^0-9a-f]*'),
  owner_node_id   INTEGER NOT NULL REFERENCES nodes(id),
  -- the owner's label for it (its config name there); for display and PEER/LABEL lookups
  label           TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 64),
  -- this node's config name for a directory it writes itself; NULL for a peer's directory
  local_name      TEXT CHECK (local_name IS NULL OR length(local_name) BETWEEN 1 AND 64),
  created_at_ns   INTEGER NOT NULL,
  updated_at_ns   INTEGER NOT NULL,
  -- set by `destination reset` (and adopt): the name no longer resolves to this marker
  forgotten_at_ns INTEGER
) STRICT;
-- one live marker per config name, and a marker is never recorded under two live names
CREATE UNIQUE INDEX uniq_destinations_local_name ON destinations(local_name)
  WHERE local_name IS NOT NULL AND forgotten_at_ns IS NULL;
CREATE INDEX idx_destinations_owner_label ON destinations(owner_node_id, label);
-- the owner of a marker never changes, except away from a revoked node: a revoked peer that
-- claimed another node's marker first loses it to the node that really asserts it
CREATE TRIGGER destinations_identity_immutable BEFORE UPDATE OF key, owner_node_id, created_at_ns ON destinations
WHEN NEW.key IS NOT OLD.key OR NEW.created_at_ns IS NOT OLD.created_at_ns
  OR (NEW.owner_node_id IS NOT OLD.owner_node_id
      AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = OLD.owner_node_id AND n.revoked_at_ns IS NOT NULL))
BEGIN
  SELECT RAISE(ABORT, 'destinations: a marker''s key, owner and first sight are immutable (an owner only while not revoked)');
END;
CREATE TRIGGER destinations_no_delete BEFORE DELETE ON destinations
BEGIN
  SELECT RAISE(ABORT, 'destinations: rows are never deleted (reset forgets the name instead)');
END;

-- one registry row per marker: before markers named owners a push adopted any marker it found,
-- so one marker may be recorded under two names (a renamed destination, a bind mount); the
-- newest name keeps it, and the other names' rows are dropped and audited below
CREATE TEMP TABLE m7_names AS
  SELECT d.name, d.marker_id, d.created_at_ns,
         d.name = (SELECT d2.name FROM destinations_v1 d2 WHERE d2.marker_id = d.marker_id
                   ORDER BY d2.created_at_ns DESC, d2.name DESC LIMIT 1) AS chosen
  FROM destinations_v1 d
  WHERE length(d.marker_id) = 32 AND d.marker_id NOT GLOB '*[^0-9a-f]*';
INSERT INTO destinations (key, owner_node_id, label, local_name, created_at_ns, updated_at_ns)
  SELECT 'dir:' || m.marker_id, s.id, m.name, m.name, m.created_at_ns, m.created_at_ns
  FROM m7_names m, nodes s
  WHERE s.is_self = 1 AND m.chosen = 1;
DROP TABLE m7_names;

-- the audit run for what cannot be carried forward (only when there is something to drop)
CREATE TEMP TABLE m7_drop AS
  SELECT v.volume_id, v.destination, v.origin_node_id, v.origin_run_id, v.source_node_id
  FROM vector v
  WHERE v.destination NOT IN (SELECT node_id FROM nodes)
    AND NOT (v.source_node_id IS NULL AND v.destination IN (
      SELECT local_name FROM destinations WHERE local_name IS NOT NULL));

INSERT INTO runs (kind, status, started_at_ns, ended_at_ns, detail)
  SELECT 'reset', 'success', CAST(unixepoch('subsec') * 1e9 AS INTEGER), CAST(unixepoch('subsec') * 1e9 AS INTEGER),
         json_object('migration', 7, 'reason', 'destination keys without a marker cannot be resolved',
                     'components_dropped', (SELECT count(*) FROM m7_drop))
  WHERE EXISTS (SELECT 1 FROM m7_drop);

INSERT INTO vector_retractions (volume_id, destination, origin_node_id, from_run, to_run, source_node_id, reason, run_id, at_ns)
  SELECT m.volume_id, m.destination, m.origin_node_id, m.origin_run_id, 0, m.source_node_id,
         'migration 0007: a destination label with no marker cannot be resolved',
         (SELECT max(id) FROM runs WHERE kind = 'reset' AND json_extract(detail, '$.migration') = 7),
         CAST(unixepoch('subsec') * 1e9 AS INTEGER)
  FROM m7_drop m;

DELETE FROM vector WHERE EXISTS (
  SELECT 1 FROM m7_drop m WHERE m.volume_id = vector.volume_id AND m.destination = vector.destination
    AND m.origin_node_id = vector.origin_node_id);
DROP TABLE m7_drop;

-- re-keying is not a new claim: no history row for it (history keeps the keys it was written with)
DROP TRIGGER vector_history_on_update;
UPDATE vector SET destination = (SELECT key FROM destinations WHERE local_name = vector.destination)
  WHERE source_node_id IS NULL AND destination IN (SELECT local_name FROM destinations WHERE local_name IS NOT NULL);
CREATE TRIGGER vector_history_on_update AFTER UPDATE ON vector
BEGIN
  INSERT INTO vector_history (volume_id, destination, origin_node_id, origin_run_id, verify_method,
                              verified_at_ns, source_node_id, assertion_id, run_id, at_ns, exceptions, floor_run)
  VALUES (NEW.volume_id, NEW.destination, NEW.origin_node_id, NEW.origin_run_id, NEW.verify_method,
          NEW.verified_at_ns, NEW.source_node_id, NEW.assertion_id, NEW.run_id, NEW.updated_at_ns, NEW.exceptions, NEW.floor_run);
END;

DELETE FROM placements WHERE destination NOT IN (SELECT node_id FROM nodes)
  AND destination NOT IN (SELECT local_name FROM destinations WHERE local_name IS NOT NULL);
UPDATE placements SET destination = (SELECT key FROM destinations WHERE local_name = placements.destination)
  WHERE destination IN (SELECT local_name FROM destinations WHERE local_name IS NOT NULL);

-- push freshness is no longer written (the relay chain replaced it); rows keyed by a label go
DELETE FROM push_freshness WHERE destination NOT IN (SELECT node_id FROM nodes);

DROP TABLE destinations_v1;

-- a name that ever named an enrolled peer keeps naming it
CREATE TRIGGER nodes_name_never_reused_insert BEFORE INSERT ON nodes
WHEN NEW.name IS NOT NULL AND EXISTS (
  SELECT 1 FROM nodes n WHERE n.name = NEW.name AND n.node_id <> NEW.node_id AND n.enrolled_at_ns IS NOT NULL)
BEGIN
  SELECT RAISE(ABORT, 'nodes: a name that named an enrolled peer keeps naming it');
END;
-- and an enrolled peer's name never changes (a new name would free the old one for another node)
CREATE TRIGGER nodes_enrolled_name_fixed BEFORE UPDATE OF name ON nodes
WHEN OLD.enrolled_at_ns IS NOT NULL AND OLD.name IS NOT NULL AND NEW.name IS NOT OLD.name
BEGIN
  SELECT RAISE(ABORT, 'nodes: an enrolled peer keeps its name');
END;
CREATE TRIGGER nodes_name_never_reused_update BEFORE UPDATE OF name ON nodes
WHEN NEW.name IS NOT NULL AND EXISTS (
  SELECT 1 FROM nodes n WHERE n.name = NEW.name AND n.node_id <> NEW.node_id AND n.enrolled_at_ns IS NOT NULL)
BEGIN
  SELECT RAISE(ABORT, 'nodes: a name that named an enrolled peer keeps naming it');
END;
