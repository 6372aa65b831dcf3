/**
 * This node's own assertion for a volume: its whole set of claims (custody and its claims
 * about the directories it writes), computed from everything it holds at signing time
 * (src/evidence/claims.ts) — never what peers told it (relayed evidence would be attributed
 * to this node and survive the revocation of the node that made it up). A local claim that
 * was recorded but is no longer made is sent as a tombstone. Each seal takes a new, persisted
 * sequence number.
 */
import { currentClaims } from '../evidence/settle.js'
import type { NodeKey } from '../identity/node-key.js'
import type { NodeId } from '../identity/node-id.js'
import type { Logger } from '../logger.js'
import { sealAssertion } from '../protocol/envelope.js'
import type { AssertedComponent, Assertion, Tombstone } from '../protocol/messages.js'
import { isDirectoryKey } from '../store/destinations.js'
import type { Store } from '../store/store.js'

export interface LocalAssertionInit {
  receiptFor?: number
}

export function buildLocalAssertion (store: Store, signer: NodeId, volume: string, logger: Logger, init: LocalAssertionInit = {}): Assertion {
  const row = store.volumes.get(volume)
  const components: AssertedComponent[] = []
  const tombstones: Tombstone[] = []
  const nodeIdOf = new Map<number, NodeId>()
  const idOf = (rowId: number): NodeId | undefined => {
    if (!nodeIdOf.has(rowId)) {
      const n = store.nodes.byRowId(rowId)
      if (n !== undefined) nodeIdOf.set(rowId, n.nodeId)
    }
    return nodeIdOf.get(rowId)
  }
  // a directory claim names its marker's owner (this node) and this node's label for it
  const directoryIdentity = (key: string): { label?: string, owner?: NodeId } => {
    if (!isDirectoryKey(key)) return {}
    const d = store.destinations.byKey(key)
    return { label: d?.localName ?? d?.label ?? 'unknown', owner: signer }
  }
  if (row !== undefined) {
    const made = new Set<string>()
    for (const c of currentClaims(store, row.id)) {
      const originNode = idOf(c.originNodeId)
      if (originNode === undefined) {
        logger.warn('not asserting a claim whose origin node is unknown', { volume, destination: c.destination, origin: c.originNodeId })
        continue
      }
      made.add(`${c.destination}\u0000${originNode}`)
      components.push({ destination: c.destination, ...directoryIdentity(c.destination), originNode, originRun: c.originRunId, verifyMethod: c.verifyMethod, verifiedAtNs: c.verifiedAtNs, exceptions: c.exceptions, ...(c.floorRunId > 1 ? { floorRun: c.floorRunId } : {}) })
    }
    for (const c of store.vector.listLocal(row.id)) {
      const originNode = idOf(c.originNodeId)
      if (originNode === undefined || made.has(`${c.destination}\u0000${originNode}`)) continue
      tombstones.push({ destination: c.destination, originNode })
    }
  }
  return {
    signer,
    volume,
    ...store.assertions.nextLocalSeq(volume),
    issuedAtNs: store.clock.nowNs(),
    receiptFor: init.receiptFor ?? null,
    components,
    tombstones
  }
}

export function sealLocalAssertion (store: Store, key: NodeKey, volume: string, logger: Logger, init: LocalAssertionInit = {}): Uint8Array {
  return sealAssertion(key, buildLocalAssertion(store, key.nodeId, volume, logger, init))
}
