/**
 * Regression for the audit finding (../shared/audit/evidence-path/relayed-reacquired.test.ts):
 * a relayed target's gate passed a file that was never in any snapshot pushed anywhere (it was
 * missing during the push, then returned with its old origin run). DESIGN invariants 19 and 20
 * and "What a component claims" ("Re-entry is a new origin — locally"; the relay chain).
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { gateFile } from '../../src/offload/gate.js'
import { loadGatePolicy } from '../../src/offload/gate-policy.js'
import { sealAssertion } from '../../src/protocol/envelope.js'
import type { AssertedComponent, Assertion } from '../../src/protocol/messages.js'
import { applyPulledEnvelope } from '../../src/pull/pull.js'
import { directoryKey } from '../../src/store/destinations.js'
import { memoryStore } from '../helpers/store.js'
import { addPeer, addSelf } from '../helpers/nodes.js'

const h = (s: string): Buffer => createHash('sha256').update(s).digest()
/** offsite: nas's directory destination, keyed by its marker (nas owns it, labels it `offsite`). */
const OFFSITE = directoryKey('0f'.repeat(16))

/**
 * An assertion as the current wire types want it, built from the fields this test cares about:
 * adds empty `exceptions` / `tombstones` (protocol 2.0.0, being written) and keeps `freshness`
 * (1.0.0), so the test builds the same statement against either encoder.
 */
type LooseAssertion = Omit<Assertion, 'components' | 'freshness' | 'tombstones'> & { components: Array<Omit<AssertedComponent, 'exceptions'>>, freshness?: unknown[] }
function wire (a: LooseAssertion): Assertion {
  return { tombstones: [], freshness: [], ...a, components: a.components.map(c => ({ exceptions: [], ...c })) } as unknown as Assertion
}

function fixture () {
  const { store, clock } = memoryStore()
  const self = addSelf(store, 1, 'laptop')
  const selfRow = store.nodes.self().id
  const nas = addPeer(store, 2, 'nas')
  const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas'], offloadRequires: ['nas/offsite'], offloadMaxEvidenceAgeMs: undefined }
  const config: Config = { file: 'cairn.toml', name: 'laptop', listen: [], serve: { pullEveryMs: 600000 }, volumes: new Map([['photos', volume]]), destinations: new Map() }
  const vol = store.volumes.ensure('photos', '/data/photos').id
  const idx = (files: Array<[string, string]>): number => {
    const r = store.runs.begin({ kind: 'index', volumeId: vol }).id
    store.files.recordObserved(vol, r, files.map(([p, c]) => ({ path: p, hash: h(c), size: c.length, mtimeNs: 1, originNodeId: selfRow, originRunId: r })))
    store.files.markUnseenMissing(vol, r, [], new Set())
    store.runs.finish(r, 'success')
    return r
  }
  const run1 = idx([['2019/a.jpg', 'AAA'], ['2019/c.jpg', 'CCC']])
  idx([['2019/c.jpg', 'CCC']]) // a.jpg unmounted/moved away: missing
  // push to nas: the snapshot taken before the transfer holds only c.jpg
  const push = store.runs.begin({ kind: 'push', volumeId: vol, destination: nas.nodeId, peerNodeId: nas.rowId }).id
  const snap = store.files.snapshot(vol)
  expect(snap.files.map(f => f.path)).toEqual(['2019/c.jpg'])
  // what the push records when nas's receipt arrives: per path, the version nas accepted
  for (const f of snap.files) store.placements.record(nas.nodeId, vol, f.path, { contentId: f.contentId, size: f.size, mtimeNs: f.mtimeNs, verifyMethod: 'peer-sha256', runId: push, originNodeId: f.originNodeId, originRunId: f.originRunId })
  store.runs.finish(push, 'success')
  // nas received exactly that snapshot (c.jpg, origin laptop run 1) and re-hashed it
  clock.advanceNs(1e9)
  const custodyAt = clock.nowNs()
  // nas pushes its copy (c.jpg only) to its directory destination offsite. Its honest assertion
  // carries its whole set: its custody and its claim about offsite (computed after the custody)
  clock.advanceNs(1e9)
  const env = sealAssertion(nas, wire({
    signer: nas.nodeId, volume: 'photos', epoch: 'e0e0e0e0e0e0e0e0', counter: 11, issuedAtNs: clock.nowNs(), receiptFor: null,
    components: [
      { destination: nas.nodeId, originNode: self.nodeId, originRun: run1, verifyMethod: 'peer-sha256', verifiedAtNs: custodyAt },
      { destination: OFFSITE, owner: nas.nodeId, label: 'offsite', originNode: self.nodeId, originRun: run1, verifyMethod: 'sha256-readback', verifiedAtNs: clock.nowNs() - 1 }
    ]
  }))
  const pull = store.runs.begin({ kind: 'pull', volumeId: vol, peerNodeId: nas.rowId, detail: { allow_rewind: 0 } }).id
  applyPulledEnvelope({ store, config, volume, volumeId: vol, peer: store.nodes.byRowId(nas.rowId)!, envelope: env, runId: pull, allowRewind: false })
  store.runs.finish(pull, 'success')
  // both claims are kept: nas's custody, and its claim about the directory it owns
  expect(store.destinations.byKey(OFFSITE)).toMatchObject({ ownerRowId: nas.rowId, label: 'offsite' })
  expect(store.vector.list(vol).map(c => c.destination).sort()).toEqual([nas.nodeId, OFFSITE].sort())
  // a.jpg comes back (same bytes)
  idx([['2019/a.jpg', 'AAA'], ['2019/c.jpg', 'CCC']])
  const refusingTargets = (requires: string[], path: string): string[] => {
    const policy = loadGatePolicy(store, config, { ...volume, offloadRequires: requires }, clock.nowNs())
    const row = [...store.files.iterateGateRows(vol)].find(r => r.path === path)!
    return gateFile(policy, row).map(r => r.target.name)
  }
  return { refusingTargets }
}

describe('audit: a file away during the only push is not covered when it comes back', () => {
  it('refuses a file that was missing during the only push, even after it comes back, for a target only a peer reaches', () => {
    const f = fixture()
    // neither nas nor offsite ever received a.jpg: offload must not delete it on offsite's word
    expect(f.refusingTargets(['nas/offsite'], '2019/a.jpg')).toContain('nas/offsite')
  })

  it('refuses that file for both nas and the directory only nas reaches when both are required', () => {
    const f = fixture()
    const refusing = f.refusingTargets(['nas', 'nas/offsite'], '2019/a.jpg')
    expect(refusing).toContain('nas')
    expect(refusing).toContain('nas/offsite')
  })

  it('still passes a file that was in the pushed snapshot, which nas holds and pushed to offsite (the gate opens for what is truly durable)', () => {
    const f = fixture()
    expect(f.refusingTargets(['nas/offsite'], '2019/c.jpg')).toEqual([])
  })
})
