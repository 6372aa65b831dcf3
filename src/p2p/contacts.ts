/**
 * Last contact: every authenticated connection with an enrolled peer stamps nodes.last_seen_ns
 * (`peer list`, `status`), at most once per CONTACT_WRITE_INTERVAL_MS per peer, so a busy
 * connection costs one small write now and then, not one per stream.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { NodeStore } from '../store/nodes.js'

export const CONTACT_WRITE_INTERVAL_MS = 15_000

export interface ContactTracker {
  /** A connection with this node id is open now. */
  seen: (nodeId: string) => void
  /** Stamps every peer connected to `host` now (call it on a timer while serving). */
  sweep: (host: Libp2p) => void
  /** Follows the host's connection:open events. */
  attach: (host: Libp2p) => void
}

export function contactTracker (nodes: NodeStore, clock: Clock, logger: Logger): ContactTracker {
  const lastWrite = new Map<string, number>()
  const seen = (nodeId: string): void => {
    const nowNs = clock.nowNs()
    const last = lastWrite.get(nodeId)
    if (last !== undefined && nowNs - last < CONTACT_WRITE_INTERVAL_MS * 1e6) return
    // only enrolled rows exist to update; the map is bounded by the enrolled peers plus the
    // few refused ids the gate lets this far (none: the gate runs first)
    if (lastWrite.size > 10_000) lastWrite.clear()
    lastWrite.set(nodeId, nowNs)
    try {
      nodes.recordSeen(nodeId, nowNs)
    } catch (err) {
      logger.debug('could not record a peer contact', { peer: nodeId, err })
    }
  }
  return {
    seen,
    sweep: (host) => { for (const c of host.getConnections()) if (c.status === 'open') seen(c.remotePeer.toString()) },
    attach: (host) => { host.addEventListener('connection:open', (e) => { seen(e.detail.remotePeer.toString()) }) }
  }
}
