/**
 * The receiver's conflict records (src/store/conflicts.ts): per pusher, replaced whole at every
 * completed receive, first sighting kept; a revoked pusher's are not live.
 */
import { describe, expect, it } from 'vitest'
import { testKey } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'

describe('receive conflicts', () => {
  it('replaces a pusher\'s set whole, keeps first sightings, leaves other pushers alone and hides a revoked pusher\'s', () => {
    const { store, clock } = memoryStore()
    const vol = store.volumes.ensure('photos', '/p')
    const a = store.nodes.enrollPeer(testKey(1).nodeId, 'a', [])
    const b = store.nodes.enrollPeer(testKey(2).nodeId, 'b', [])
    const run = (peer: number): number => { const r = store.runs.begin({ kind: 'receive', volumeId: vol.id, peerNodeId: peer }); store.runs.finish(r.id, 'success', {}); return r.id }
    const k = (path: string, origin: number) => ({ path, hash: Buffer.alloc(32, 3), originNodeId: origin, originRunId: 4, kind: 'diverged' as const, localFileId: null })
    const r1 = run(a.id)
    store.conflicts.replaceFromPusher(vol.id, a.id, r1, [k('x', a.id), k('y', a.id)])
    store.conflicts.replaceFromPusher(vol.id, b.id, run(b.id), [k('x', b.id)])
    clock.advanceNs(1000)
    const r2 = run(a.id)
    store.conflicts.replaceFromPusher(vol.id, a.id, r2, [k('y', a.id)])
    const live = store.conflicts.forVolume(vol.id)
    expect(live.map(c => [c.path, c.pusherNodeId, c.lastRunId])).toEqual([['x', b.id, r1 + 1], ['y', a.id, r2]])
    expect(live[1]).toMatchObject({ firstRunId: r1 })
    expect(live[1]!.lastSeenNs - live[1]!.firstSeenNs).toBeGreaterThanOrEqual(1000)
    store.nodes.markRevoked(b.id)
    expect(store.conflicts.forVolume(vol.id).map(c => c.path)).toEqual(['y'])
  })
})
