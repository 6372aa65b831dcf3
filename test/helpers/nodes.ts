import { nodeKeyFromSeed, type NodeKey } from '../../src/identity/node-key.js'
import type { Store } from '../../src/store/store.js'

const keys = new Map<number, NodeKey>()

/** A deterministic node key from a small number (tests only; cached, keys are immutable). */
export function testKey (n: number): NodeKey {
  let key = keys.get(n)
  if (key === undefined) {
    const seed = new Uint8Array(32)
    seed.fill(n & 0xff)
    seed[0] = 0xc4
    key = nodeKeyFromSeed(seed)
    keys.set(n, key)
  }
  return key
}

/** Inserts this store's self row from a test key. */
export function addSelf (store: Store, n = 1, name = 'self'): NodeKey {
  const key = testKey(n)
  store.nodes.insertSelf(key.nodeId, name)
  return key
}

/** Enrolls test peer n under a name; returns its key and row id. */
export function addPeer (store: Store, n: number, name: string): NodeKey & { rowId: number } {
  const key = testKey(n)
  const row = store.nodes.enrollPeer(key.nodeId, name, ['/ip4/127.0.0.1/tcp/1'])
  return { ...key, rowId: row.id }
}
