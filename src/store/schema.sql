-- Generated from migrations/ by test/store/schema.test.ts. Do not edit.
-- Regenerate: UPDATE_SCHEMA=1 npm test -- schema
-- user_version = 14

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
  received_at_ns  INTEGER NOT NULL, epoch TEXT CHECK (epoch IS NULL OR (length(epoch) = 16 AND epoch NOT GLOB '*[^0-9a-f]*')), counter INTEGER CHECK (counter IS NULL OR counter BETWEEN 1 AND 9007199254740991),
  UNIQUE (signer_node_id, volume, seq)
) STRICT;

CREATE TABLE contents (
  id             INTEGER PRIMARY KEY,
  hash           BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
  size           INTEGER NOT NULL CHECK (size >= 0),
  origin_node_id INTEGER NOT NULL REFERENCES nodes(id),
  origin_run_id  INTEGER NOT NULL CHECK (origin_run_id > 0),
  created_at_ns  INTEGER NOT NULL
) STRICT;

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

CREATE TABLE files (
  id                    INTEGER PRIMARY KEY,
  volume_id             INTEGER NOT NULL REFERENCES volumes(id),
  path                  TEXT NOT NULL CHECK (length(path) > 0),
  content_id            INTEGER NOT NULL REFERENCES contents(id),
  mtime_ns              INTEGER NOT NULL,
  status                TEXT NOT NULL CHECK (status IN ('present', 'missing', 'superseded', 'offloaded')),
  first_seen_run_id     INTEGER NOT NULL REFERENCES runs(id),
  last_seen_run_id      INTEGER NOT NULL REFERENCES runs(id),
  status_changed_run_id INTEGER NOT NULL REFERENCES runs(id)
, origin_node_id INTEGER REFERENCES nodes(id), origin_run_id INTEGER CHECK (origin_run_id IS NULL OR origin_run_id > 0), read_at_ns INTEGER CHECK (read_at_ns IS NULL OR read_at_ns > 0), ctime_ns INTEGER CHECK (ctime_ns IS NULL OR ctime_ns >= 0), ino TEXT CHECK (ino IS NULL OR (length(ino) > 0 AND ino NOT GLOB '*[^0-9]*'))) STRICT;

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

CREATE TABLE local_counters (
  volume  TEXT PRIMARY KEY CHECK (length(volume) BETWEEN 1 AND 64),
  counter INTEGER NOT NULL CHECK (counter BETWEEN 1 AND 9007199254740991)
) STRICT;

CREATE TABLE local_epoch (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  epoch         TEXT NOT NULL CHECK (length(epoch) = 16 AND epoch NOT GLOB '*[^0-9a-f]*'),
  created_at_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE nodes (
  id             INTEGER PRIMARY KEY,
  node_id        TEXT NOT NULL UNIQUE CHECK (length(node_id) BETWEEN 1 AND 128),
  name           TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 64),
  public_key     BLOB NOT NULL CHECK (length(public_key) = 32),
  is_self        INTEGER NOT NULL DEFAULT 0 CHECK (is_self IN (0, 1)),
  addrs          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(addrs) AND json_type(addrs) = 'array'),
  created_at_ns  INTEGER NOT NULL,
  enrolled_at_ns INTEGER,
  revoked_at_ns  INTEGER, last_seen_ns INTEGER CHECK (last_seen_ns IS NULL OR last_seen_ns >= 0), lan_addrs TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(lan_addrs) AND json_type(lan_addrs) = 'array' AND json_array_length(lan_addrs) <= 2),
  CHECK (revoked_at_ns IS NULL OR enrolled_at_ns IS NOT NULL),
  CHECK (is_self = 0 OR revoked_at_ns IS NULL)
) STRICT;

CREATE TABLE pending_peers (
  node_id        TEXT PRIMARY KEY CHECK (length(node_id) BETWEEN 1 AND 128),
  -- the remote addresses it came from, newest first, at most 8, each at most 256 characters
  addrs          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(addrs) AND json_type(addrs) = 'array' AND json_array_length(addrs) <= 8),
  first_seen_ns  INTEGER NOT NULL CHECK (first_seen_ns >= 0),
  last_seen_ns   INTEGER NOT NULL CHECK (last_seen_ns >= first_seen_ns),
  attempts       INTEGER NOT NULL CHECK (attempts >= 1)
) STRICT;

