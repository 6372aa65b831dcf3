/**
 * Review 13 — revoking a peer takes back everything it asserted (DESIGN invariant 6; AGENTS.md
 * "every piece of evidence says who asserted it and can be taken back"), and an honest peer's
 * claim about its own directory is accepted from it (invariant 28) — here after a hostile peer
 * squatted its marker key.
 *
 * Attack (hostile enrolled peer `friend`, whose own directory `friend/usb` laptop legitimately
 * requires): friend learns the marker id of nas's directory `offsite` (a marker id is no secret:
 * it is in every assertion nas serves to any enrolled peer, and on the disk). Before laptop ever
 * pulls from nas, friend asserts a claim about `dir:<nas's offsite marker>` naming *itself* as
 * owner, label `usb`. Scoping keeps it (friend/usb is required) and `notePeer` records the key
 * under friend — and a registry key "never changes owner" (src/store/destinations.ts, trigger
 * destinations_identity_immutable). nas's honest claims about its own offsite are dropped as
 * `third-party` from then on.
 *
 * The operator notices and revokes friend. Revocation drops friend's live components, but the
 * registry row stays owned by the revoked friend, so every later assertion from nas about its
 * offsite is still dropped as `third-party`: the requirement `nas/offsite` answers
 * `no-evidence` forever. There is no command on laptop that clears it; only nas re-creating
 * its directory (a reset on nas, re-reading every file) gets around it. A revoked peer keeps a
 * lasting veto over another peer's evidence: a gate that never opens.
 *
 * Suggested fix: a directory key whose recorded owner is revoked (or was first seen from a
 * revoked signer) no longer blocks the marker's real owner — e.g. on revoke, mark that peer's
 * registry rows as void (a `void_at_ns` column, not a delete) and let `notePeer` re-own a void
 * row; or key the registry by (owner, marker) and resolve third-party-ness only among live
 * owners.
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
import { addPeer, addSelf } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'

const h = (s: string): Buffer => createHash('sha256').update(s).digest()
const NAS_OFFSITE = `dir:${'c'.repeat(32)}`

describe('a hostile peer squatting another peer\'s marker key', () => {
  it('accepts nas\'s claims about its own offsite again once the peer that squatted its marker is revoked', () => {
    const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas', 'friend'], offloadRequires: ['nas/offsite', 'friend/usb'], offloadMaxEvidenceAgeMs: undefined }
    const { store, clock } = memoryStore()
    const self = addSelf(store, 1, 'laptop')
    const selfRow = store.nodes.self().id
    const nas = addPeer(store, 2, 'nas')
    const friend = addPeer(store, 3, 'friend')
    const config: Config = { file: 'cairn.toml', name: 'laptop', listen: [], serve: { pullEveryMs: 600000 }, volumes: new Map([['photos', volume]]), destinations: new Map() }
    const vol = store.volumes.ensure('photos', volume.path).id
    const r = store.runs.begin({ kind: 'index', volumeId: vol }).id
    store.files.recordObserved(vol, r, [{ path: '2019/a.jpg', hash: h('AAA'), size: 3, mtimeNs: 1, originNodeId: selfRow, originRunId: r }])
    store.runs.finish(r, 'success')
    const run1 = r
    // laptop pushed a.jpg to nas (nas's receipt): laptop's placement at nas
    const f = store.files.listLive(vol)[0]!
    const push = store.runs.begin({ kind: 'push', volumeId: vol, destination: nas.nodeId }).id
    store.placements.record(nas.nodeId, vol, f.path, { contentId: f.contentId, size: 3, mtimeNs: 1, verifyMethod: 'peer-sha256', runId: push, originNodeId: f.originNodeId, originRunId: f.originRunId })
    store.runs.finish(push, 'success')

    let seq = 100
    const pull = (peer: typeof nas, components: Array<Partial<AssertedComponent> & { destination: string }>) => {
      clock.advanceNs(1e9)
      const env = sealAssertion(peer, {
        signer: peer.nodeId, volume: 'photos', epoch: 'e0e0e0e0e0e0e0e0', counter: seq++, issuedAtNs: clock.nowNs(), receiptFor: null, tombstones: [],
        components: components.map(c => ({ originNode: self.nodeId, originRun: run1, verifyMethod: 'sha256-readback', verifiedAtNs: clock.nowNs() - 1, exceptions: [], ...c }))
      })
      const run = store.runs.begin({ kind: 'pull', volumeId: vol, peerNodeId: peer.rowId, detail: { allow_rewind: 0 } }).id
      const out = applyPulledEnvelope({ store, config, volume, volumeId: vol, peer: store.nodes.byRowId(peer.rowId)!, envelope: env, runId: run, allowRewind: false })
      store.runs.finish(run, 'success')
      return out
    }
    const gate = (): Array<[string, string]> => {
      const policy = loadGatePolicy(store, config, volume, clock.nowNs())
      const row = [...store.files.iterateGateRows(vol, placementKeys(policy))].find(x => x.path === '2019/a.jpg')!
      return gateFile(policy, row).map(x => [x.target.name, x.cause])
    }
    const nasHonest = [
      { destination: nas.nodeId, verifyMethod: 'peer-sha256' as const },
      { destination: NAS_OFFSITE, label: 'offsite', owner: nas.nodeId }
    ]

    // friend squats nas's marker key under its own name, before laptop first hears from nas
    expect(pull(friend, [{ destination: NAS_OFFSITE, label: 'usb', owner: friend.nodeId }]).dropped).toBe(0)
    expect(pull(nas, nasHonest).drops.map(d => d.kind)).toEqual(['third-party'])

    // the operator revokes friend: its evidence goes, and nas's honest claim should count again
    revokeSource(store, friend.rowId)
    const after = pull(nas, nasHonest)
    expect(after.drops.map(d => d.kind)).toEqual([])
    expect(gate().filter(([t]) => t === 'nas/offsite')).toEqual([])
  })
})
