-- 0005: each file row carries its content's origin (node and run), so the offload gate reads one
-- table instead of joining a million rows with contents (measured: the join was two thirds of a
-- 1M-file dry run). Both are immutable: a content's origin never changes and a file's content
-- never changes, and triggers keep the copy equal to the content's at insert and forbid edits.

ALTER TABLE files ADD COLUMN origin_node_id INTEGER REFERENCES nodes(id);
ALTER TABLE files ADD COLUMN origin_run_id INTEGER CHECK (origin_run_id IS NULL OR origin_run_id > 0);

-- backfill every row, superseded ones included (their terminal trigger is recreated unchanged)
DROP TRIGGER files_superseded_terminal;
UPDATE files SET
  origin_node_id = (SELECT c.origin_node_id FROM contents c WHERE c.id = files.content_id),
  origin_run_id  = (SELECT c.origin_run_id FROM contents c WHERE c.id = files.content_id);
CREATE TRIGGER files_superseded_terminal BEFORE UPDATE ON files WHEN OLD.status = 'superseded'
BEGIN
  SELECT RAISE(ABORT, 'files: a superseded row is history and never changes');
END;

CREATE TRIGGER files_origin_matches_content BEFORE INSERT ON files
WHEN NEW.origin_node_id IS NOT (SELECT c.origin_node_id FROM contents c WHERE c.id = NEW.content_id)
  OR NEW.origin_run_id IS NOT (SELECT c.origin_run_id FROM contents c WHERE c.id = NEW.content_id)
BEGIN
  SELECT RAISE(ABORT, 'files: origin_node_id and origin_run_id must be the content''s origin');
END;
CREATE TRIGGER files_origin_immutable BEFORE UPDATE OF origin_node_id, origin_run_id ON files
BEGIN
  SELECT RAISE(ABORT, 'files: the origin of a file row never changes');
END;