CREATE TABLE placements (
  destination    TEXT NOT NULL CHECK (length(destination) BETWEEN 1 AND 128),
  volume_id      INTEGER NOT NULL REFERENCES volumes(id),
  path           TEXT NOT NULL CHECK (length(path) > 0),
  content_id     INTEGER NOT NULL REFERENCES contents(id),
  size           INTEGER NOT NULL CHECK (size >= 0),
  mtime_ns       INTEGER NOT NULL,
  verify_method  TEXT NOT NULL CHECK (length(verify_method) BETWEEN 1 AND 32),
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  verified_at_ns INTEGER NOT NULL, origin_node_id INTEGER REFERENCES nodes(id), origin_run_id INTEGER CHECK (origin_run_id IS NULL OR origin_run_id > 0),
  PRIMARY KEY (destination, volume_id, path)
) STRICT;

CREATE TABLE push_freshness (
  volume_id      INTEGER NOT NULL REFERENCES volumes(id),
  destination    TEXT NOT NULL CHECK (length(destination) BETWEEN 1 AND 128),
  origin_node_id INTEGER NOT NULL REFERENCES nodes(id),
  origin_run_id  INTEGER NOT NULL CHECK (origin_run_id > 0),
  source_node_id INTEGER REFERENCES nodes(id),
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  updated_at_ns  INTEGER NOT NULL
) STRICT;

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

CREATE TABLE receive_replacing (
  file_id    INTEGER PRIMARY KEY REFERENCES files(id),
  volume_id  INTEGER NOT NULL REFERENCES volumes(id),
  run_id     INTEGER NOT NULL REFERENCES runs(id)
) STRICT;

CREATE TABLE run_events (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id),
  transition TEXT NOT NULL CHECK (length(transition) > 0),
  at_ns      INTEGER NOT NULL,
  note       TEXT
) STRICT;

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('index', 'push', 'receive', 'verify', 'pull', 'offload',
                                              'restore', 'reset', 'revoke', 'rewind', 'enroll')),
  volume_id     INTEGER REFERENCES volumes(id),
  destination   TEXT,
  peer_node_id  INTEGER REFERENCES nodes(id),
  status        TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'success', 'failed', 'partial', 'refused', 'aborted')),
  started_at_ns INTEGER NOT NULL,
  ended_at_ns   INTEGER,
  error         TEXT,
  file_count    INTEGER NOT NULL DEFAULT 0 CHECK (file_count >= 0),
  byte_count    INTEGER NOT NULL DEFAULT 0 CHECK (byte_count >= 0),
  -- kind-specific facts as a JSON object (counts, from/to of a rewind, ...)
  detail        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail) AND json_type(detail) = 'object'),
  -- the process that runs it; a running row whose owner is gone is reaped as aborted
  owner_pid     INTEGER, owner_start_ticks INTEGER CHECK (owner_start_ticks IS NULL OR owner_start_ticks >= 0), owner_boot_id TEXT CHECK (owner_boot_id IS NULL OR length(owner_boot_id) BETWEEN 1 AND 64), owner_pid_ns TEXT CHECK (owner_pid_ns IS NULL OR length(owner_pid_ns) BETWEEN 1 AND 64), owner_host TEXT CHECK (owner_host IS NULL OR length(owner_host) BETWEEN 1 AND 255),
  CHECK ((status = 'running') = (ended_at_ns IS NULL))
) STRICT;

CREATE TABLE schedules (
  volume_id           INTEGER NOT NULL REFERENCES volumes(id),
  kind                TEXT NOT NULL CHECK (kind IN ('index', 'rehash', 'push', 'verify')),
  every_ms            INTEGER NOT NULL CHECK (every_ms > 0),
  next_at_ns          INTEGER NOT NULL CHECK (next_at_ns >= 0),
  failures            INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  last_started_at_ns  INTEGER CHECK (last_started_at_ns IS NULL OR last_started_at_ns >= 0),
  last_ended_at_ns    INTEGER CHECK (last_ended_at_ns IS NULL OR last_ended_at_ns >= 0),
  last_status         TEXT CHECK (last_status IS NULL OR last_status IN ('success', 'partial', 'failed', 'refused', 'busy')),
  last_error          TEXT,
  -- the runs the last attempt recorded (a push or verify of every target records one each)
  last_run_ids        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(last_run_ids) AND json_type(last_run_ids) = 'array'),
  updated_at_ns       INTEGER NOT NULL,
  PRIMARY KEY (volume_id, kind)
) STRICT;

CREATE TABLE schema_migrations (
  version       INTEGER PRIMARY KEY,
  applied_at_ns INTEGER NOT NULL,
  app_version   TEXT NOT NULL
) STRICT;

