-- 0008: the identity of a node's own volume root (issue 14, DESIGN invariant 14 for volumes).
--
-- * `<volume root>/.cairn-volume` holds a random 128-bit id, the owning node id and the volume
--   name; `volumes.marker_id` is the id this node recorded for the volume. A recorded marker
--   that is missing or different at the root refuses index, receive and offload (an unmounted
--   disk is never mistaken for an empty one; another disk mounted there is never this volume).
-- * Existing rows keep marker_id NULL: their next index over a non-empty root writes and
--   records the marker (docs/volumes.md).
-- * A recorded id is never replaced by another in one write: `cairn volume init NAME --reset`
--   forgets it first (an audited `reset` run), then records the new one.

ALTER TABLE volumes ADD COLUMN marker_id TEXT
  CHECK (marker_id IS NULL OR (length(marker_id) = 32 AND marker_id NOT GLOB '*[^0-9a-f]*'));

-- one marker is one volume's root
CREATE UNIQUE INDEX uniq_volumes_marker_id ON volumes(marker_id) WHERE marker_id IS NOT NULL;

CREATE TRIGGER volumes_marker_id_forgotten_first BEFORE UPDATE OF marker_id ON volumes
WHEN OLD.marker_id IS NOT NULL AND NEW.marker_id IS NOT NULL AND NEW.marker_id IS NOT OLD.marker_id
BEGIN
  SELECT RAISE(ABORT, 'volumes: a recorded marker is forgotten (volume init --reset) before another is recorded');
END;
