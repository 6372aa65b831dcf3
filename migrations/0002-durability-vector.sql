-- 0002: the durability vector, its append-only history, push freshness, stored assertions
-- and destination identities.

-- The exact signed bytes that changed the live vector, so any pulled component can be proven
-- offline later. Insert-only.
CREATE TABLE assertions (
  id              INTEGER PRIMARY KEY,
  signer_node_id  INTEGER NOT NULL REFERENCES nodes(id),
  volume          TEXT NOT NULL CHECK (length(volume) BETWEEN 1 AND 64),
  seq             INTEGER NOT NULL CHECK (seq > 0),
  issued_at_ns    INTEGER NOT NULL CHECK (issued_at_ns > 0),
  -- for a push receipt: the pusher's run id the receipt answers; NULL for a pulled assertion
  receipt_for     INTEGER CHECK (receipt_for IS NULL OR receipt_for > 0),
  envelope        BLOB NOT NULL,
  envelope_sha256 BLOB NOT NULL CHECK (length(envelope_sha256) = 32),
  received_at_ns  INTEGER NOT NULL,
  UNIQUE (signer_node_id, volume, seq)
) STRICT;
CREATE TRIGGER assertions_no_update BEFORE UPDATE ON assertions
BEGIN
  SELECT RAISE(ABORT, 'assertions: insert-only');
END;
CREATE TRIGGER assertions_no_delete BEFORE DELETE ON assertions
BEGIN
  SELECT RAISE(ABORT, 'assertions: insert-only');
END;

-- The live vector: per (volume, destination, origin node) the highest origin run whose content
-- is durable at the destination. `destination` is a directory destination's name or a peer's
-- node id. `source_node_id` NULL = verified by this node; otherwise the peer that asserted it.
CREATE TABLE vector (
  volume_id      INTEGER NOT NULL REFERENCES volumes(id),
  destination    TEXT NOT NULL CHECK (length(destination) BETWEEN 1 AND 128),
  origin_node_id INTEGER NOT NULL REFERENCES nodes(id),
  origin_run_id  INTEGER NOT NULL CHECK (origin_run_id > 0),
  verify_method  TEXT CHECK (verify_method IS NULL OR length(verify_method) BETWEEN 1 AND 32),
  verified_at_ns INTEGER CHECK (verified_at_ns IS NULL OR verified_at_ns > 0),
  source_node_id INTEGER REFERENCES nodes(id),
  assertion_id   INTEGER REFERENCES assertions(id),
  -- the run that made the last write (a push, pull, verify, receive or rewind)
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  updated_at_ns  INTEGER NOT NULL,
  PRIMARY KEY (volume_id, destination, origin_node_id),
  -- local evidence is never backed by a peer's assertion
  CHECK (source_node_id IS NOT NULL OR assertion_id IS NULL)
) STRICT;
CREATE INDEX idx_vector_source ON vector(source_node_id) WHERE source_node_id IS NOT NULL;
CREATE INDEX idx_vector_destination ON vector(destination);

-- Invariant 1 in SQL: a component only moves down inside a running rewind, or inside a
-- running pull that the operator started with --allow-rewind.
CREATE TRIGGER vector_monotone BEFORE UPDATE OF origin_run_id ON vector
WHEN NEW.origin_run_id < OLD.origin_run_id AND NOT EXISTS (
  SELECT 1 FROM runs r WHERE r.id = NEW.run_id AND r.status = 'running'
    AND (r.kind = 'rewind' OR (r.kind = 'pull' AND json_extract(r.detail, '$.allow_rewind') = 1)))
BEGIN
  SELECT RAISE(ABORT, 'vector: a component only moves forward; rewind explicitly');
END;
-- Invariant 3 in SQL: this node never appears as the source of its own evidence.
CREATE TRIGGER vector_source_not_self_insert BEFORE INSERT ON vector
WHEN NEW.source_node_id IS NOT NULL AND NEW.source_node_id = (SELECT id FROM nodes WHERE is_self = 1)
BEGIN
  SELECT RAISE(ABORT, 'vector: local evidence has source NULL, never this node''s id');
