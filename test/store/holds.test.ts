import { describe, expect, it } from 'vitest'
import { addPeer, addSelf } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'

const MIN = 60e9

function setup (): { s: ReturnType<typeof memoryStore>, vol: number, nas: number, desk: number, file: (p: string, c: string) => { path: string, hash: Buffer }, offloadRun: () => number } {
  const s = memoryStore()
  addSelf(s.store, 1, 'laptop')
  const nas = addPeer(s.store, 2, 'nas').rowId
  const desk = addPeer(s.store, 3, 'desk').rowId
  const vol = s.store.volumes.ensure('photos', '/photos').id
  const run = s.store.runs.begin({ kind: 'index', volumeId: vol }).id
  const selfRow = s.store.nodes.self().id
  const contents: Array<[string, string]> = [['a.jpg', 'alpha'], ['b.jpg', 'beta'], ['c.jpg', 'gamma']]
  s.store.files.recordObserved(vol, run, contents.map(([p, c]) => ({ path: p, hash: sha256(c), size: c.length, mtimeNs: 1, originNodeId: selfRow, originRunId: run })))
  s.store.runs.finish(run, 'success')
  return {
    s,
    vol,
    nas,
    desk,
    file: (p, c) => ({ path: p, hash: sha256(c) }),
    offloadRun: () => s.store.runs.begin({ kind: 'offload', volumeId: vol }).id
  }
}

const count = (t: ReturnType<typeof setup>): number => t.s.store.db.prepare('SELECT count(*) FROM holds').pluck().get() as number

describe('HoldStore', () => {
  it('grants a hold on present files with that hash and refuses a file whose content differs or is absent, recording only the granted', () => {
    const t = setup()
    const now = t.s.clock.nowNs()
    const r = t.s.store.holds.grant(t.vol, t.nas, [t.file('a.jpg', 'alpha'), t.file('b.jpg', 'not beta'), t.file('z.jpg', 'zeta')], now + MIN)
    expect(r.granted.map(f => f.path)).toEqual(['a.jpg'])
    expect(r.refused.map(x => [x.file.path, x.reason])).toEqual([['b.jpg', 'not-present'], ['z.jpg', 'not-present']])
    expect(count(t)).toBe(1)
    expect([...t.s.store.holds.liveGrantedPaths(t.vol, now).keys()]).toEqual(['a.jpg'])
  })

  it('refuses a hold on a file this node is offloading, and refuses an intent on a file it holds for a peer: the two are never both live', () => {
    const t = setup()
    const now = t.s.clock.nowNs()
    const run = t.offloadRun()
    const intents = t.s.store.holds.beginIntents(t.vol, run, [t.file('a.jpg', 'alpha')], now + MIN)
    expect(intents.intended.map(f => f.path)).toEqual(['a.jpg'])
    const g = t.s.store.holds.grant(t.vol, t.nas, [t.file('a.jpg', 'alpha'), t.file('b.jpg', 'beta')], now + MIN)
    expect(g.refused).toEqual([{ file: t.file('a.jpg', 'alpha'), reason: 'offloading' }])
    expect(g.granted.map(f => f.path)).toEqual(['b.jpg'])
    const second = t.s.store.holds.beginIntents(t.vol, run, [t.file('b.jpg', 'beta'), t.file('c.jpg', 'gamma')], now + MIN)
    expect(second.heldForPeer).toEqual([expect.objectContaining({ path: 'b.jpg', peerNodeId: t.nas, expiresAtNs: now + MIN })])
    expect(second.intended.map(f => f.path)).toEqual(['c.jpg'])
    expect([...t.s.store.holds.liveIntentPaths(t.vol, now)].sort()).toEqual(['a.jpg', 'c.jpg'])
  })

  it('an intent on a path refuses a hold whatever the hash, and a granted hold refuses an intent whatever the hash', () => {
    const t = setup()
    const now = t.s.clock.nowNs()
    t.s.store.holds.grant(t.vol, t.nas, [t.file('a.jpg', 'alpha')], now + MIN)
    expect(t.s.store.holds.beginIntents(t.vol, t.offloadRun(), [t.file('a.jpg', 'other bytes')], now + MIN).heldForPeer).toHaveLength(1)
  })

  it('expiry is decided by the injected clock: an expired hold or intent no longer refuses anything', () => {
    const t = setup()
    const now = t.s.clock.nowNs()
    t.s.store.holds.grant(t.vol, t.nas, [t.file('a.jpg', 'alpha')], now + MIN)
    const run = t.offloadRun()
    t.s.store.holds.beginIntents(t.vol, run, [t.file('b.jpg', 'beta')], now + MIN)
    t.s.clock.advanceNs(MIN)
    expect(t.s.store.holds.liveGrantedPaths(t.vol, t.s.clock.nowNs()).size).toBe(0)
    expect(t.s.store.holds.beginIntents(t.vol, run, [t.file('a.jpg', 'alpha')], t.s.clock.nowNs() + MIN).intended).toHaveLength(1)
    expect(t.s.store.holds.grant(t.vol, t.desk, [t.file('b.jpg', 'beta')], t.s.clock.nowNs() + MIN).granted).toHaveLength(1)
  })

  it('releasing a run ends its intents and the holds it took, and leaves other runs\' rows live', () => {
    const t = setup()
    const now = t.s.clock.nowNs()
    const mine = t.offloadRun()
    t.s.store.holds.beginIntents(t.vol, mine, [t.file('a.jpg', 'alpha')], now + MIN)
    t.s.store.holds.recordTaken(t.vol, t.nas, mine, [t.file('a.jpg', 'alpha')], now + MIN)
    t.s.store.holds.grant(t.vol, t.desk, [t.file('b.jpg', 'beta')], now + MIN)
    expect(t.s.store.holds.releaseIntents(mine)).toBe(1)
    expect(t.s.store.holds.liveIntentPaths(t.vol, now).size).toBe(0)
    expect(t.s.store.holds.release(mine)).toBe(1) // the taken row
    expect(t.s.store.holds.liveGrantedPaths(t.vol, now).get('b.jpg')).toEqual([expect.objectContaining({ peerNodeId: t.desk })])
    // a released intent refuses no hold
    expect(t.s.store.holds.grant(t.vol, t.nas, [t.file('a.jpg', 'alpha')], now + MIN).granted).toHaveLength(1)
  })

  it('renews only intents that are still live', () => {
    const t = setup()
    const now = t.s.clock.nowNs()
    const run = t.offloadRun()
    t.s.store.holds.beginIntents(t.vol, run, [t.file('a.jpg', 'alpha')], now + MIN)
    expect(t.s.store.holds.extendIntents(run, now + 2 * MIN)).toBe(1)
    t.s.clock.advanceNs(3 * MIN)
    expect(t.s.store.holds.extendIntents(run, t.s.clock.nowNs() + MIN)).toBe(0)
  })
})
