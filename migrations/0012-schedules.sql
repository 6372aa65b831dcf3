-- 0012: the schedules `cairn serve` runs by itself (issue 15; docs/schedules.md).
--
-- One row per (volume, kind) that a serving node schedules: when it runs next, how often, and
-- how the last attempt went. It is the running node's live state, not evidence and not
-- history: each scheduled attempt is an ordinary recorded run (index, push, verify), and the
-- runs table is the audit. The row lets `cairn status` (another process) say when each kind
-- runs next, and lets a restarted serve keep its cadence instead of running everything at once.
--
-- `failures` counts consecutive failed attempts (the back-off); a busy volume (another run
-- holds its gate) is not a failure: the attempt waits and `last_status` says 'busy'.

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
