/**
 * The naming-collision reproductions of ../shared/audit/evidence-path/naming-collisions.test.ts,
 * inverted (DESIGN "Destination identity", invariants 23 and 28): a destination is its key,
 * a name never falls back to another meaning, and no node's claim lands in another's row.
 * Plus hostile peers that assert destinations labelled, or keyed, like ours.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { gateFile } from '../../src/offload/gate.js'
import { loadGatePolicy, placementKeys } from '../../src/offload/gate-policy.js'
import { sealAssertion } from '../../src/protocol/envelope.js'
import type { AssertedComponent } from '../../src/protocol/messages.js'
import { applyPulledEnvelope } from '../../src/pull/pull.js'
import { revokeSource } from '../../src/store/revocation.js'
import type { VerifyMethod } from '../../src/verify-method.js'
import { addPeer, addSelf } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'

const h = (s: string): Buffer => createHash('sha256').update(s).digest()
const DAY = 86_400e9
const LAPTOP_USB = 'a'.repeat(32)
const NAS_USB = 'b'.repeat(32)
const NAS_OFFSITE = 'c'.repeat(32)

function fixture (volume: VolumeConfig, dirs: string[] = []) {
  const t = memoryStore()
  const { store, clock } = t
  const self = addSelf(store, 1, 'laptop')
  const selfRow = store.nodes.self().id
  const nas = addPeer(store, 2, 'nas')
  const friend = addPeer(store, 3, 'friend')
  const config: Config = {
    file: 'cairn.toml', name: 'laptop', listen: [], serve: { pullEveryMs: 600000 }, volumes: new Map([['photos', volume]]),
    destinations: new Map(dirs.map(d => [d, { name: d, type: 'directory' as const, path: `/mnt/${d}` }]))
  }
  const vol = store.volumes.ensure('photos', volume.path).id
  const index = (files: Array<[string, string]>): number => {
    const r = store.runs.begin({ kind: 'index', volumeId: vol }).id
    store.files.recordObserved(vol, r, files.map(([p, c]) => ({ path: p, hash: h(c), size: c.length, mtimeNs: 1, originNodeId: selfRow, originRunId: r })))
    store.runs.finish(r, 'success')
    return r
  }
  /** This node placed (and read back) every present file at its own directory `name`. */
  const placeLocal = (name: string, marker: string, method: VerifyMethod): string => {
    const key = store.destinations.recordLocal(selfRow, name, marker).key
    const r = store.runs.begin({ kind: 'push', volumeId: vol, destination: name }).id
    for (const f of store.files.listLive(vol)) {
      store.placements.record(key, vol, f.path, { contentId: f.contentId, size: 3, mtimeNs: 1, verifyMethod: method, runId: r, originNodeId: f.originNodeId, originRunId: f.originRunId })
    }
    store.runs.finish(r, 'success')
    return key
  }
  let seq = 100
  const pull = (peer: typeof nas, components: Array<Partial<AssertedComponent> & { destination: string, run: number }>) => {
    clock.advanceNs(1e9)
    const env = sealAssertion(peer, {
      signer: peer.nodeId, volume: 'photos', epoch: 'e0e0e0e0e0e0e0e0', counter: seq++, issuedAtNs: clock.nowNs(), receiptFor: null, tombstones: [],
      components: components.map(c => ({ originNode: self.nodeId, originRun: c.run, verifyMethod: c.verifyMethod ?? 'sha256-readback', verifiedAtNs: c.verifiedAtNs ?? clock.nowNs() - 1, exceptions: [], destination: c.destination, ...(c.label === undefined ? {} : { label: c.label }), ...(c.owner === undefined ? {} : { owner: c.owner }) }))
    })
    const r = store.runs.begin({ kind: 'pull', volumeId: vol, peerNodeId: peer.rowId, detail: { allow_rewind: 0 } }).id
    const out = applyPulledEnvelope({ store, config, volume, volumeId: vol, peer: store.nodes.byRowId(peer.rowId)!, envelope: env, runId: r, allowRewind: false })
    store.runs.finish(r, 'success')
    return out
  }
  const gate = (path: string): Array<[string, string]> => {
    const policy = loadGatePolicy(store, config, volume, clock.nowNs())
    const f = [...store.files.iterateGateRows(vol, placementKeys(policy))].find(x => x.path === path)!
    return gateFile(policy, f).map(r => [r.target.name, r.cause])
  }
  return { ...t, self, selfRow, nas, friend, config, vol, index, placeLocal, pull, gate }
}