CREATE TABLE sequence_resets (
  id                 INTEGER PRIMARY KEY,
  signer_node_id     INTEGER NOT NULL REFERENCES nodes(id),
  run_id             INTEGER NOT NULL REFERENCES runs(id),
  watermarks_cleared INTEGER NOT NULL CHECK (watermarks_cleared >= 0),
  at_ns              INTEGER NOT NULL
) STRICT;

CREATE TABLE sequence_watermarks (
  signer_node_id  INTEGER NOT NULL REFERENCES nodes(id),
  volume          TEXT NOT NULL CHECK (length(volume) BETWEEN 1 AND 64),
  epoch           TEXT CHECK (epoch IS NULL OR (length(epoch) = 16 AND epoch NOT GLOB '*[^0-9a-f]*')),
  counter         INTEGER NOT NULL CHECK (counter BETWEEN 1 AND 9007199254740991),
  envelope_sha256 BLOB NOT NULL CHECK (length(envelope_sha256) = 32),
  accepted_at_ns  INTEGER NOT NULL,
  PRIMARY KEY (signer_node_id, volume)
) STRICT;

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
  updated_at_ns  INTEGER NOT NULL, exceptions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(exceptions) AND json_type(exceptions) = 'array'), floor_run INTEGER NOT NULL DEFAULT 1 CHECK (floor_run >= 1),
  PRIMARY KEY (volume_id, destination, origin_node_id),
  -- local evidence is never backed by a peer's assertion
  CHECK (source_node_id IS NOT NULL OR assertion_id IS NULL)
) STRICT;

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
, exceptions TEXT, floor_run INTEGER) STRICT;

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

CREATE TABLE volumes (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
  path          TEXT NOT NULL CHECK (length(path) > 0),
  created_at_ns INTEGER NOT NULL
, marker_id TEXT
  CHECK (marker_id IS NULL OR (length(marker_id) = 32 AND marker_id NOT GLOB '*[^0-9a-f]*'))) STRICT;

CREATE INDEX idx_contents_origin ON contents(origin_node_id, origin_run_id);

CREATE INDEX idx_destinations_owner_label ON destinations(owner_node_id, label);

CREATE INDEX idx_files_content_id ON files(content_id);

CREATE INDEX idx_files_volume_status ON files(volume_id, status);

CREATE INDEX idx_holds_live ON holds(volume_id, path) WHERE released_at_ns IS NULL;

CREATE INDEX idx_push_freshness_destination ON push_freshness(destination);

CREATE INDEX idx_push_freshness_source ON push_freshness(source_node_id) WHERE source_node_id IS NOT NULL;

CREATE INDEX idx_receive_conflicts_path ON receive_conflicts(volume_id, path);

CREATE INDEX idx_receive_replacing_volume ON receive_replacing(volume_id);

CREATE INDEX idx_run_events_run_id ON run_events(run_id, id);

CREATE INDEX idx_runs_kind_volume_destination ON runs(kind, volume_id, destination, status);

CREATE INDEX idx_runs_running ON runs(volume_id) WHERE status = 'running';

CREATE INDEX idx_runs_volume_id ON runs(volume_id, id);

CREATE INDEX idx_unlink_journal_pending ON unlink_journal(volume_id, id) WHERE state = 'pending';

CREATE INDEX idx_unlink_journal_run ON unlink_journal(run_id);

CREATE INDEX idx_vector_destination ON vector(destination);

CREATE INDEX idx_vector_history_volume ON vector_history(volume_id, id);

CREATE INDEX idx_vector_retractions_volume ON vector_retractions(volume_id, id);

CREATE INDEX idx_vector_source ON vector(source_node_id) WHERE source_node_id IS NOT NULL;

CREATE UNIQUE INDEX uniq_destinations_local_name ON destinations(local_name)
  WHERE local_name IS NOT NULL AND forgotten_at_ns IS NULL;

CREATE UNIQUE INDEX uniq_files_live_path ON files(volume_id, path) WHERE status <> 'superseded';

CREATE UNIQUE INDEX uniq_nodes_live_name ON nodes(name) WHERE name IS NOT NULL AND revoked_at_ns IS NULL;

CREATE UNIQUE INDEX uniq_nodes_self ON nodes(is_self) WHERE is_self = 1;

CREATE UNIQUE INDEX uniq_push_freshness_key ON push_freshness(volume_id, destination, origin_node_id, coalesce(source_node_id, 0));

CREATE UNIQUE INDEX uniq_receive_conflicts_pusher_path ON receive_conflicts(volume_id, pusher_node_id, path);

