-- 0010: receiver conflicts (DESIGN invariant 25; issue 14).
--
-- A conflict is a pusher's version of a path that this node did not take because taking it
-- would destroy what this node does not own: its file on disk differs from what it indexed
-- there (an unindexed local edit), its indexed row is newer than or unrelated to the version
-- the pusher's plan replaces, or another writer got the path first (create-exclusive commit).
-- The receiver's own file stays untouched; the pusher's version is a hole in this node's
-- custody (invariant 19) until the conflict resolves.
--
-- Why a table of its own and not a `files.status = 'conflict'`: a file row says what this
-- node holds at a path, and its live row there stays exactly that (the receiver's own file);
-- the conflict is about a version it does *not* hold, from one pusher, and lives only until
-- that pusher's next push re-decides it. It is live state, replaced per (pusher, volume) at
-- every completed receive, not history; and it needs no rebuild of `files`.
--
-- `local_file_id` names the live row whose bytes were found changed on disk (kind 'local-edit'):
-- that row's version is not held either, until an index records what is there (a new row) or a
-- later receive finds the disk and the row agree again.

CREATE TABLE receive_conflicts (
  id              INTEGER PRIMARY KEY,
  volume_id       INTEGER NOT NULL REFERENCES volumes(id),
  path            TEXT NOT NULL CHECK (length(path) > 0),
  pusher_node_id  INTEGER NOT NULL REFERENCES nodes(id),
  -- the version the pusher offered: its content, origin node and origin run
  hash            BLOB NOT NULL CHECK (length(hash) = 32),
  origin_node_id  INTEGER NOT NULL REFERENCES nodes(id),
  origin_run_id   INTEGER NOT NULL CHECK (origin_run_id > 0),
  kind            TEXT NOT NULL CHECK (kind IN ('local-edit', 'diverged', 'occupied')),
  local_file_id   INTEGER REFERENCES files(id),
  first_run_id    INTEGER NOT NULL REFERENCES runs(id),
  last_run_id     INTEGER NOT NULL REFERENCES runs(id),
  first_seen_ns   INTEGER NOT NULL,
  last_seen_ns    INTEGER NOT NULL,
  CHECK ((kind = 'local-edit') = (local_file_id IS NOT NULL)),
  CHECK (last_seen_ns >= first_seen_ns)
) STRICT;
-- one live conflict per pusher and path: a later push replaces it with what it offers now
CREATE UNIQUE INDEX uniq_receive_conflicts_pusher_path ON receive_conflicts(volume_id, pusher_node_id, path);
CREATE INDEX idx_receive_conflicts_path ON receive_conflicts(volume_id, path);

-- Files a receive is replacing (crash safety of invariant 19): from just before a receive moves
-- a file's prior bytes to history until the new version is recorded, the prior row is not held
-- (a hole in custody and in this node's directory claims). The receive removes its rows when it
-- ends; rows a killed receive left keep the hole until an index of the volume records what is
-- there (or the same path is received again).
CREATE TABLE receive_replacing (
  file_id    INTEGER PRIMARY KEY REFERENCES files(id),
  volume_id  INTEGER NOT NULL REFERENCES volumes(id),
  run_id     INTEGER NOT NULL REFERENCES runs(id)
) STRICT;
CREATE INDEX idx_receive_replacing_volume ON receive_replacing(volume_id);
