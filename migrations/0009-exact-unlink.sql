-- 0009: the exact unlink (DESIGN invariant 27) and run owners that survive pid reuse.
--
-- * unlink_journal: before offload renames a checked file to its quarantine name it records,
--   in its own transaction, what it is about to do; the row is resolved in the same
--   transaction that marks the file offloaded (or when the file is put back). A row still
--   `pending` at the next start of any command is an interrupted unlink, finished or undone
--   from what is on disk (src/offload/unlink-recovery.ts). Resolved rows are kept: they are
--   the record of what cairn deleted, and never change again.
-- * runs: a pid names a process only together with its start time (clock ticks since boot),
--   the boot it ran in, the pid namespace it ran in and the host name; a run is orphaned only
--   when that very process is gone, and never by a process that cannot see it
--   (src/store/run-owner.ts). Rows from before this migration keep only their pid.

ALTER TABLE runs ADD COLUMN owner_start_ticks INTEGER CHECK (owner_start_ticks IS NULL OR owner_start_ticks >= 0);
ALTER TABLE runs ADD COLUMN owner_boot_id TEXT CHECK (owner_boot_id IS NULL OR length(owner_boot_id) BETWEEN 1 AND 64);
ALTER TABLE runs ADD COLUMN owner_pid_ns TEXT CHECK (owner_pid_ns IS NULL OR length(owner_pid_ns) BETWEEN 1 AND 64);
ALTER TABLE runs ADD COLUMN owner_host TEXT CHECK (owner_host IS NULL OR length(owner_host) BETWEEN 1 AND 255);
CREATE TRIGGER runs_owner_immutable BEFORE UPDATE OF owner_pid, owner_start_ticks, owner_boot_id, owner_pid_ns, owner_host ON runs
BEGIN
  SELECT RAISE(ABORT, 'runs: the owner process of a run is immutable');
END;

CREATE TABLE unlink_journal (
  id              INTEGER PRIMARY KEY,
  -- the offload run that checked the file (its gate and holds passed for it)
  run_id          INTEGER NOT NULL REFERENCES runs(id),
  volume_id       INTEGER NOT NULL REFERENCES volumes(id),
  file_id         INTEGER NOT NULL REFERENCES files(id),
  -- the volume root the offload used, and the volume-relative path of the checked file
  root            TEXT NOT NULL CHECK (length(root) > 0),
  path            TEXT NOT NULL CHECK (length(path) > 0),
  -- the name the file is renamed to, in its own directory; never indexed (a `.cairn` name)
  quarantine_name TEXT NOT NULL UNIQUE CHECK (quarantine_name GLOB '.cairn-offloading-*' AND instr(quarantine_name, '/') = 0),
  -- the directory holding both names (a different directory there now decides nothing)
  dir_dev         TEXT NOT NULL CHECK (length(dir_dev) > 0 AND dir_dev NOT GLOB '*[^0-9]*'),
  dir_ino         TEXT NOT NULL CHECK (length(dir_ino) > 0 AND dir_ino NOT GLOB '*[^0-9]*'),
  -- the checked file, from its open handle (dev and ino are unsigned 64-bit: decimal text)
  dev             TEXT NOT NULL CHECK (length(dev) > 0 AND dev NOT GLOB '*[^0-9]*'),
  ino             TEXT NOT NULL CHECK (length(ino) > 0 AND ino NOT GLOB '*[^0-9]*'),
  size            INTEGER NOT NULL CHECK (size >= 0),
  mtime_ns        INTEGER NOT NULL,
  hash            BLOB NOT NULL CHECK (length(hash) = 32),
  -- pending: the rename may have happened; unlinked: deleted and the row marked offloaded;
  -- restored: put back under its own name; kept: its name was taken, it is at recovered_name;
  -- unchanged: it was never moved (or was back already)
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'unlinked', 'restored', 'kept', 'unchanged')),
  -- the visible name a quarantined file is moved to when its own name is taken (set before the move)
  recovered_name  TEXT CHECK (recovered_name IS NULL OR (length(recovered_name) > 0 AND instr(recovered_name, '/') = 0)),
  created_at_ns   INTEGER NOT NULL,
  resolved_at_ns  INTEGER,
  -- the run that resolved it: the offload itself, or the recovery run of a later start
  resolved_run_id INTEGER REFERENCES runs(id),
  CHECK ((state = 'pending') = (resolved_at_ns IS NULL)),
  CHECK ((state = 'pending') = (resolved_run_id IS NULL)),
  CHECK (state <> 'kept' OR recovered_name IS NOT NULL)
) STRICT;
CREATE INDEX idx_unlink_journal_pending ON unlink_journal(volume_id, id) WHERE state = 'pending';
CREATE INDEX idx_unlink_journal_run ON unlink_journal(run_id);
CREATE TRIGGER unlink_journal_resolved_immutable BEFORE UPDATE ON unlink_journal WHEN OLD.state <> 'pending'
BEGIN
  SELECT RAISE(ABORT, 'unlink_journal: a resolved entry is immutable');
END;
CREATE TRIGGER unlink_journal_identity_immutable BEFORE UPDATE OF id, run_id, volume_id, file_id, root, path, quarantine_name,
  dir_dev, dir_ino, dev, ino, size, mtime_ns, hash, created_at_ns ON unlink_journal
BEGIN
  SELECT RAISE(ABORT, 'unlink_journal: what was checked is immutable');
END;
CREATE TRIGGER unlink_journal_no_delete BEFORE DELETE ON unlink_journal
BEGIN
  SELECT RAISE(ABORT, 'unlink_journal: entries are never deleted');
END;
