/**
 * Review of issue 16, priority 3: who knocked. pending_peers holds MAX_PENDING_PEERS rows and
 * evicts the least recently seen; node ids cost nothing, so one host that knocks with fresh
 * keys (KNOCK_WRITES_PER_SECOND rows a second) empties `cairn peer pending` of the node the
 * operator is trying to pair within seconds.
 */
import { describe, expect, it } from 'vitest'
import { NS_PER_MS } from '../../src/clock.js'
import { generateSeed, nodeKeyFromSeed } from '../../src/identity/node-key.js'
import { KNOCK_WRITE_INTERVAL_MS, knockRecorder } from '../../src/p2p/knocks.js'
import { silentLogger } from '../../src/logger.js'
import { MAX_PENDING_PEERS } from '../../src/store/pending-peers.js'
import { testKey } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'

describe('peer pending under a knock flood', () => {
  it('keeps the knock of a node at one address when another address knocks with MAX_PENDING_PEERS fresh node ids', () => {
    const { store, clock } = memoryStore()
    const knocks = knockRecorder(store.pendingPeers, clock, silentLogger)
    const newLaptop = testKey(7).nodeId
    knocks.knocked(newLaptop, '/ip4/192.168.1.20/tcp/51234')
    clock.advanceNs(KNOCK_WRITE_INTERVAL_MS * NS_PER_MS)
    // one machine on the LAN, a fresh key per connection, 10 a second for 20 s
    for (let i = 0; i < 2 * MAX_PENDING_PEERS; i++) {
      clock.advanceNs(100 * NS_PER_MS)
      knocks.knocked(nodeKeyFromSeed(generateSeed()).nodeId, `/ip4/192.168.1.66/tcp/${40000 + i}`)
    }
    expect(store.pendingPeers.get(newLaptop)).toBeDefined()
  })
})
