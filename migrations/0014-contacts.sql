-- 0014: who knocked, and when each peer was last in contact (issue 16; docs/peers.md).
--
-- nodes.last_seen_ns: the last time this node held an authenticated connection with the peer
-- (either direction). It only moves forward (the store's UPDATE is monotone). It is live state
-- for `status` and `peer list`, not evidence: nothing about durability reads it.
--
-- pending_peers: nodes that completed a Noise handshake with this node (so their node id is
-- proven) and were refused by the connection gate because they are not enrolled, live peers.
-- `cairn peer pending` lists them so the operator can see who knocked and enroll it. The table
-- is bounded by the store (MAX_PENDING_PEERS rows, the least recently seen evicted first) and
-- writes are rate-limited by the running node; enrolling a node removes its row. A revoked
-- node knocking is recorded too: its row says so through the nodes table, not here.

ALTER TABLE nodes ADD COLUMN last_seen_ns INTEGER CHECK (last_seen_ns IS NULL OR last_seen_ns >= 0);

-- nodes.lan_addrs: addresses LAN discovery learned (docs/lan-discovery.md), newest first, at
-- most 2, each reached by an authenticated dial. They are dialled before nodes.addrs (the ones
-- an invite or `peer add` pinned), and they never replace those: a stranger on the LAN who
-- relays to the real peer can put an address here, but cannot push the invite's address out.
ALTER TABLE nodes ADD COLUMN lan_addrs TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(lan_addrs) AND json_type(lan_addrs) = 'array' AND json_array_length(lan_addrs) <= 2);

CREATE TABLE pending_peers (
  node_id        TEXT PRIMARY KEY CHECK (length(node_id) BETWEEN 1 AND 128),
  -- the remote addresses it came from, newest first, at most 8, each at most 256 characters
  addrs          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(addrs) AND json_type(addrs) = 'array' AND json_array_length(addrs) <= 8),
  first_seen_ns  INTEGER NOT NULL CHECK (first_seen_ns >= 0),
  last_seen_ns   INTEGER NOT NULL CHECK (last_seen_ns >= first_seen_ns),
  attempts       INTEGER NOT NULL CHECK (attempts >= 1)
) STRICT;

-- a pending row never moves back in time and never loses attempts
CREATE TRIGGER pending_peers_monotone BEFORE UPDATE ON pending_peers
WHEN NEW.last_seen_ns < OLD.last_seen_ns OR NEW.attempts < OLD.attempts OR NEW.first_seen_ns <> OLD.first_seen_ns OR NEW.node_id <> OLD.node_id
BEGIN
  SELECT RAISE(ABORT, 'pending_peers rows only move forward');
END;
