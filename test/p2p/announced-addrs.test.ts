/** What an mDNS announcement may make this node dial, and what a learned address does to a peer's list. */
import { describe, expect, it } from 'vitest'
import { generateSeed, nodeKeyFromSeed } from '../../src/identity/node-key.js'
import { dialableAnnouncedAddrs, MAX_ANNOUNCED_ADDRS_DIALLED, normaliseAnnouncedAddr } from '../../src/p2p/announced-addrs.js'
import { memoryStore } from '../helpers/store.js'

const id = nodeKeyFromSeed(generateSeed()).nodeId
const other = nodeKeyFromSeed(generateSeed()).nodeId

describe('announced addresses', () => {
  it('keeps only TCP over an IP literal, with no /p2p/ part or the announced node\'s own', () => {
    expect(normaliseAnnouncedAddr(id, '/ip4/10.0.0.7/tcp/4701')).toBe('/ip4/10.0.0.7/tcp/4701')
    expect(normaliseAnnouncedAddr(id, `/ip4/10.0.0.7/tcp/4701/p2p/${id}`)).toBe('/ip4/10.0.0.7/tcp/4701')
    expect(normaliseAnnouncedAddr(id, '/ip6/fd00::7/tcp/4701')).toBe('/ip6/fd00::7/tcp/4701')
    for (const refused of [
      `/ip4/10.0.0.7/tcp/4701/p2p/${other}`, // another node's address
      '/dns4/evil.example/tcp/4701', // no name resolution on a stranger's word
      '/ip4/10.0.0.7/udp/4701/quic-v1',
      '/ip4/10.0.0.7/tcp/0',
      '/ip4/0.0.0.0/tcp/4701',
      '/ip4/224.0.0.251/tcp/4701',
      '/ip4/10.0.0.7/tcp/4701/ws',
      `/ip4/10.0.0.7/tcp/4701/p2p/${id}/p2p-circuit`,
      '/ip4/10.0.0.7',
      'not a multiaddr',
      `/ip4/10.0.0.7/tcp/4701/${'x'.repeat(300)}`,
      42
    ]) expect(normaliseAnnouncedAddr(id, refused), String(refused)).toBeUndefined()
  })

  it('dials at most a few addresses of an announcement, deduplicated, loopback last', () => {
    const many = Array.from({ length: 200 }, (_, i) => `/ip4/10.0.${Math.floor(i / 250)}.${i % 250}/tcp/4701`)
    expect(dialableAnnouncedAddrs(id, many)).toHaveLength(MAX_ANNOUNCED_ADDRS_DIALLED)
    expect(dialableAnnouncedAddrs(id, ['/ip4/127.0.0.1/tcp/1', '/ip4/10.0.0.7/tcp/2', '/ip4/10.0.0.7/tcp/2', `/ip4/10.0.0.7/tcp/2/p2p/${id}`]))
      .toEqual(['/ip4/10.0.0.7/tcp/2', '/ip4/127.0.0.1/tcp/1'])
  })

  it('looks only at the first addresses of an announcement, however many it carries', () => {
    const junkFirst = [...Array.from({ length: 16 }, () => '/dns4/x/tcp/1'), '/ip4/10.0.0.7/tcp/4701']
    expect(dialableAnnouncedAddrs(id, junkFirst)).toEqual([])
  })
})

describe('promoteReachedAddr', () => {
  const enrolled = (addrs: string[]) => {
    const { store } = memoryStore()
    store.nodes.insertSelf(nodeKeyFromSeed(generateSeed()).nodeId, 'laptop')
    const row = store.nodes.enrollPeer(id, 'nas', addrs)
    return { store, row }
  }

  it('puts the reached address first, keeps every pinned address after it, deduplicated, at most MAX_LAN_ADDRS learned', () => {
    const { store } = enrolled(['/ip4/10.0.0.1/tcp/4701', `/ip4/10.0.0.9/tcp/4701/p2p/${id}`])
    expect(store.nodes.promoteReachedAddr(id, '/ip4/10.0.0.9/tcp/4701', 8)?.addrs).toEqual(['/ip4/10.0.0.9/tcp/4701', '/ip4/10.0.0.1/tcp/4701'])
    expect(store.nodes.byNodeId(id)?.addrs).toEqual(['/ip4/10.0.0.9/tcp/4701', '/ip4/10.0.0.1/tcp/4701'])
    for (let i = 0; i < 20; i++) store.nodes.promoteReachedAddr(id, `/ip4/10.0.1.${i}/tcp/4701`, 8)
    const row = store.nodes.byNodeId(id)
    expect(row?.lanAddrs).toEqual(['/ip4/10.0.1.19/tcp/4701', '/ip4/10.0.1.18/tcp/4701'])
    expect(row?.pinnedAddrs).toEqual(['/ip4/10.0.0.1/tcp/4701', `/ip4/10.0.0.9/tcp/4701/p2p/${id}`])
    expect(row?.addrs).toEqual(['/ip4/10.0.1.19/tcp/4701', '/ip4/10.0.1.18/tcp/4701', '/ip4/10.0.0.1/tcp/4701', `/ip4/10.0.0.9/tcp/4701/p2p/${id}`])
  })

  it('writes nothing when the address is already first', () => {
    const { store } = enrolled(['/ip4/10.0.0.1/tcp/4701'])
    const changes = store.db.prepare('SELECT total_changes() AS n').pluck()
    const before = changes.get()
    expect(store.nodes.promoteReachedAddr(id, '/ip4/10.0.0.1/tcp/4701', 8)).toBeUndefined()
    expect(changes.get()).toBe(before)
  })

  it('writes nothing for a revoked peer, a node known only as an origin, or an unknown node', () => {
    const { store, row } = enrolled(['/ip4/10.0.0.1/tcp/4701'])
    store.nodes.markRevoked(row.id)
    expect(store.nodes.promoteReachedAddr(id, '/ip4/10.0.0.2/tcp/4701', 8)).toBeUndefined()
    expect(store.nodes.byNodeId(id)?.addrs).toEqual(['/ip4/10.0.0.1/tcp/4701'])
    store.nodes.ensureOrigin(other)
    expect(store.nodes.promoteReachedAddr(other, '/ip4/10.0.0.2/tcp/4701', 8)).toBeUndefined()
    expect(store.nodes.byNodeId(other)?.addrs).toEqual([])
    expect(store.nodes.promoteReachedAddr(nodeKeyFromSeed(generateSeed()).nodeId, '/ip4/10.0.0.2/tcp/4701', 8)).toBeUndefined()
  })
})
