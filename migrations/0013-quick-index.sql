-- 0013: the quick index (issue 15; docs/index-and-push.md).
--
-- A file whose size, mtime, ctime and inode are all unchanged since this node last hashed it
-- is not hashed again by a default index. To decide that, a file row records the ctime and the
-- inode its bytes were read under (from the hashing handle). NULL = unknown (rows from before
-- this migration, and rows a receive or restore wrote): the next index hashes the file once.
-- A quick index never refreshes read_at_ns: only a real read of the bytes does.
-- The inode is unsigned 64-bit: decimal text, like unlink_journal's.

ALTER TABLE files ADD COLUMN ctime_ns INTEGER CHECK (ctime_ns IS NULL OR ctime_ns >= 0);
ALTER TABLE files ADD COLUMN ino TEXT CHECK (ino IS NULL OR (length(ino) > 0 AND ino NOT GLOB '*[^0-9]*'));
