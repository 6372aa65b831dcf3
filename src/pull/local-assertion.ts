/**
 * This node's own assertion for a volume: what it verified itself (source NULL) and its own
 * push freshness — never what peers told it (relayed evidence would be attributed to this
 * node and survive the revocation of the node that made it up). Each seal takes a new,
 * persisted sequence number.
 */
import type { NodeKey } from '../identity/node-key.js'
import type { NodeId } from '../identity/node-id.js'
import type { Logger } from '../logger.js'
import { sealAssertion } from '../protocol/envelope.js'
import type { AssertedComponent, AssertedFreshness, Assertion } from '../protocol/messages.js'
import type { Store } from '../store/store.js'
import { isVerifyMethod } from '../verify-method.js'

export interface LocalAssertionInit {
  /** Only components for this destination (a receipt names the receiver itself). */
  destination?: string
  /** Only these origins (a receipt covers the pushed snapshot's origins). */
  originNodeIds?: ReadonlySet<number>
  receiptFor?: number
  includeFreshness?: boolean
}

export function buildLocalAssertion (store: Store, signer: NodeId, volume: string, logger: Logger, init: LocalAssertionInit = {}): Assertion {
  const row = store.volumes.get(volume)
  const components: AssertedComponent[] = []
  const freshness: AssertedFreshness[] = []
  const nodeIdOf = new Map<number, NodeId>()
  const idOf = (rowId: number): NodeId | undefined => {
    if (!nodeIdOf.has(rowId)) {
      const n = store.nodes.byRowId(rowId)
      if (n !== undefined) nodeIdOf.set(rowId, n.nodeId)
    }
    return nodeIdOf.get(rowId)
  }
  if (row !== undefined) {
    for (const c of store.vector.list(row.id)) {
      if (c.sourceNodeId !== null) continue
      if (init.destination !== undefined && c.destination !== init.destination) continue
      if (init.originNodeIds !== undefined && !init.originNodeIds.has(c.originNodeId)) continue
      if (c.verifyMethod !== null && !isVerifyMethod(c.verifyMethod)) {
        logger.warn('not asserting a component with an unknown verify method', { volume, destination: c.destination, method: c.verifyMethod })
        continue
      }
      const originNode = idOf(c.originNodeId)
      if (originNode === undefined) continue
      components.push({ destination: c.destination, originNode, originRun: c.originRunId, verifyMethod: c.verifyMethod, verifiedAtNs: c.verifiedAtNs })
    }
    if (init.includeFreshness !== false) {
      for (const f of store.vector.listFreshness(row.id)) {
        if (f.sourceNodeId !== null) continue
        if (init.destination !== undefined && f.destination !== init.destination) continue
        const originNode = idOf(f.originNodeId)
        if (originNode === undefined) continue
        freshness.push({ destination: f.destination, originNode, originRun: f.originRunId })
      }
    }
  }
  return {
    signer,
    volume,
    seq: store.assertions.nextLocalSeq(volume),
    issuedAtNs: store.clock.nowNs(),
    receiptFor: init.receiptFor ?? null,
    components,
    freshness
  }
}

export function sealLocalAssertion (store: Store, key: NodeKey, volume: string, logger: Logger, init: LocalAssertionInit = {}): Uint8Array {
  return sealAssertion(key, buildLocalAssertion(store, key.nodeId, volume, logger, init))
}
