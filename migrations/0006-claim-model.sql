-- 0006: the claim model of DESIGN "What a component claims" (invariants 19-22, 28, 29).
--
-- * A file's origin lives on the file row and may change: a file that re-enters the present
--   set locally is stamped with the current run, and a received file takes the pusher's
--   origin. The 0005 triggers tying a file's origin to its content's first origin go (the
--   content row keeps the first origin for the record); the origin stays required.
-- * files.read_at_ns: when this node last read (hashed) its own bytes of the file: the
--   instant behind its custody. NULL = never read by this node (infinitely stale).
-- * placements carry the origin they were placed under (a peer's custody is about origins),
--   and verified_at_ns is the last real read behind a placement, never a skip's "now".
-- * vector.exceptions: the bounded list of holes a claim carries (JSON array of
--   {"path", "run"}: that version is not covered), and
--   vector.floor_run: the lowest run the claim covers; vector_history records both.
-- * vector_retractions: the audit record of every way down other than a rewind. A lower
--   origin_run in vector is accepted only with a matching retraction row of the same run.
-- * holds: holds this node granted to peers, holds it took from peers, and its own offload
--   intents (the content lock of invariant 29).

DROP TRIGGER files_origin_matches_content;
DROP TRIGGER files_origin_immutable;

ALTER TABLE files ADD COLUMN read_at_ns INTEGER CHECK (read_at_ns IS NULL OR read_at_ns > 0);

CREATE TRIGGER files_origin_required_insert BEFORE INSERT ON files
WHEN NEW.origin_node_id IS NULL OR NEW.origin_run_id IS NULL
BEGIN
  SELECT RAISE(ABORT, 'files: a file row names its origin');
END;
CREATE TRIGGER files_origin_required_update BEFORE UPDATE OF origin_node_id, origin_run_id ON files
WHEN NEW.origin_node_id IS NULL OR NEW.origin_run_id IS NULL
BEGIN
  SELECT RAISE(ABORT, 'files: a file row names its origin');
END;

ALTER TABLE placements ADD COLUMN origin_node_id INTEGER REFERENCES nodes(id);
ALTER TABLE placements ADD COLUMN origin_run_id INTEGER CHECK (origin_run_id IS NULL OR origin_run_id > 0);

ALTER TABLE vector ADD COLUMN exceptions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(exceptions) AND json_type(exceptions) = 'array');
-- the lowest run a claim covers: past its exception budget a claim drops its oldest holes
-- and covers only versions from floor_run on (1 = from the first run)
ALTER TABLE vector ADD COLUMN floor_run INTEGER NOT NULL DEFAULT 1 CHECK (floor_run >= 1);
ALTER TABLE vector_history ADD COLUMN exceptions TEXT;
ALTER TABLE vector_history ADD COLUMN floor_run INTEGER;

DROP TRIGGER vector_history_on_insert;
DROP TRIGGER vector_history_on_update;
CREATE TRIGGER vector_history_on_insert AFTER INSERT ON vector
BEGIN
  INSERT INTO vector_history (volume_id, destination, origin_node_id, origin_run_id, verify_method,
                              verified_at_ns, source_node_id, assertion_id, run_id, at_ns, exceptions, floor_run)
  VALUES (NEW.volume_id, NEW.destination, NEW.origin_node_id, NEW.origin_run_id, NEW.verify_method,
          NEW.verified_at_ns, NEW.source_node_id, NEW.assertion_id, NEW.run_id, NEW.updated_at_ns, NEW.exceptions, NEW.floor_run);
END;
CREATE TRIGGER vector_history_on_update AFTER UPDATE ON vector
BEGIN
  INSERT INTO vector_history (volume_id, destination, origin_node_id, origin_run_id, verify_method,
                              verified_at_ns, source_node_id, assertion_id, run_id, at_ns, exceptions, floor_run)
  VALUES (NEW.volume_id, NEW.destination, NEW.origin_node_id, NEW.origin_run_id, NEW.verify_method,
          NEW.verified_at_ns, NEW.source_node_id, NEW.assertion_id, NEW.run_id, NEW.updated_at_ns, NEW.exceptions, NEW.floor_run);
END;

CREATE TABLE vector_retractions (
  id             INTEGER PRIMARY KEY,
  volume_id      INTEGER NOT NULL,
  destination    TEXT NOT NULL,
  origin_node_id INTEGER NOT NULL,
  from_run       INTEGER NOT NULL CHECK (from_run > 0),
  -- 0: the component is gone (lowered below the first run, a tombstone, or no longer carried)
  to_run         INTEGER NOT NULL CHECK (to_run >= 0 AND to_run < from_run),
  -- NULL: this node retracted its own claim; else the peer whose claim came down
  source_node_id INTEGER,
  reason         TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
  run_id         INTEGER NOT NULL,
  at_ns          INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_vector_retractions_volume ON vector_retractions(volume_id, id);
CREATE TRIGGER vector_retractions_no_update BEFORE UPDATE ON vector_retractions
BEGIN
  SELECT RAISE(ABORT, 'vector_retractions: insert-only');
END;
CREATE TRIGGER vector_retractions_no_delete BEFORE DELETE ON vector_retractions
BEGIN
  SELECT RAISE(ABORT, 'vector_retractions: insert-only');
END;

-- the only ways down: a running rewind (or rewinding pull), or a retraction recorded by the
-- same run for exactly this component and value
DROP TRIGGER vector_monotone;
CREATE TRIGGER vector_monotone BEFORE UPDATE OF origin_run_id ON vector
WHEN NEW.origin_run_id < OLD.origin_run_id
  AND NOT EXISTS (
    SELECT 1 FROM runs r WHERE r.id = NEW.run_id AND r.status = 'running'
      AND (r.kind = 'rewind' OR (r.kind = 'pull' AND json_extract(r.detail, '$.allow_rewind') = 1)))
  AND NOT EXISTS (
    SELECT 1 FROM vector_retractions x WHERE x.run_id = NEW.run_id AND x.volume_id = NEW.volume_id
      AND x.destination = NEW.destination AND x.origin_node_id = NEW.origin_node_id
      AND x.from_run = OLD.origin_run_id AND x.to_run = NEW.origin_run_id)
BEGIN
  SELECT RAISE(ABORT, 'vector: a component only moves forward; rewind explicitly or record a retraction');
END;

CREATE TABLE holds (
  id             INTEGER PRIMARY KEY,
  volume_id      INTEGER NOT NULL REFERENCES volumes(id),
  path           TEXT NOT NULL CHECK (length(path) > 0),
  hash           BLOB NOT NULL CHECK (length(hash) = 32),
  -- granted: this node promised peer_node_id to keep the file; taken: peer_node_id promised
  -- this node; intent: this node is offloading the file itself (run_id is the offload)
  kind           TEXT NOT NULL CHECK (kind IN ('granted', 'taken', 'intent')),
  peer_node_id   INTEGER REFERENCES nodes(id),
  run_id         INTEGER REFERENCES runs(id),
  expires_at_ns  INTEGER NOT NULL,
  created_at_ns  INTEGER NOT NULL,
  released_at_ns INTEGER,
  CHECK ((kind = 'intent') = (peer_node_id IS NULL))
) STRICT;
CREATE INDEX idx_holds_live ON holds(volume_id, path) WHERE released_at_ns IS NULL;
