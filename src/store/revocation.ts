/**
 * The two deliberate deletions of live evidence, each one transaction recorded as a run, each
 * leaving every history table untouched:
 *
 *  - revokeSource: a compromised peer. Drops exactly the live components and pulled push
 *    freshness whose source is that peer, in every volume, and stamps the node revoked so its
 *    key is refused from then on (connection gate, assertions, receipts).
 *  - resetDestination: a destination the operator re-established. Drops every live component
 *    and freshness row for it (whoever asserted them) and forgets its identity marker.
 */
import { CairnError } from '../errors.js'
import type { Store } from './store.js'

export class PeerAlreadyRevokedError extends CairnError {
  override name = 'PeerAlreadyRevokedError' as const
  constructor (readonly nodeId: string, readonly revokedAtNs: number) {
    super(`node ${nodeId} is already revoked`)
  }
}

export class NotAPeerError extends CairnError {
  override name = 'NotAPeerError' as const
  constructor (readonly nodeId: string) {
    super(`node ${nodeId} is not an enrolled peer`)
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
    if (node === undefined || node.isSelf || node.enrolledAtNs === null) throw new NotAPeerError(node?.nodeId ?? `#${nodeRowId}`)
    if (node.revokedAtNs !== null) throw new PeerAlreadyRevokedError(node.nodeId, node.revokedAtNs)
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
