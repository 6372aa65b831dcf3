/**
 * Which runs exclude each other on one volume (DESIGN invariant 11). A pure, symmetric
 * relation; `RunStore.begin` checks it inside the IMMEDIATE transaction that inserts the run.
 *
 *  - offload excludes everything on its volume, both ways;
 *  - index, receive and restore change the volume's files ("writers"): they exclude each other
 *    (two receives only when they come from the same pusher), and every push and verify;
 *  - push excludes a push to the same destination and any verify; verify excludes a verify
 *    of the same destination;
 *  - a verify at a peer (`peer_node_id` set: the peer re-reads its own copy, this node only
 *    accepts the assertion it signs, like a pull) excludes only a verify of the same peer — it
 *    may take hours, and index and push go on meanwhile;
 *  - pull excludes a pull from the same peer;
 *  - rewind and volume-less runs (reset, revoke, enroll) take no gate; the offload executor
 *    re-checks for evidence-changing runs before every unlink instead (see offload/).
 */
export type RunKind =
  | 'index' | 'push' | 'receive' | 'verify' | 'pull' | 'offload'
  | 'restore' | 'reset' | 'revoke' | 'rewind' | 'enroll'

export const RUN_KINDS: readonly RunKind[] = [
  'index', 'push', 'receive', 'verify', 'pull', 'offload', 'restore', 'reset', 'revoke', 'rewind', 'enroll'
]

export interface RunScope {
  kind: RunKind
  volumeId: number | null
  destination: string | null
  peerNodeId: number | null
}

const WRITERS: ReadonlySet<RunKind> = new Set(['index', 'receive', 'restore'])

function isPeerVerify (s: RunScope): boolean {
  return s.kind === 'verify' && s.peerNodeId !== null
}

function conflictOrdered (a: RunScope, b: RunScope): boolean {
  if (a.kind === 'offload') return true
  if (b.kind === 'offload') return false
  if (isPeerVerify(a) || isPeerVerify(b)) return a.kind === 'verify' && b.kind === 'verify' && a.destination === b.destination
  if (WRITERS.has(a.kind)) {
    if (a.kind === 'receive' && b.kind === 'receive') return a.peerNodeId === b.peerNodeId
    if (WRITERS.has(b.kind)) return true
    if (b.kind === 'push' || b.kind === 'verify') return true
    return false
  }
  if (a.kind === 'push' && b.kind === 'push') return a.destination === b.destination
  if (a.kind === 'push' && b.kind === 'verify') return true
  if (a.kind === 'verify' && b.kind === 'verify') return a.destination === b.destination
  if (a.kind === 'pull' && b.kind === 'pull') return a.peerNodeId === b.peerNodeId
  return false
}

export function runsConflict (a: RunScope, b: RunScope): boolean {
  if (a.volumeId === null || b.volumeId === null || a.volumeId !== b.volumeId) return false
  return conflictOrdered(a, b) || conflictOrdered(b, a)
}
