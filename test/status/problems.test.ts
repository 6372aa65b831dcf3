import { describe, expect, it } from 'vitest'
import { NS_PER_SECOND } from '../../src/clock.js'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { nodeStatus } from '../../src/status.js'
import { peerGraceNs, UNREACHABLE_PULL_INTERVALS } from '../../src/status-problems.js'
import { formatInstant } from '../../src/age.js'
import { addPeer, addSelf } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'

const PULL_EVERY_MS = 600_000

function fixture (volume: Partial<VolumeConfig> = {}) {
  const t = memoryStore()
  addSelf(t.store, 1, 'laptop')
  const nas = addPeer(t.store, 2, 'nas')
  const photos: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas'], offloadRequires: ['nas'], offloadMaxEvidenceAgeMs: undefined, ...volume }
  const config: Config = { file: 'cairn.toml', name: 'laptop', listen: [], serve: { pullEveryMs: PULL_EVERY_MS }, volumes: new Map([['photos', photos]]), destinations: new Map() }
  const vol = t.store.volumes.ensure('photos', photos.path)
  const run = (kind: 'push' | 'pull' | 'index' | 'receive', status: 'success' | 'failed' | 'refused' | 'aborted', extra: { destination?: string, peer?: boolean, volume?: boolean } = {}): number => {
    const r = t.store.runs.begin({ kind, volumeId: extra.volume === false ? null : vol.id, destination: extra.destination ?? null, peerNodeId: extra.peer === true ? nas.rowId : null })
    t.store.runs.finish(r.id, status, status === 'success' ? {} : { error: `${kind} went wrong` })
    return r.id
  }
  const status = () => nodeStatus(t.store, config, t.clock.nowNs())
  return { ...t, nas, vol, run, status }
}

describe('status exits 1 only for what an operator must act on', () => {
  it('a failed push to a peer is a problem once the stream has had no success for the grace span, until a push succeeds; an aborted one changes nothing', () => {
    const f = fixture()
    f.run('push', 'success', { destination: f.nas.nodeId, peer: true })
    f.clock.advanceNs(60 * NS_PER_SECOND)
    const failed = f.run('push', 'failed', { destination: f.nas.nodeId, peer: true })
    // nas rebooting: not a problem yet
    expect(f.status().ok).toBe(true)
    f.clock.advanceNs(peerGraceNs(PULL_EVERY_MS))
    let s = f.status()
    expect(s.ok).toBe(false)
    expect(s.problems).toEqual([`photos: the last push to nas failed at ${formatInstant(f.clock.nowNs() - peerGraceNs(PULL_EVERY_MS))} (run ${failed}): push went wrong`])
    f.run('push', 'aborted', { destination: f.nas.nodeId, peer: true })
    expect(f.status().ok).toBe(false)
    f.run('push', 'success', { destination: f.nas.nodeId, peer: true })
    s = f.status()
    expect(s.problems).toEqual([])
    expect(s.ok).toBe(true)
  })

  it('a refused receive (a push this node refused) is a problem on the receiving node', () => {
    const f = fixture()
    const id = f.run('receive', 'refused', { peer: true })
    expect(f.status().problems).toEqual([`photos: the last receive from nas was refused at ${formatInstant(f.clock.nowNs())} (run ${id}): receive went wrong`])
  })

  it('a peer whose pulls fail is a problem only after UNREACHABLE_PULL_INTERVALS pull intervals without contact', () => {
    const f = fixture({ pushTo: [], offloadRequires: [] })
    f.run('pull', 'success', { peer: true })
    f.run('pull', 'failed', { peer: true })
    expect(f.status().ok).toBe(true)
    f.clock.advanceNs((UNREACHABLE_PULL_INTERVALS * PULL_EVERY_MS - 1000) * 1e6)
    f.run('pull', 'failed', { peer: true })
    expect(f.status().ok).toBe(true)
    f.clock.advanceNs(2 * NS_PER_SECOND)
    let s = f.status()
    expect(s.ok).toBe(false)
    expect(s.peers[0]?.problem).toMatch(/^nas is unreachable \(no contact since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; no pull from it succeeded since \S+Z, more than 3 pull intervals\): pull went wrong$/)
    expect(s.problems).toEqual([`peer nas: ${s.peers[0]?.problem ?? ''}`])
    // a live connection is contact, but pulls that keep failing still need the operator
    f.store.nodes.recordSeen(f.nas.nodeId, f.clock.nowNs())
    s = f.status()
    expect(s.peers[0]).toMatchObject({ last_seen_ns: f.clock.nowNs(), last_contact_ns: f.clock.nowNs() })
    expect(s.peers[0]?.problem).toMatch(/^pulls from nas keep failing although it is online/)
    f.run('pull', 'success', { peer: true })
    expect(f.status().ok).toBe(true)
  })

  it('a refused pull is a problem at once', () => {
    const f = fixture({ pushTo: [], offloadRequires: [] })
    f.run('pull', 'refused', { peer: true })
    expect(f.status().peers[0]?.problem).toBe('the last pull from nas was refused: pull went wrong')
    expect(f.status().ok).toBe(false)
  })
})
