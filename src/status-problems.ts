/**
 * What `status` calls a problem — something an operator must act on, the only reason it exits 1
 * (docs/status.md): the newest run of a stream (a volume's index; its push, verify, receive,
 * offload, restore per target or peer) that failed or was refused, until a later run of the same
 * stream succeeds; a peer that has been unreachable for UNREACHABLE_PULL_INTERVALS pull intervals,
 * or whose last pull of some volume was refused or refused its rewinds. Files simply not pushed
 * yet are reported, not problems.
 */
import type { Store } from './store/store.js'
import type { NodeRow } from './store/nodes.js'
import { formatInstant } from './age.js'

/** A peer is unreachable once its pulls have failed for this many pull intervals with no contact. */
export const UNREACHABLE_PULL_INTERVALS = 3

export interface FailedRun {
  run_id: number
  kind: string
  /** The destination key or name the run recorded (push, verify), or null. */
  destination: string | null
  peer: string | null
  /** failed or refused: the newest run; partial: the two newest runs of the stream both were. */
  status: 'failed' | 'refused' | 'partial'
  error: string | null
  at_ns: number
}

const STREAM_KINDS = ['index', 'push', 'verify', 'receive', 'offload', 'restore']

/**
 * How long a push or verify to a PEER may keep failing (not refused) before it is a problem:
 * a peer off for a reboot is no problem; a peer gone for this long is. The same span as a pull's.
 */
export function peerGraceNs (pullEveryMs: number): number {
  return UNREACHABLE_PULL_INTERVALS * (pullEveryMs > 0 ? pullEveryMs : 10 * 60_000) * 1e6
}

/**
 * The streams of a volume that need the operator. A stream is (kind, destination, peer, and for
 * an index run what found it: the local walk, or damage found while serving a fetch or a verify).
 * Its newest finished, not interrupted run decides: refused → a problem; failed → a problem,
 * except a push or verify to a peer, which is one only once the stream has had no success for
 * `peerGraceNs` (a reboot); partial → a problem when the run before it was partial too (a full
 * disk: one partial is usually a file that changed while read).
 */
export function failedStreams (store: Store, volumeId: number, nowNs: number, pullEveryMs: number): FailedRun[] {
  const rows = store.db.prepare(`
    WITH finished AS (
      SELECT r.id, r.kind, r.destination, r.peer_node_id, r.status, r.error, coalesce(r.ended_at_ns, r.started_at_ns) AS at_ns,
             coalesce(json_extract(r.detail, '$.found_by'), '') AS found_by
      FROM runs r
      WHERE r.volume_id = ? AND r.kind IN (${STREAM_KINDS.map(() => '?').join(', ')}) AND r.status NOT IN ('running', 'aborted')
    ), ranked AS (
      SELECT f.*, row_number() OVER (PARTITION BY kind, destination, peer_node_id, found_by ORDER BY id DESC) AS nth,
             max(CASE WHEN status = 'success' THEN at_ns END) OVER (PARTITION BY kind, destination, peer_node_id, found_by) AS last_success_ns,
             min(at_ns) OVER (PARTITION BY kind, destination, peer_node_id, found_by) AS first_ns
      FROM finished f
    )
    SELECT * FROM ranked WHERE nth <= 2 ORDER BY kind, destination, peer_node_id, found_by, nth`).all(volumeId, ...STREAM_KINDS) as Array<{
    id: number, kind: string, destination: string | null, peer_node_id: number | null, status: string, error: string | null, at_ns: number,
    found_by: string, nth: number, last_success_ns: number | null, first_ns: number
  }>
  const out: FailedRun[] = []
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    if (r === undefined || r.nth !== 1) continue
    const before = rows[i + 1]?.nth === 2 ? rows[i + 1] : undefined
    const peer = r.peer_node_id === null ? undefined : store.nodes.byRowId(r.peer_node_id)
    let status: FailedRun['status'] | undefined
    if (r.status === 'refused') status = 'refused'
    else if (r.status === 'failed') {
      const toPeer = (r.kind === 'push' || r.kind === 'verify') && peer !== undefined
      const since = r.last_success_ns ?? r.first_ns
      if (!toPeer || nowNs - since >= peerGraceNs(pullEveryMs)) status = 'failed'
    } else if (r.status === 'partial' && before?.status === 'partial') status = 'partial'
    if (status === undefined) continue
    out.push({ run_id: r.id, kind: r.kind, destination: r.destination, peer: peer === undefined ? null : peer.name ?? peer.nodeId, status, error: r.error, at_ns: r.at_ns })
  }
  return out.sort((a, b) => a.run_id - b.run_id)
}

