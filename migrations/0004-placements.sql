-- 0004: what this node placed at each directory destination, so a push copies only what the
-- destination lacks. A cache, never evidence: a row is trusted only while the file at the
-- destination still has the recorded size and mtime, and a verify that finds a file wrong
-- deletes its row so the next push rewrites it.
CREATE TABLE placements (
  destination    TEXT NOT NULL CHECK (length(destination) BETWEEN 1 AND 128),
  volume_id      INTEGER NOT NULL REFERENCES volumes(id),
  path           TEXT NOT NULL CHECK (length(path) > 0),
  content_id     INTEGER NOT NULL REFERENCES contents(id),
  size           INTEGER NOT NULL CHECK (size >= 0),
  mtime_ns       INTEGER NOT NULL,
  verify_method  TEXT NOT NULL CHECK (length(verify_method) BETWEEN 1 AND 32),
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  verified_at_ns INTEGER NOT NULL,
  PRIMARY KEY (destination, volume_id, path)
) STRICT;