describe('destination identity on the evidence path', () => {
  it('keeps a revoked peer\'s name meaning that peer: another peer\'s directory labelled "nas" never satisfies the requirement "nas"', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['friend'], offloadRequires: ['friend', 'nas'], offloadMaxEvidenceAgeMs: undefined }
    const f = fixture(volume)
    const run1 = f.index([['2019/a.jpg', 'AAA']])
    f.pull(f.nas, [{ destination: f.nas.nodeId, run: run1, verifyMethod: 'peer-sha256' }])
    // friend has a directory it labels "nas" (a share of something else)
    const friendsNas = { destination: `dir:${'d'.repeat(32)}`, label: 'nas', owner: f.friend.nodeId, run: run1 }
    expect(f.pull(f.friend, [friendsNas]).dropped).toBe(1)
    revokeSource(f.store, f.nas.rowId)
    expect(f.gate('2019/a.jpg')).toContainEqual(['nas', 'target-revoked'])
    const after = f.pull(f.friend, [friendsNas])
    expect(after.dropped).toBe(1)
    expect(f.gate('2019/a.jpg')).toContainEqual(['nas', 'target-revoked'])
  })

  it('never lets a peer\'s claim about its own directory labelled "usb" touch this node\'s "usb" evidence', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['usb'], offloadRequires: ['usb'], offloadMaxEvidenceAgeMs: 30 * 86_400_000 }
    const f = fixture(volume, ['usb'])
    f.index([['2019/a.jpg', 'AAA']])
    const key = f.placeLocal('usb', LAPTOP_USB, 'presence+size')
    expect(f.gate('2019/a.jpg')).toEqual([['usb', 'not-content-verified']])
    const before = f.store.placements.one(key, f.vol, '2019/a.jpg')
    // nas's own, physically different usb: its key is its own marker, not ours
    const r = f.pull(f.nas, [{ destination: `dir:${NAS_USB}`, label: 'usb', owner: f.nas.nodeId, run: 1000 }])
    expect(r.dropped).toBe(1)
    expect(f.store.placements.one(key, f.vol, '2019/a.jpg')).toEqual(before)
    expect(f.store.vector.list(f.vol).filter(c => c.sourceNodeId === f.nas.rowId)).toEqual([])
    expect(f.gate('2019/a.jpg')).toEqual([['usb', 'not-content-verified']])
  })

  it('keeps this node\'s stale usb evidence stale whatever a peer claims, and revoking that peer leaves it in place', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['usb'], offloadRequires: ['usb'], offloadMaxEvidenceAgeMs: 30 * 86_400_000 }
    const f = fixture(volume, ['usb'])
    f.index([['2019/a.jpg', 'AAA']])
    const key = f.placeLocal('usb', LAPTOP_USB, 'sha256-readback')
    f.clock.advanceNs(40 * DAY)
    expect(f.gate('2019/a.jpg')).toEqual([['usb', 'evidence-stale']])
    f.pull(f.nas, [{ destination: `dir:${NAS_USB}`, label: 'usb', owner: f.nas.nodeId, run: 2000 }])
    expect(f.gate('2019/a.jpg')).toEqual([['usb', 'evidence-stale']])
    revokeSource(f.store, f.nas.rowId)
    expect(f.store.placements.one(key, f.vol, '2019/a.jpg')).toBeDefined()
  })

  it('drops a claim about this node\'s own directory key, whoever the claim names as owner, and records nothing', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['usb', 'nas'], offloadRequires: ['usb', 'nas/usb'], offloadMaxEvidenceAgeMs: undefined }
    const f = fixture(volume, ['usb'])
    f.index([['2019/a.jpg', 'AAA']])
    const key = f.placeLocal('usb', LAPTOP_USB, 'presence+size')
    const owned = f.pull(f.nas, [{ destination: key, label: 'usb', owner: f.nas.nodeId, run: 1000 }])
    const forged = f.pull(f.nas, [{ destination: key, label: 'usb', owner: f.self.nodeId, run: 1000 }])
    expect(owned.drops.map(d => d.kind)).toEqual(['own-destination'])
    expect(forged.drops.map(d => d.kind)).toEqual(['third-party'])
    expect(f.store.destinations.byKey(key)?.ownerRowId).toBe(f.selfRow)
    expect(f.store.vector.list(f.vol).filter(c => c.sourceNodeId !== null)).toEqual([])
    expect(f.gate('2019/a.jpg')).toContainEqual(['usb', 'not-content-verified'])
  })

  it('keys a peer\'s directory by the first node seen owning its marker: a second peer claiming that marker is dropped as third-party', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas', 'friend'], offloadRequires: ['nas/offsite', 'friend/offsite'], offloadMaxEvidenceAgeMs: undefined }
    const f = fixture(volume)
    const run1 = f.index([['2019/a.jpg', 'AAA']])
    const offsite = `dir:${NAS_OFFSITE}`
    expect(f.pull(f.nas, [{ destination: offsite, label: 'offsite', owner: f.nas.nodeId, run: run1 }]).dropped).toBe(0)
    // friend copies nas's marker id into its own assertion: one physical copy may not count twice
    const r = f.pull(f.friend, [{ destination: offsite, label: 'offsite', owner: f.friend.nodeId, run: run1 + 5 }])
    expect(r.drops.map(d => d.kind)).toEqual(['third-party'])
    const rows = f.store.vector.list(f.vol).filter(c => c.destination === offsite)
    expect(rows.map(c => c.sourceNodeId)).toEqual([f.nas.rowId])
    expect(rows[0]?.originRunId).toBe(run1)
  })

  it('drops a directory claim whose owner is not the signer (a peer speaking for another node\'s directory)', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas', 'friend'], offloadRequires: ['nas/offsite'], offloadMaxEvidenceAgeMs: undefined }
    const f = fixture(volume)
    const run1 = f.index([['2019/a.jpg', 'AAA']])
    const r = f.pull(f.friend, [{ destination: `dir:${NAS_OFFSITE}`, label: 'offsite', owner: f.nas.nodeId, run: run1 }])
    expect(r.drops.map(d => d.kind)).toEqual(['third-party'])
    expect(f.store.destinations.byKey(`dir:${NAS_OFFSITE}`)).toBeUndefined()
    expect(f.store.vector.list(f.vol)).toEqual([])
  })

  it('resolves PEER/NAME to the marker that peer asserts under NAME now: after it re-creates the directory, the old marker\'s claim no longer counts', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas'], offloadRequires: ['nas/offsite'], offloadMaxEvidenceAgeMs: undefined }
    const f = fixture(volume)
    const run1 = f.index([['2019/a.jpg', 'AAA']])
    f.pull(f.nas, [{ destination: `dir:${NAS_OFFSITE}`, label: 'offsite', owner: f.nas.nodeId, run: run1 }])
    const first = loadGatePolicy(f.store, f.config, volume, f.clock.nowNs()).targets[0]
    expect(first?.key).toBe(`dir:${NAS_OFFSITE}`)
    // nas reset offsite: a new marker under the same label; its whole set no longer carries the old one
    const fresh = `dir:${'e'.repeat(32)}`
    f.pull(f.nas, [{ destination: fresh, label: 'offsite', owner: f.nas.nodeId, run: run1 }])
    const target = loadGatePolicy(f.store, f.config, volume, f.clock.nowNs()).targets[0]
    expect(target?.key).toBe(fresh)
    expect(f.store.vector.list(f.vol).filter(c => c.destination === `dir:${NAS_OFFSITE}`)).toEqual([])
  })
})
