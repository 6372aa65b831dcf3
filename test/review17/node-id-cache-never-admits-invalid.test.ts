import { describe, expect, it } from 'vitest'
import { nodeKeyFromSeed } from '../../src/identity/node-key.js'
import { isNodeId, parseNodeId } from '../../src/identity/node-id.js'

describe('node-id parse memo (review17)', () => {
  it('a cached valid id never makes a variant, an invalid id or a mutated key accepted', () => {
    const id = nodeKeyFromSeed(new Uint8Array(32).fill(7)).nodeId
    const first = parseNodeId(id)
    first.publicKey.fill(0) // a caller mutating its copy must not poison the cache
    expect(Buffer.from(parseNodeId(id).publicKey)).toEqual(Buffer.from(nodeKeyFromSeed(new Uint8Array(32).fill(7)).publicKey))
    for (let i = 0; i < 3; i++) {
      expect(isNodeId(id + ' ')).toBe(false)
      expect(isNodeId(' ' + id)).toBe(false)
      expect(isNodeId(id.toLowerCase())).toBe(false)
      expect(isNodeId(id.slice(0, -1))).toBe(false)
      expect(isNodeId('dir:' + id)).toBe(false)
    }
    // past the bound the memo is cleared, validity still holds
    for (let s = 0; s < 4100; s++) isNodeId(`bogus${s}`)
    expect(isNodeId(id)).toBe(true)
  })
})