CREATE UNIQUE INDEX uniq_volumes_marker_id ON volumes(marker_id) WHERE marker_id IS NOT NULL;

CREATE TRIGGER assertions_no_delete BEFORE DELETE ON assertions
BEGIN
  SELECT RAISE(ABORT, 'assertions: insert-only');
END;

CREATE TRIGGER assertions_no_update BEFORE UPDATE ON assertions
BEGIN
  SELECT RAISE(ABORT, 'assertions: insert-only');
END;

CREATE TRIGGER contents_no_delete BEFORE DELETE ON contents
BEGIN
  SELECT RAISE(ABORT, 'contents: insert-only');
END;

CREATE TRIGGER contents_no_update BEFORE UPDATE ON contents
BEGIN
  SELECT RAISE(ABORT, 'contents: insert-only');
END;

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

CREATE TRIGGER files_identity_immutable BEFORE UPDATE OF volume_id, path, content_id, first_seen_run_id ON files
BEGIN
  SELECT RAISE(ABORT, 'files: volume, path, content and first sighting are immutable');
END;

CREATE TRIGGER files_no_delete BEFORE DELETE ON files
BEGIN
  SELECT RAISE(ABORT, 'files: rows are never deleted');
END;

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

CREATE TRIGGER files_status_change_stamped BEFORE UPDATE OF status, status_changed_run_id ON files
WHEN (NEW.status = OLD.status) <> (NEW.status_changed_run_id = OLD.status_changed_run_id)
BEGIN
  SELECT RAISE(ABORT, 'files: status_changed_run_id moves exactly when status changes');
END;

CREATE TRIGGER files_superseded_terminal BEFORE UPDATE ON files WHEN OLD.status = 'superseded'
BEGIN
  SELECT RAISE(ABORT, 'files: a superseded row is history and never changes');
END;

CREATE TRIGGER local_counters_monotone BEFORE UPDATE OF counter ON local_counters
WHEN NEW.counter <= OLD.counter
BEGIN
  SELECT RAISE(ABORT, 'local_counters: a counter only moves forward');
END;

CREATE TRIGGER local_counters_no_delete BEFORE DELETE ON local_counters
BEGIN
  SELECT RAISE(ABORT, 'local_counters: rows are never deleted');
END;

CREATE TRIGGER local_epoch_immutable BEFORE UPDATE ON local_epoch
BEGIN
  SELECT RAISE(ABORT, 'local_epoch: the epoch never changes (a rebuilt node is a new home)');
END;

CREATE TRIGGER local_epoch_no_delete BEFORE DELETE ON local_epoch
BEGIN
  SELECT RAISE(ABORT, 'local_epoch: the epoch never changes (a rebuilt node is a new home)');
END;

CREATE TRIGGER nodes_enrolled_name_fixed BEFORE UPDATE OF name ON nodes
WHEN OLD.enrolled_at_ns IS NOT NULL AND OLD.name IS NOT NULL AND NEW.name IS NOT OLD.name
BEGIN
  SELECT RAISE(ABORT, 'nodes: an enrolled peer keeps its name');
END;

CREATE TRIGGER nodes_identity_immutable BEFORE UPDATE OF node_id, public_key, is_self ON nodes
BEGIN
  SELECT RAISE(ABORT, 'nodes: node_id, public_key and is_self are immutable');
END;

CREATE TRIGGER nodes_name_never_reused_insert BEFORE INSERT ON nodes
WHEN NEW.name IS NOT NULL AND EXISTS (
  SELECT 1 FROM nodes n WHERE n.name = NEW.name AND n.node_id <> NEW.node_id AND n.enrolled_at_ns IS NOT NULL)
BEGIN
  SELECT RAISE(ABORT, 'nodes: a name that named an enrolled peer keeps naming it');
END;

CREATE TRIGGER nodes_name_never_reused_update BEFORE UPDATE OF name ON nodes
WHEN NEW.name IS NOT NULL AND EXISTS (
  SELECT 1 FROM nodes n WHERE n.name = NEW.name AND n.node_id <> NEW.node_id AND n.enrolled_at_ns IS NOT NULL)
BEGIN
  SELECT RAISE(ABORT, 'nodes: a name that named an enrolled peer keeps naming it');
END;

CREATE TRIGGER nodes_no_delete BEFORE DELETE ON nodes
BEGIN
  SELECT RAISE(ABORT, 'nodes: rows are never deleted (revoke instead)');
END;

