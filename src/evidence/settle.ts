/**
 * Settling this node's own claims: after every run that changes what it holds or what it
 * placed (index, push, receive, verify, offload, restore), the claims computed from
 * everything present replace the recorded ones — advances, and retractions with their audit
 * rows (invariant 21), in one transaction.
 *
 * The directories claimed about are those this node has placements at (peer keys excluded:
 * what a peer holds is that peer's custody, asserted in its own signature).
 */
import { isDirectoryKey } from '../store/destinations.js'
import type { Store } from '../store/store.js'
import type { SettleResult } from '../store/vector.js'
import { computeLocalClaims, type LocalClaim } from './claims.js'

/** The directory destinations this node has placed files of a volume at. */
export function placedDirectories (store: Store, volumeId: number): string[] {
  return store.placements.destinationsOf(volumeId).filter(isDirectoryKey).sort()
}

/** This node's claims for a volume as they stand now (pure read). */
export function currentClaims (store: Store, volumeId: number): LocalClaim[] {
  return computeLocalClaims(store, volumeId, store.nodes.self().nodeId, placedDirectories(store, volumeId))
}

/** Computes and records this node's claims in one transaction (nothing changes in between). */
export function settleClaims (store: Store, volumeId: number, runId: number, reason: string): SettleResult {
  return store.db.transaction(() => store.vector.settleLocal(volumeId, currentClaims(store, volumeId), runId, reason)).immediate()
}
