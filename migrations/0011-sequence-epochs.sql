-- 0011: a sequence is (epoch, counter) (DESIGN invariant 9). The epoch is random per home and
-- changes only by an audited act; the counter is persisted and only grows, never from a clock.
-- A peer's watermark pins the signer's epoch; a different epoch is refused until the operator
-- re-enrolls the signer, which resets that signer's watermarks in an audited run (the only
-- way a watermark is ever removed), so no single message can lock a key out for good.

-- This home's epoch: 8 random bytes, written once, never changed (a rebuilt node is a new home).
CREATE TABLE local_epoch (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  epoch         TEXT NOT NULL CHECK (length(epoch) = 16 AND epoch NOT GLOB '*[^0-9a-f]*'),
  created_at_ns INTEGER NOT NULL
) STRICT;
INSERT INTO local_epoch (id, epoch, created_at_ns) VALUES (1, lower(hex(randomblob(8))), 0);
CREATE TRIGGER local_epoch_immutable BEFORE UPDATE ON local_epoch
BEGIN
  SELECT RAISE(ABORT, 'local_epoch: the epoch never changes (a rebuilt node is a new home)');
END;
CREATE TRIGGER local_epoch_no_delete BEFORE DELETE ON local_epoch
BEGIN
  SELECT RAISE(ABORT, 'local_epoch: the epoch never changes (a rebuilt node is a new home)');
END;

-- This node's counter per volume: only grows, never above 2^53 - 1 (at the maximum the node
-- refuses to sign rather than wrap). It continues from the clock-seeded `local_seqs`, so peers
-- that migrate their watermarks (below) keep refusing replays of older assertions.
CREATE TABLE local_counters (
  volume  TEXT PRIMARY KEY CHECK (length(volume) BETWEEN 1 AND 64),
  counter INTEGER NOT NULL CHECK (counter BETWEEN 1 AND 9007199254740991)
) STRICT;
INSERT INTO local_counters (volume, counter) SELECT volume, min(seq, 9007199254740991) FROM local_seqs;
CREATE TRIGGER local_counters_monotone BEFORE UPDATE OF counter ON local_counters
WHEN NEW.counter <= OLD.counter
BEGIN
  SELECT RAISE(ABORT, 'local_counters: a counter only moves forward');
END;
CREATE TRIGGER local_counters_no_delete BEFORE DELETE ON local_counters
BEGIN
  SELECT RAISE(ABORT, 'local_counters: rows are never deleted');
END;
DROP TABLE local_seqs;

-- Audited watermark resets: one row per re-enrollment of a signer, written in the run that
-- records it. Insert-only.
CREATE TABLE sequence_resets (
  id                 INTEGER PRIMARY KEY,
  signer_node_id     INTEGER NOT NULL REFERENCES nodes(id),
  run_id             INTEGER NOT NULL REFERENCES runs(id),
  watermarks_cleared INTEGER NOT NULL CHECK (watermarks_cleared >= 0),
  at_ns              INTEGER NOT NULL
) STRICT;
CREATE TRIGGER sequence_resets_no_update BEFORE UPDATE ON sequence_resets
BEGIN
  SELECT RAISE(ABORT, 'sequence_resets: insert-only');
END;
CREATE TRIGGER sequence_resets_no_delete BEFORE DELETE ON sequence_resets
BEGIN
  SELECT RAISE(ABORT, 'sequence_resets: insert-only');
END;

-- Per (signer, volume): the pinned epoch and the last accepted counter. A migrated row has no
-- epoch yet: the signer's next assertion pins it, and must carry a higher counter than the
-- migrated sequence (the signer's own counter continued from it, see local_counters).
CREATE TABLE sequence_watermarks (
  signer_node_id  INTEGER NOT NULL REFERENCES nodes(id),
  volume          TEXT NOT NULL CHECK (length(volume) BETWEEN 1 AND 64),
  epoch           TEXT CHECK (epoch IS NULL OR (length(epoch) = 16 AND epoch NOT GLOB '*[^0-9a-f]*')),
  counter         INTEGER NOT NULL CHECK (counter BETWEEN 1 AND 9007199254740991),
  envelope_sha256 BLOB NOT NULL CHECK (length(envelope_sha256) = 32),
  accepted_at_ns  INTEGER NOT NULL,
  PRIMARY KEY (signer_node_id, volume)
) STRICT;
INSERT INTO sequence_watermarks (signer_node_id, volume, epoch, counter, envelope_sha256, accepted_at_ns)
  SELECT signer_node_id, volume, NULL, min(seq, 9007199254740991), envelope_sha256, accepted_at_ns FROM assertion_watermarks;
CREATE TRIGGER sequence_watermarks_monotone BEFORE UPDATE ON sequence_watermarks
WHEN NEW.counter <= OLD.counter OR NEW.signer_node_id <> OLD.signer_node_id OR NEW.volume <> OLD.volume
BEGIN
  SELECT RAISE(ABORT, 'sequence_watermarks: a counter only moves forward');
END;
CREATE TRIGGER sequence_watermarks_epoch_pinned BEFORE UPDATE OF epoch ON sequence_watermarks
WHEN OLD.epoch IS NOT NULL AND NEW.epoch IS NOT OLD.epoch
BEGIN
  SELECT RAISE(ABORT, 'sequence_watermarks: an epoch changes only by re-enrolling the signer');
END;
-- a watermark is removed only inside the run of an audited reset for its signer: the newest
-- reset row names the signer and its run is still running
CREATE TRIGGER sequence_watermarks_reset_only BEFORE DELETE ON sequence_watermarks
WHEN NOT EXISTS (
  SELECT 1 FROM sequence_resets r JOIN runs ON runs.id = r.run_id
  WHERE r.id = (SELECT max(id) FROM sequence_resets) AND r.signer_node_id = OLD.signer_node_id AND runs.status = 'running'
)
BEGIN
  SELECT RAISE(ABORT, 'sequence_watermarks: removed only by re-enrolling the signer (an audited reset)');
END;
DROP TABLE assertion_watermarks;

-- Stored assertions carry the signed (epoch, counter). `seq` stays unique per (signer, volume):
-- for rows from 0008 on it is this node's arrival number of that signer's assertions for the
-- volume (a re-enrolled signer's counter starts again in its new epoch); for older rows it is
-- the signed sequence itself (epoch and counter NULL).
ALTER TABLE assertions ADD COLUMN epoch TEXT CHECK (epoch IS NULL OR (length(epoch) = 16 AND epoch NOT GLOB '*[^0-9a-f]*'));
ALTER TABLE assertions ADD COLUMN counter INTEGER CHECK (counter IS NULL OR counter BETWEEN 1 AND 9007199254740991);
