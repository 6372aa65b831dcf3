/**
 * A node never replaces a file it promised to hold (DESIGN invariant 29): while a granted hold
 * on a path is live, a push that would write other bytes there is refused for that file. The
 * receiver asks once per push; the holds are read once, at the injected clock's now.
 */
import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'

/** Returns whether writing `hash` at `path` would break a live hold (and logs the refusal). */
export function holdGuard (store: Store, volumeId: number, logger: Logger): (path: string, hash: Uint8Array) => boolean {
  const live = store.holds.liveGrantedPaths(volumeId, store.clock.nowNs())
  return (path, hash) => {
    const holds = live.get(path)
    if (holds === undefined) return false
    const other = holds.find(h => !h.hash.equals(hash))
    if (other === undefined) return false
    logger.warn('not replacing a file this node holds for a peer', { path, peer_node: other.peerNodeId, until_ns: other.expiresAtNs })
    return true
  }
}
