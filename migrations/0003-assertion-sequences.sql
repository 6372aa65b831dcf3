-- 0003: assertion sequence numbers. A peer's assertion is accepted only with a sequence higher
-- than the last one accepted from it for that volume (an identical re-send is a no-op); this
-- node's own sequence per volume only grows.

CREATE TABLE assertion_watermarks (
  signer_node_id  INTEGER NOT NULL REFERENCES nodes(id),
  volume          TEXT NOT NULL CHECK (length(volume) BETWEEN 1 AND 64),
  seq             INTEGER NOT NULL CHECK (seq > 0),
  envelope_sha256 BLOB NOT NULL CHECK (length(envelope_sha256) = 32),
  accepted_at_ns  INTEGER NOT NULL,
  PRIMARY KEY (signer_node_id, volume)
) STRICT;
CREATE TRIGGER assertion_watermarks_monotone BEFORE UPDATE OF seq ON assertion_watermarks
WHEN NEW.seq <= OLD.seq
BEGIN
  SELECT RAISE(ABORT, 'assertion_watermarks: a sequence only moves forward');
END;
CREATE TRIGGER assertion_watermarks_no_delete BEFORE DELETE ON assertion_watermarks
BEGIN
  SELECT RAISE(ABORT, 'assertion_watermarks: rows are never deleted');
END;

CREATE TABLE local_seqs (
  volume TEXT PRIMARY KEY CHECK (length(volume) BETWEEN 1 AND 64),
  seq    INTEGER NOT NULL CHECK (seq > 0)
) STRICT;
CREATE TRIGGER local_seqs_monotone BEFORE UPDATE OF seq ON local_seqs
WHEN NEW.seq <= OLD.seq
BEGIN
  SELECT RAISE(ABORT, 'local_seqs: a sequence only moves forward');
END;