CREATE TRIGGER pending_peers_monotone BEFORE UPDATE ON pending_peers
WHEN NEW.last_seen_ns < OLD.last_seen_ns OR NEW.attempts < OLD.attempts OR NEW.first_seen_ns <> OLD.first_seen_ns OR NEW.node_id <> OLD.node_id
BEGIN
  SELECT RAISE(ABORT, 'pending_peers rows only move forward');
END;

CREATE TRIGGER run_events_no_delete BEFORE DELETE ON run_events
BEGIN
  SELECT RAISE(ABORT, 'run_events: insert-only');
END;

CREATE TRIGGER run_events_no_update BEFORE UPDATE ON run_events
BEGIN
  SELECT RAISE(ABORT, 'run_events: insert-only');
END;

CREATE TRIGGER runs_identity_immutable BEFORE UPDATE OF id, kind, volume_id, destination, peer_node_id, started_at_ns ON runs
BEGIN
  SELECT RAISE(ABORT, 'runs: kind, volume, destination, peer and start are immutable');
END;

CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN
  SELECT RAISE(ABORT, 'runs: rows are never deleted');
END;

CREATE TRIGGER runs_owner_immutable BEFORE UPDATE OF owner_pid, owner_start_ticks, owner_boot_id, owner_pid_ns, owner_host ON runs
BEGIN
  SELECT RAISE(ABORT, 'runs: the owner process of a run is immutable');
END;

CREATE TRIGGER runs_terminal_immutable BEFORE UPDATE ON runs WHEN OLD.status <> 'running'
BEGIN
  SELECT RAISE(ABORT, 'runs: a finished run is immutable');
END;

CREATE TRIGGER sequence_resets_no_delete BEFORE DELETE ON sequence_resets
BEGIN
  SELECT RAISE(ABORT, 'sequence_resets: insert-only');
END;

CREATE TRIGGER sequence_resets_no_update BEFORE UPDATE ON sequence_resets
BEGIN
  SELECT RAISE(ABORT, 'sequence_resets: insert-only');
END;

CREATE TRIGGER sequence_watermarks_epoch_pinned BEFORE UPDATE OF epoch ON sequence_watermarks
WHEN OLD.epoch IS NOT NULL AND NEW.epoch IS NOT OLD.epoch
BEGIN
  SELECT RAISE(ABORT, 'sequence_watermarks: an epoch changes only by re-enrolling the signer');
END;

CREATE TRIGGER sequence_watermarks_monotone BEFORE UPDATE ON sequence_watermarks
WHEN NEW.counter <= OLD.counter OR NEW.signer_node_id <> OLD.signer_node_id OR NEW.volume <> OLD.volume
BEGIN
  SELECT RAISE(ABORT, 'sequence_watermarks: a counter only moves forward');
END;

CREATE TRIGGER sequence_watermarks_reset_only BEFORE DELETE ON sequence_watermarks
WHEN NOT EXISTS (
  SELECT 1 FROM sequence_resets r JOIN runs ON runs.id = r.run_id
  WHERE r.id = (SELECT max(id) FROM sequence_resets) AND r.signer_node_id = OLD.signer_node_id AND runs.status = 'running'
)
BEGIN
  SELECT RAISE(ABORT, 'sequence_watermarks: removed only by re-enrolling the signer (an audited reset)');
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

CREATE TRIGGER unlink_journal_resolved_immutable BEFORE UPDATE ON unlink_journal WHEN OLD.state <> 'pending'
BEGIN
  SELECT RAISE(ABORT, 'unlink_journal: a resolved entry is immutable');
END;

CREATE TRIGGER vector_history_no_delete BEFORE DELETE ON vector_history
BEGIN
  SELECT RAISE(ABORT, 'vector_history: insert-only');
END;

CREATE TRIGGER vector_history_no_update BEFORE UPDATE ON vector_history
BEGIN
  SELECT RAISE(ABORT, 'vector_history: insert-only');
END;

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

CREATE TRIGGER vector_retractions_no_delete BEFORE DELETE ON vector_retractions
BEGIN
  SELECT RAISE(ABORT, 'vector_retractions: insert-only');
END;

CREATE TRIGGER vector_retractions_no_update BEFORE UPDATE ON vector_retractions
BEGIN
  SELECT RAISE(ABORT, 'vector_retractions: insert-only');
END;

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

CREATE TRIGGER volumes_marker_id_forgotten_first BEFORE UPDATE OF marker_id ON volumes
WHEN OLD.marker_id IS NOT NULL AND NEW.marker_id IS NOT NULL AND NEW.marker_id IS NOT OLD.marker_id
BEGIN
  SELECT RAISE(ABORT, 'volumes: a recorded marker is forgotten (volume init --reset) before another is recorded');
END;