END;
CREATE TRIGGER vector_source_not_self_update BEFORE UPDATE OF source_node_id ON vector
WHEN NEW.source_node_id IS NOT NULL AND NEW.source_node_id = (SELECT id FROM nodes WHERE is_self = 1)
BEGIN
  SELECT RAISE(ABORT, 'vector: local evidence has source NULL, never this node''s id');
END;

-- Invariant 2: every applied write appends the values it wrote, in the same transaction.
-- No foreign keys: history must never block anything, and it outlives every live row.
CREATE TABLE vector_history (
  id             INTEGER PRIMARY KEY,
  volume_id      INTEGER NOT NULL,
  destination    TEXT NOT NULL,
  origin_node_id INTEGER NOT NULL,
  origin_run_id  INTEGER NOT NULL,
  verify_method  TEXT,
  verified_at_ns INTEGER,
  source_node_id INTEGER,
  assertion_id   INTEGER,
  run_id         INTEGER NOT NULL,
  at_ns          INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_vector_history_volume ON vector_history(volume_id, id);
CREATE TRIGGER vector_history_no_update BEFORE UPDATE ON vector_history
BEGIN
  SELECT RAISE(ABORT, 'vector_history: insert-only');
END;
CREATE TRIGGER vector_history_no_delete BEFORE DELETE ON vector_history
BEGIN
  SELECT RAISE(ABORT, 'vector_history: insert-only');
END;
CREATE TRIGGER vector_history_on_insert AFTER INSERT ON vector
BEGIN
  INSERT INTO vector_history (volume_id, destination, origin_node_id, origin_run_id, verify_method,
                              verified_at_ns, source_node_id, assertion_id, run_id, at_ns)
  VALUES (NEW.volume_id, NEW.destination, NEW.origin_node_id, NEW.origin_run_id, NEW.verify_method,
          NEW.verified_at_ns, NEW.source_node_id, NEW.assertion_id, NEW.run_id, NEW.updated_at_ns);
END;
CREATE TRIGGER vector_history_on_update AFTER UPDATE ON vector
BEGIN
  INSERT INTO vector_history (volume_id, destination, origin_node_id, origin_run_id, verify_method,
                              verified_at_ns, source_node_id, assertion_id, run_id, at_ns)
  VALUES (NEW.volume_id, NEW.destination, NEW.origin_node_id, NEW.origin_run_id, NEW.verify_method,
          NEW.verified_at_ns, NEW.source_node_id, NEW.assertion_id, NEW.run_id, NEW.updated_at_ns);
END;

-- What the last push to a destination covered, per origin: the pusher's snapshot maxima.
-- source_node_id NULL = this node's own pushes; otherwise pulled from that peer's assertion.
CREATE TABLE push_freshness (
  volume_id      INTEGER NOT NULL REFERENCES volumes(id),
  destination    TEXT NOT NULL CHECK (length(destination) BETWEEN 1 AND 128),
  origin_node_id INTEGER NOT NULL REFERENCES nodes(id),
  origin_run_id  INTEGER NOT NULL CHECK (origin_run_id > 0),
  source_node_id INTEGER REFERENCES nodes(id),
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  updated_at_ns  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX uniq_push_freshness_key ON push_freshness(volume_id, destination, origin_node_id, coalesce(source_node_id, 0));
CREATE INDEX idx_push_freshness_source ON push_freshness(source_node_id) WHERE source_node_id IS NOT NULL;
CREATE INDEX idx_push_freshness_destination ON push_freshness(destination);

-- The identity marker seen at each directory destination (written on first push).
CREATE TABLE destinations (
  name          TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
  marker_id     TEXT NOT NULL CHECK (length(marker_id) BETWEEN 16 AND 128),
  created_at_ns INTEGER NOT NULL
) STRICT;
