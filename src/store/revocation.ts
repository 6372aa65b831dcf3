/**
 * The two deliberate deletions of live evidence, each one transaction recorded as a run, each
 * leaving every history table untouched:
 *
 *  - revokeSource: a compromised peer. Drops exactly the live components and pulled push
 *    freshness whose source is that peer, in every volume, and stamps the node revoked so its
 *    key is refused from then on (connection gate, assertions, receipts).
 *  - resetDestination: a destination the operator re-established. Drops every live component
 *    and freshness row for it (whoever asserted them) and forgets its identity marker.
 *
 * And the one audited act that lets a key back in: reEnrollSigner trusts a revoked peer again
 * and resets its sequence watermarks (DESIGN invariant 9), so a rebuilt node (a new epoch) or a
 * key pinned by one huge counter is recovered; it restores no evidence.
 */
import { crashPoint } from '../crash-point.js'
import { CairnError, nodeRef } from '../errors.js'
import type { NodeId } from '../identity/node-id.js'
import type { NodeRow } from './nodes.js'
import type { Store } from './store.js'

export class PeerAlreadyRevokedError extends CairnError {
  override name = 'PeerAlreadyRevokedError' as const
  constructor (readonly nodeId: string, readonly revokedAtNs: number, readonly peerName: string | null = null) {
    super(`${nodeRef(nodeId, peerName)} is already revoked`)
  }
}

export class NotAPeerError extends CairnError {
  override name = 'NotAPeerError' as const
  constructor (readonly nodeId: string, readonly nodeName: string | null = null) {
    super(`${nodeRef(nodeId, nodeName)} is not an enrolled peer`)
  }
}

export interface RevokeResult {
  runId: number
  componentsDropped: number
  freshnessDropped: number
}

export function revokeSource (store: Store, nodeRowId: number): RevokeResult {
  const tx = store.db.transaction((): RevokeResult => {
    const node = store.nodes.byRowId(nodeRowId)
    if (node === undefined || node.isSelf || node.enrolledAtNs === null) throw new NotAPeerError(node?.nodeId ?? `#${nodeRowId}`, node?.name ?? null)
    if (node.revokedAtNs !== null) throw new PeerAlreadyRevokedError(node.nodeId, node.revokedAtNs, node.name)
    const run = store.runs.begin({ kind: 'revoke', peerNodeId: nodeRowId })
    const counts = store.vector.deleteFromSource(nodeRowId)
    store.nodes.markRevoked(nodeRowId)
    store.runs.finish(run.id, 'success', {
      fileCount: 0,
      detail: { node_id: node.nodeId, components_dropped: counts.components, freshness_dropped: counts.freshness }
    })
    return { runId: run.id, componentsDropped: counts.components, freshnessDropped: counts.freshness }
  })
  return tx.immediate()
}

export interface ResetResult {
  runId: number
  components: number
  freshness: number
  markerForgotten: string | null
}

/** `destination`: a config name of a directory this node writes. */
export function resetDestination (store: Store, destination: string): ResetResult {
  const tx = store.db.transaction((): ResetResult => {
    const run = store.runs.begin({ kind: 'reset', destination })
    const row = store.destinations.forgetLocal(destination)
    const counts = row === undefined ? { components: 0, freshness: 0 } : store.vector.deleteForDestination(row.key)
    if (row !== undefined) store.placements.forgetDestination(row.key)
    const marker = row?.markerId ?? null
    store.runs.finish(run.id, 'success', {
      detail: { components_dropped: counts.components, freshness_dropped: counts.freshness, marker_forgotten: marker, key: row?.key ?? null }
    })
    return { runId: run.id, components: counts.components, freshness: counts.freshness, markerForgotten: marker }
  })
  return tx.immediate()
}

export interface ReEnrollResult {
  row: NodeRow
  runId: number
  /** Sequence watermarks of the signer that were reset (its next assertion pins its epoch afresh). */
  watermarksReset: number
}

/**
 * Enrolls a peer in one transaction, recorded as an `enroll` run. With `reEnroll` and a
 * revoked node id it trusts that node again (the operator's `peer add --re-enroll`) and resets
 * every sequence watermark of it, audited by a `sequence_resets` row in the run: the only way a
 * watermark is removed. Nothing it asserted before comes back.
 */
export function enrollSigner (store: Store, nodeId: NodeId, name: string, addrs: string[], reEnroll: boolean): ReEnrollResult {
  const tx = store.db.transaction((): ReEnrollResult => {
    const existing = store.nodes.byNodeId(nodeId)
    const again = reEnroll && existing?.revokedAtNs != null
    const row = again ? store.nodes.reEnrollPeer(nodeId, name, addrs) : store.nodes.enrollPeer(nodeId, name, addrs)
    const run = store.runs.begin({ kind: 'enroll', peerNodeId: row.id, detail: { name, re_enroll: again } })
    let watermarksReset = 0
    if (again) {
      crashPoint('enroll:reset-watermarks')
      watermarksReset = store.assertions.resetSigner(row.id, run.id)
    }
    store.runs.finish(run.id, 'success', again ? { detail: { watermarks_reset: watermarksReset } } : {})
    return { row, runId: run.id, watermarksReset }
  })
  return tx.immediate()
}
