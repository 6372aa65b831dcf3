import { describe, expect, it } from 'vitest'
import { directoryKey } from '../../src/store/destinations.js'
import { resetDestination, revokeSource } from '../../src/store/revocation.js'
import { vectorFixture } from '../helpers/vector.js'

// The store keys a directory destination by its marker (DESIGN "Destination identity"); the
// vector itself is agnostic to whose directory a key is, so these are just distinct keys,
// chosen so that they sort cloud < offsite < usb, as the labels they stand for do.
const CLOUD = directoryKey('0c1d'.repeat(8))
const OFFSITE = directoryKey('0ff5'.repeat(8))
const USB = directoryKey('5b00'.repeat(8))
const NAS_DEST = USB

describe('durability vector', () => {
  it('writes one history row per advance: 7 → 20 → 42', () => {
    const f = vectorFixture()
    for (const run of [7, 20, 42]) {
      f.store.vector.advanceLocal(f.photos, NAS_DEST, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: run }], f.pushRun())
      f.store.runs.list().filter(r => r.status === 'running').forEach(r => f.store.runs.finish(r.id, 'success'))
    }
    expect(f.store.vector.get(f.photos, NAS_DEST, f.self.rowId)?.originRunId).toBe(42)
    expect(f.store.vector.history(f.photos).map(h => h.originRunId)).toEqual([7, 20, 42])
  })

  it('refuses a component that moves backwards and records nothing; the explicit rewind is logged', () => {
    const f = vectorFixture()
    const pull = f.pullRun(f.a.rowId)
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: NAS_DEST, originNodeId: f.self.rowId, originRunId: 40, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: 5, sourceNodeId: f.a.rowId, issuedAtNs: 10, assertionId: null, runId: pull })
    expect(() => f.store.vector.upsertPulled({ volumeId: f.photos, destination: NAS_DEST, originNodeId: f.self.rowId, originRunId: 30, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: 5, sourceNodeId: f.a.rowId, issuedAtNs: 10, assertionId: null, runId: pull }))
      .toThrow(expect.objectContaining({ name: 'VectorRewindError', volume: 'photos', destination: NAS_DEST, origin: 'laptop', current: 40, attempted: 30 }))
    expect(f.store.vector.get(f.photos, NAS_DEST, f.self.rowId)?.originRunId).toBe(40)
    expect(f.historyCount()).toBe(1)

    const rewindRun = f.store.runs.begin({ kind: 'rewind', volumeId: f.photos, destination: NAS_DEST })
    expect(f.store.vector.rewind(f.photos, NAS_DEST, f.self.rowId, 3, rewindRun.id)).toEqual({ from: 40, to: 3 })
    const live = f.store.vector.get(f.photos, NAS_DEST, f.self.rowId)
    expect(live).toMatchObject({ originRunId: 3, sourceNodeId: f.a.rowId, verifyMethod: 'sha256-readback', runId: rewindRun.id })
    expect(f.store.vector.history(f.photos).map(h => [h.originRunId, h.runId])).toEqual([[40, pull], [3, rewindRun.id]])
  })

  it('refuses a lower run in SQL itself, even through a raw UPDATE outside a rewind', () => {
    const f = vectorFixture()
    const push = f.pushRun()
    f.store.vector.advanceLocal(f.photos, NAS_DEST, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 9 }], push)
    expect(() => f.store.db.prepare('UPDATE vector SET origin_run_id = 2').run()).toThrow(/only moves forward/)
    expect(f.store.vector.get(f.photos, NAS_DEST, f.self.rowId)?.originRunId).toBe(9)
  })

  it('keeps components independent per destination and per volume', () => {
    const f = vectorFixture()
    const push = f.pushRun()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 5 }], push)
    f.store.vector.advanceLocal(f.photos, OFFSITE, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 2 }], push)
    f.store.vector.advanceLocal(f.music, USB, 'presence+size', [{ originNodeId: f.self.rowId, originRunId: 11 }], push)
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)).toMatchObject({ originRunId: 5, verifyMethod: 'sha256-readback' })
    expect(f.store.vector.get(f.photos, OFFSITE, f.self.rowId)).toMatchObject({ originRunId: 2 })
    expect(f.store.vector.get(f.music, USB, f.self.rowId)).toMatchObject({ originRunId: 11, verifyMethod: 'presence+size' })
    expect(f.store.vector.get(f.music, OFFSITE, f.self.rowId)).toBeUndefined()
  })

  it('tags a pulled component with its source on the live row and in history, and leaves a local one untagged', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 4 }], f.pushRun())
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: OFFSITE, originNodeId: f.self.rowId, originRunId: 4, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: 100, sourceNodeId: f.a.rowId, issuedAtNs: 200, assertionId: null, runId: f.pullRun(f.a.rowId) })
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)?.sourceNodeId).toBeNull()
    expect(f.store.vector.get(f.photos, OFFSITE, f.self.rowId)?.sourceNodeId).toBe(f.a.rowId)
    const history = f.store.vector.history(f.photos)
    expect(history.find(h => h.destination === USB)?.sourceNodeId).toBeNull()
    expect(history.find(h => h.destination === OFFSITE)?.sourceNodeId).toBe(f.a.rowId)
  })

  it('never lets a peer re-confirming the same run and method take ownership of a local component', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 6 }], f.pushRun())
    const before = f.store.vector.get(f.photos, USB, f.self.rowId)
    f.clock.advanceNs(1e9)
    const d = f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 6, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: f.clock.nowNs(), sourceNodeId: f.a.rowId, issuedAtNs: f.clock.nowNs(), assertionId: null, runId: f.pullRun(f.a.rowId) })
    expect(d.outcome).toBe('unchanged')
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)).toEqual(before)
    expect(f.historyCount()).toBe(1)
  })

  it('lets a peer\'s strict advance take ownership, with its method and instant', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 6 }], f.pushRun())
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 7, verifyMethod: 'presence+size', relayedVerifiedAtNs: 77, sourceNodeId: f.a.rowId, issuedAtNs: f.clock.nowNs(), assertionId: null, runId: f.pullRun(f.a.rowId) })
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)).toMatchObject({ originRunId: 7, verifyMethod: 'presence+size', verifiedAtNs: 77, sourceNodeId: f.a.rowId })
  })

  it('reclaims a peer\'s component when a local write re-confirms the same run and method', () => {
    const f = vectorFixture()
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 6, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: 5, sourceNodeId: f.a.rowId, issuedAtNs: 9, assertionId: null, runId: f.pullRun(f.a.rowId) })
    f.clock.advanceNs(1e9)
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 6 }], f.pushRun())
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)).toMatchObject({ originRunId: 6, sourceNodeId: null, verifiedAtNs: f.clock.nowNs(), assertionId: null })
    expect(f.historyCount()).toBe(2)
  })

  it('keeps the method and instant when a methodless touch arrives at the same run', () => {
    const f = vectorFixture()
    const pull = f.pullRun(f.a.rowId)
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 6, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: 5, sourceNodeId: f.a.rowId, issuedAtNs: 9, assertionId: null, runId: pull })
    const d = f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 6, verifyMethod: null, relayedVerifiedAtNs: 8, sourceNodeId: f.a.rowId, issuedAtNs: 9, assertionId: null, runId: pull })
    expect(d.outcome).toBe('unchanged')
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)).toMatchObject({ verifyMethod: 'peer-sha256', verifiedAtNs: 5 })
    expect(f.historyCount()).toBe(1)
  })

  it('clears the method on a methodless strict advance (the new run is unverified)', () => {
    const f = vectorFixture()
    const pull = f.pullRun(f.a.rowId)
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 6, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: 5, sourceNodeId: f.a.rowId, issuedAtNs: 9, assertionId: null, runId: pull })
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 7, verifyMethod: null, relayedVerifiedAtNs: 8, sourceNodeId: f.a.rowId, issuedAtNs: 9, assertionId: null, runId: pull })
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)).toMatchObject({ originRunId: 7, verifyMethod: null })
  })

  it('caps a relayed verified_at in the future at min(now, issued_at) and stores 0 as NULL', () => {
    const f = vectorFixture()
    const pull = f.pullRun(f.a.rowId)
    const now = f.clock.nowNs()
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 1, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: now + 1e12, sourceNodeId: f.a.rowId, issuedAtNs: now + 5e11, assertionId: null, runId: pull })
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)?.verifiedAtNs).toBe(now)
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: OFFSITE, originNodeId: f.self.rowId, originRunId: 1, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: now - 10, sourceNodeId: f.a.rowId, issuedAtNs: now - 100, assertionId: null, runId: pull })
    expect(f.store.vector.get(f.photos, OFFSITE, f.self.rowId)?.verifiedAtNs).toBe(now - 100)
    f.store.vector.upsertPulled({ volumeId: f.photos, destination: f.a.nodeId, originNodeId: f.self.rowId, originRunId: 1, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: 0, sourceNodeId: f.a.rowId, issuedAtNs: now, assertionId: null, runId: pull })
    expect(f.store.vector.get(f.photos, f.a.nodeId, f.self.rowId)?.verifiedAtNs).toBeNull()
  })

  it('refreshes a peer-owned instant only forward, and only for the owning peer', () => {
    const f = vectorFixture()
    const pullA = f.pullRun(f.a.rowId)
    const base = { volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 3, verifyMethod: 'peer-sha256' as const, issuedAtNs: f.clock.nowNs(), assertionId: null }
    f.store.vector.upsertPulled({ ...base, relayedVerifiedAtNs: 100, sourceNodeId: f.a.rowId, runId: pullA })
    expect(f.store.vector.upsertPulled({ ...base, relayedVerifiedAtNs: 50, sourceNodeId: f.a.rowId, runId: pullA }).outcome).toBe('unchanged')
    expect(f.store.vector.upsertPulled({ ...base, relayedVerifiedAtNs: 900, sourceNodeId: f.b.rowId, runId: f.pullRun(f.b.rowId) }).outcome).toBe('unchanged')
    expect(f.store.vector.upsertPulled({ ...base, relayedVerifiedAtNs: 300, sourceNodeId: f.a.rowId, runId: pullA }).outcome).toBe('applied')
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)).toMatchObject({ verifiedAtNs: 300, sourceNodeId: f.a.rowId })
  })

  it('keeps the higher component when a push advances with a lower snapshot', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 12 }], f.pushRun())
    const r = f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 8 }], f.pushRun('other'))
    expect(r).toEqual({ applied: 0, unchanged: 0, skipped: 1 })
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)?.originRunId).toBe(12)
  })

  it('replaces local push freshness for the destination with exactly the snapshot', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 12 }, { originNodeId: f.a.rowId, originRunId: 3 }], f.pushRun())
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 8 }], f.pushRun('x'))
    expect(f.store.vector.listFreshness(f.photos).map(r => [r.destination, r.originNodeId, r.originRunId, r.sourceNodeId]))
      .toEqual([[USB, f.self.rowId, 8, null]])
  })

  it('revoking peer A drops only A\'s live components and freshness; local, peer B and history stay', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 4 }], f.pushRun())
    const base = { originNodeId: f.self.rowId, originRunId: 4, verifyMethod: 'sha256-readback' as const, relayedVerifiedAtNs: 1, issuedAtNs: 2, assertionId: null }
    f.store.vector.mergePulled({ volumeId: f.photos, sourceNodeId: f.a.rowId, issuedAtNs: 2, assertionId: null, runId: f.pullRun(f.a.rowId), allowRewind: false, components: [{ ...base, destination: OFFSITE }], freshness: [{ destination: OFFSITE, originNodeId: f.self.rowId, originRunId: 4 }] })
    f.store.vector.mergePulled({ volumeId: f.music, sourceNodeId: f.a.rowId, issuedAtNs: 2, assertionId: null, runId: f.store.runs.begin({ kind: 'pull', volumeId: f.music, peerNodeId: f.a.rowId }).id, allowRewind: false, components: [{ ...base, destination: OFFSITE }], freshness: [] })
    f.store.vector.mergePulled({ volumeId: f.photos, sourceNodeId: f.b.rowId, issuedAtNs: 2, assertionId: null, runId: f.pullRun(f.b.rowId), allowRewind: false, components: [{ ...base, destination: CLOUD }], freshness: [{ destination: CLOUD, originNodeId: f.self.rowId, originRunId: 4 }] })
    const historyBefore = f.store.vector.history(f.photos).concat(f.store.vector.history(f.music))

    const result = revokeSource(f.store, f.a.rowId)
    expect(result).toMatchObject({ componentsDropped: 2, freshnessDropped: 1 })
    expect(f.store.vector.list(f.photos).map(c => [c.destination, c.sourceNodeId])).toEqual([[CLOUD, f.b.rowId], [USB, null]])
    expect(f.store.vector.list(f.music)).toEqual([])
    expect(f.store.vector.listFreshness(f.photos).map(r => [r.destination, r.sourceNodeId])).toEqual([[CLOUD, f.b.rowId], [USB, null]])
    expect(f.store.vector.history(f.photos).concat(f.store.vector.history(f.music))).toEqual(historyBefore)
    expect(f.store.nodes.byRowId(f.a.rowId)?.revokedAtNs).not.toBeNull()
    expect(f.store.runs.get(result.runId)).toMatchObject({ kind: 'revoke', status: 'success', detail: { components_dropped: 2, freshness_dropped: 1 } })
  })

  it('refuses any later assertion from a revoked peer and writes nothing', () => {
    const f = vectorFixture()
    const pull = f.pullRun(f.a.rowId)
    revokeSource(f.store, f.a.rowId)
    expect(() => f.store.vector.upsertPulled({ volumeId: f.photos, destination: USB, originNodeId: f.self.rowId, originRunId: 1, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: 1, sourceNodeId: f.a.rowId, issuedAtNs: 1, assertionId: null, runId: pull }))
      .toThrow(expect.objectContaining({ name: 'PeerRevokedError', nodeId: f.a.nodeId }))
    expect(f.store.vector.list(f.photos)).toEqual([])
  })

  it('keeps history insert-only even against raw SQL', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 1 }], f.pushRun())
    expect(() => f.store.db.prepare('UPDATE vector_history SET origin_run_id = 99').run()).toThrow(/insert-only/)
    expect(() => f.store.db.prepare('DELETE FROM vector_history').run()).toThrow(/insert-only/)
    expect(f.historyCount()).toBe(1)
  })

  it('never records this node as the source of its own evidence', () => {
    const f = vectorFixture()
    const push = f.pushRun()
    expect(() => f.store.db.prepare(`INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, source_node_id, run_id, updated_at_ns)
      VALUES (?, ?, ?, 1, ?, ?, 1)`).run(f.photos, USB, f.self.rowId, f.self.rowId, push)).toThrow(/source NULL/)
  })

  it('resets a destination: drops its live evidence, forgets which marker its name resolves to (the registry row stays), keeps history, records a reset run', () => {
    const f = vectorFixture()
    expect(f.store.destinations.recordLocal(f.self.rowId, 'usb', USB.slice('dir:'.length)).key).toBe(USB)
    f.store.destinations.recordLocal(f.self.rowId, 'offsite', OFFSITE.slice('dir:'.length))
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 4 }], f.pushRun())
    f.store.vector.advanceLocal(f.photos, OFFSITE, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 4 }], f.pushRun('offsite'))
    const r = resetDestination(f.store, 'usb')
    expect(r).toMatchObject({ components: 1, freshness: 1, markerForgotten: USB.slice('dir:'.length) })
    expect(f.store.vector.list(f.photos).map(c => c.destination)).toEqual([OFFSITE])
    // the name no longer resolves; the marker's row stays for the audit and the history keyed by it
    expect(f.store.destinations.local('usb')).toBeUndefined()
    expect(f.store.destinations.byKey(USB)).toMatchObject({ localName: 'usb', ownerRowId: f.self.rowId, forgottenAtNs: f.clock.nowNs() })
    expect(f.store.destinations.local('offsite')?.key).toBe(OFFSITE)
    expect(f.historyCount()).toBe(2)
    expect(f.store.runs.get(r.runId)).toMatchObject({ kind: 'reset', destination: 'usb', status: 'success', detail: { key: USB, marker_forgotten: USB.slice('dir:'.length), components_dropped: 1 } })
  })

  it('resets a name with no recorded marker without dropping anything', () => {
    const f = vectorFixture()
    f.store.vector.advanceLocal(f.photos, USB, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 4 }], f.pushRun())
    const before = f.store.vector.list(f.photos)
    const r = resetDestination(f.store, 'usb')
    expect(r).toMatchObject({ components: 0, freshness: 0, markerForgotten: null })
    expect(f.store.vector.list(f.photos)).toEqual(before)
    expect(f.store.runs.get(r.runId)).toMatchObject({ kind: 'reset', destination: 'usb', status: 'success', detail: { key: null } })
  })

  it('reports lower pulled components as refused rewinds, merges the rest, and with allowRewind lowers them', () => {
    const f = vectorFixture()
    const pull = f.pullRun(f.a.rowId)
    const c = (destination: string, run: number) => ({ destination, originNodeId: f.self.rowId, originRunId: run, verifyMethod: 'peer-sha256' as const, relayedVerifiedAtNs: 1 })
    f.store.vector.mergePulled({ volumeId: f.photos, sourceNodeId: f.a.rowId, issuedAtNs: 5, assertionId: null, runId: pull, allowRewind: false, components: [c(USB, 9), c(OFFSITE, 9)], freshness: undefined })
    const r = f.store.vector.mergePulled({ volumeId: f.photos, sourceNodeId: f.a.rowId, issuedAtNs: 5, assertionId: null, runId: pull, allowRewind: false, components: [c(USB, 4), c(OFFSITE, 10)], freshness: undefined })
    expect(r).toMatchObject({ applied: 1, changed: 1, rewound: 0, rewinds: [{ destination: USB, current: 9, attempted: 4 }] })
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)?.originRunId).toBe(9)
    f.store.runs.finish(pull, 'partial')
    const allowed = f.pullRun(f.a.rowId, true)
    const r2 = f.store.vector.mergePulled({ volumeId: f.photos, sourceNodeId: f.a.rowId, issuedAtNs: 5, assertionId: null, runId: allowed, allowRewind: true, components: [c(USB, 4)], freshness: undefined })
    expect(r2).toMatchObject({ rewound: 1, rewinds: [{ destination: USB, current: 9, attempted: 4 }] })
    expect(f.store.vector.get(f.photos, USB, f.self.rowId)?.originRunId).toBe(4)
  })
})
