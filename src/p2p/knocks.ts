/**
 * Who knocked: a node that finished the Noise handshake (so its node id is proven) and that the
 * gate refused is recorded in pending_peers for `cairn peer pending`. Anyone can make new keys
 * for free, so the writes are bounded here: one write per node id per KNOCK_WRITE_INTERVAL_MS
 * (the attempts in between are counted and carried by the next write), and at most
 * KNOCK_WRITES_PER_SECOND writes a second in all; the table itself is bounded by the store.
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { PendingPeerStore } from '../store/pending-peers.js'

export const KNOCK_WRITE_INTERVAL_MS = 10_000
export const KNOCK_WRITES_PER_SECOND = 10
/** Node ids whose unwritten attempts are remembered between writes. */
export const MAX_KNOCKS_TRACKED = 1000

export interface KnockRecorder {
  knocked: (nodeId: string, remoteAddr: string | undefined) => void
}

export function knockRecorder (pending: PendingPeerStore, clock: Clock, logger: Logger): KnockRecorder {
  const tracked = new Map<string, { lastWriteMs: number, unwritten: number }>()
  let windowStartMs = -Infinity
  let writesInWindow = 0
  let droppedInWindow = 0
  return {
    knocked: (nodeId, remoteAddr) => {
      const nowMs = clock.nowNs() / 1e6
      const t = tracked.get(nodeId)
      if (t !== undefined && nowMs - t.lastWriteMs < KNOCK_WRITE_INTERVAL_MS) {
        t.unwritten++
        return
      }
      if (nowMs - windowStartMs >= 1000) {
        if (droppedInWindow > 0) logger.warn('refused nodes knocked faster than they are recorded; some knocks were not recorded', { dropped: droppedInWindow })
        windowStartMs = nowMs
        writesInWindow = 0
        droppedInWindow = 0
      }
      if (writesInWindow >= KNOCK_WRITES_PER_SECOND) {
        droppedInWindow++
        return
      }
      writesInWindow++
      const attempts = 1 + (t?.unwritten ?? 0)
      tracked.delete(nodeId)
      if (tracked.size >= MAX_KNOCKS_TRACKED) {
        const oldest = tracked.keys().next().value
        if (oldest !== undefined) tracked.delete(oldest)
      }
      tracked.set(nodeId, { lastWriteMs: nowMs, unwritten: 0 })
      try {
        pending.record(nodeId, remoteAddr, attempts, clock.nowNs())
      } catch (err) {
        logger.warn('could not record a refused node in pending_peers', { peer: nodeId, err })
      }
    }
  }
}
