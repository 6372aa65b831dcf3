import { nodeKeyFromSeed, type NodeKey } from '../../src/identity/node-key.js'
import type { Store } from '../../src/store/store.js'

/** A deterministic node key from a small number (tests only). */
export function testKey (n: number): NodeKey {
  const seed = new Uint8Array(32)
  seed.fill(n & 0xff)
  seed[0] = 0xc4
  return nodeKeyFromSeed(seed)
}

/** Inserts this store's self row from a test key. */
export function addSelf (store: Store, n = 1, name = 'self'): NodeKey {
  const key = testKey(n)
  store.nodes.insertSelf(key.nodeId, name)
  return key
}
