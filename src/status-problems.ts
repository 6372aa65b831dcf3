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
  status: 'failed' | 'refused'
  error: string | null
  at_ns: number
}

const STREAM_KINDS = ['index', 'push', 'verify', 'receive', 'offload', 'restore']

/** The newest finished run of each stream of a volume, where that run failed or was refused. */
export function failedStreams (store: Store, volumeId: number): FailedRun[] {
  const rows = store.db.prepare(`
    SELECT r.id, r.kind, r.destination, r.peer_node_id, r.status, r.error, coalesce(r.ended_at_ns, r.started_at_ns) AS at_ns
    FROM runs r
    WHERE r.volume_id = ? AND r.kind IN (${STREAM_KINDS.map(() => '?').join(', ')}) AND r.status NOT IN ('running', 'aborted')
      AND r.id = (SELECT max(x.id) FROM runs x
                  WHERE x.volume_id = r.volume_id AND x.kind = r.kind AND x.destination IS r.destination
                    AND x.peer_node_id IS r.peer_node_id AND x.status NOT IN ('running', 'aborted'))
      AND r.status IN ('failed', 'refused')
    ORDER BY r.id`).all(volumeId, ...STREAM_KINDS) as Array<{ id: number, kind: string, destination: string | null, peer_node_id: number | null, status: 'failed' | 'refused', error: string | null, at_ns: number }>
  return rows.map(r => {
    const peer = r.peer_node_id === null ? null : store.nodes.byRowId(r.peer_node_id)
    return { run_id: r.id, kind: r.kind, destination: r.destination, peer: peer === null ? null : peer?.name ?? peer?.nodeId ?? null, status: r.status, error: r.error, at_ns: r.at_ns }
  })
}

export interface PeerReachability {
  /** The newest of: its last authenticated connection, its last successful pull. */
  last_contact_ns: number | null
  /** Set when the peer needs the operator: refused pulls, or unreachable past the threshold. */
  problem: string | null
}

export function peerReachability (store: Store, peer: NodeRow, nowNs: number, pullEveryMs: number): PeerReachability {
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
      AND r.id = (SELECT max(x.id) FROM runs x WHERE x.kind = 'pull' AND x.peer_node_id = r.peer_node_id AND x.volume_id IS r.volume_id AND x.status NOT IN ('running', 'aborted'))
    ORDER BY r.id DESC LIMIT 1`).get(peer.id) as { status: string, error: string | null } | undefined
  if (refused !== undefined) {
    return { last_contact_ns: lastContact, problem: `the last pull from ${label} ${refused.status === 'refused' ? 'was refused' : 'refused rewinds'}: ${refused.error ?? 'see `cairn runs`'}` }
  }
  if (pulls.status !== 'failed' || pullEveryMs <= 0) return { last_contact_ns: lastContact, problem: null }
  const since = lastContact ?? peer.enrolledAtNs ?? pulls.at_ns
  const thresholdNs = UNREACHABLE_PULL_INTERVALS * pullEveryMs * 1e6
  if (nowNs - since < thresholdNs) return { last_contact_ns: lastContact, problem: null }
  const contact = lastContact === null ? 'never in contact' : `no contact since ${formatInstant(lastContact)}`
  return { last_contact_ns: lastContact, problem: `${label} is unreachable (${contact}, more than ${UNREACHABLE_PULL_INTERVALS} pull intervals): ${pulls.error ?? 'its pulls fail'}` }
}