export interface PeerReachability {
  /** The newest of: its last authenticated connection, its last successful pull. */
  last_contact_ns: number | null
  /** Set when the peer needs the operator: refused pulls, or unreachable past the threshold. */
  problem: string | null
}

export function peerReachability (store: Store, peer: NodeRow, nowNs: number, pullEveryMs: number, volumeIds?: number[]): PeerReachability {
  const pulls = store.db.prepare(`SELECT status, error, coalesce(ended_at_ns, started_at_ns) AS at_ns FROM runs
    WHERE kind = 'pull' AND peer_node_id = ? AND status NOT IN ('running', 'aborted') ORDER BY id DESC LIMIT 1`).get(peer.id) as { status: string, error: string | null, at_ns: number } | undefined
  const lastGood = store.db.prepare(`SELECT max(coalesce(ended_at_ns, started_at_ns)) AS at_ns FROM runs
    WHERE kind = 'pull' AND peer_node_id = ? AND status IN ('success', 'partial')`).get(peer.id) as { at_ns: number | null }
  const contacts = [peer.lastSeenNs, lastGood.at_ns].filter((x): x is number => x !== null)
  const lastContact = contacts.length === 0 ? null : Math.max(...contacts)
  const label = peer.name ?? peer.nodeId
  if (peer.revokedAtNs !== null || pulls === undefined) return { last_contact_ns: lastContact, problem: null }
  // a pull is a stream per volume: a later pull of another volume clears nothing; a partial
  // pull refused the peer's rewinds, which only the operator's --allow-rewind accepts
  const refused = store.db.prepare(`SELECT r.status, r.error FROM runs r
    WHERE r.kind = 'pull' AND r.peer_node_id = ? AND r.status IN ('refused', 'partial')
      AND (? IS NULL OR r.volume_id IN (SELECT value FROM json_each(?)))
      AND r.id = (SELECT max(x.id) FROM runs x WHERE x.kind = 'pull' AND x.peer_node_id = r.peer_node_id AND x.volume_id IS r.volume_id AND x.status NOT IN ('running', 'aborted'))
    ORDER BY r.id DESC LIMIT 1`).get(peer.id, volumeIds === undefined ? null : 1, JSON.stringify(volumeIds ?? [])) as { status: string, error: string | null } | undefined
  if (refused !== undefined) {
    return { last_contact_ns: lastContact, problem: `the last pull from ${label} ${refused.status === 'refused' ? 'was refused' : 'refused rewinds'}: ${refused.error ?? 'see `cairn runs`'}` }
  }
  if (pulls.status !== 'failed' || pullEveryMs <= 0) return { last_contact_ns: lastContact, problem: null }
  // judged by the last successful pull, not by contact: a peer that accepts the connection and
  // then fails every pull is no better than one that is gone
  const since = lastGood.at_ns ?? peer.enrolledAtNs ?? pulls.at_ns
  const thresholdNs = UNREACHABLE_PULL_INTERVALS * pullEveryMs * 1e6
  if (nowNs - since < thresholdNs) return { last_contact_ns: lastContact, problem: null }
  const good = lastGood.at_ns === null ? 'no pull from it ever succeeded' : `no pull from it succeeded since ${formatInstant(lastGood.at_ns)}`
  const online = peer.lastSeenNs !== null && nowNs - peer.lastSeenNs < thresholdNs
  return {
    last_contact_ns: lastContact,
    problem: online
      ? `pulls from ${label} keep failing although it is online (last seen ${formatInstant(peer.lastSeenNs)}; ${good}, more than ${UNREACHABLE_PULL_INTERVALS} pull intervals): ${pulls.error ?? 'see `cairn runs`'}`
      : `${label} is unreachable (${lastContact === null ? 'never in contact' : `no contact since ${formatInstant(lastContact)}`}; ${good}, more than ${UNREACHABLE_PULL_INTERVALS} pull intervals): ${pulls.error ?? 'its pulls fail'}`
  }
}
