import { describe, expect, it } from 'vitest'
import type { VolumeConfig } from '../../src/config/types.js'
import { scopeAssertion, storeOwnerLookup, type ScopedComponent } from '../../src/evidence/scope.js'
import { openAssertion, sealAssertion } from '../../src/protocol/envelope.js'
import { decodeEnvelope, encodeEnvelope } from '../../src/protocol/wire.js'
import { recordAssertion, verifyAssertion, type AcceptContext } from '../../src/pull/accept.js'
import { revokeSource } from '../../src/store/revocation.js'
import { assertion, component, dirComponent, dirKey, markerFor } from '../helpers/assertions.js'
import { testKey } from '../helpers/nodes.js'
import { snapshotEvidence, vectorFixture } from '../helpers/vector.js'

/** This node pushes photos to nas (peer a) and requires nas's custody and the directory nas writes as offsite. */
const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas'], offloadRequires: ['nas', 'nas/offsite'], offloadMaxEvidenceAgeMs: undefined }

type Fixture = ReturnType<typeof vectorFixture> & {
  ctx: AcceptContext
  /** nas's assertion: its custody of this node's origin and its claim about offsite, both through `run`. */
  seal: (seq: number, run?: number, overrides?: Parameters<typeof assertion>[1]) => Uint8Array
  /** Where nas's claims land: its custody under its node id, its directory under its marker key. */
  custodyKey: string
  offsiteKey: string
}

function setup (): Fixture {
  const f = vectorFixture()
  const ctx: AcceptContext = { expectedSigner: f.a.nodeId, volume: 'photos', receiptFor: null }
  const seal = (seq: number, run = 3, overrides = {}): Uint8Array => sealAssertion(f.a, assertion(f.a.nodeId, {
    counter: seq,
    issuedAtNs: f.clock.nowNs(),
    components: [
      component(f.a.nodeId, f.self.nodeId, run, { verifyMethod: 'peer-sha256', verifiedAtNs: f.clock.nowNs() - 2e9 }),
      dirComponent('offsite', f.a.nodeId, f.self.nodeId, run, { verifiedAtNs: f.clock.nowNs() - 1e9 })
    ],
    ...overrides
  }))
  return { ...f, ctx, seal, custodyKey: f.a.nodeId, offsiteKey: dirKey('offsite') }
}

/** Verifies, scopes and records an envelope in a pull run, as a pull does. */
function accept (f: Fixture, envelope: Uint8Array, ctx = f.ctx): ReturnType<typeof recordAssertion> {
  const verified = verifyAssertion(f.store, envelope, ctx)
  const signer = f.store.nodes.byRowId(verified.signerRowId)
  if (signer === undefined) throw new Error('no signer row')
  const run = f.store.runs.begin({ kind: 'pull', volumeId: f.photos, peerNodeId: f.a.rowId })
  const r = recordAssertion(f.store, verified, { volumeId: f.photos, runId: run.id, components: scopeAssertion(volume, signer, verified.opened.assertion.components, storeOwnerLookup(f.store)).kept })
  f.store.runs.finish(run.id, 'success')
  return r
}

/** The scoped components of a verified assertion by peer a. */
function scoped (f: Fixture, verified: ReturnType<typeof verifyAssertion>): ScopedComponent[] {
  const signer = f.store.nodes.byRowId(verified.signerRowId)
  if (signer === undefined) throw new Error('no signer row')
  return scopeAssertion(volume, signer, verified.opened.assertion.components, storeOwnerLookup(f.store)).kept
}

/** This node's own directory `name`, recorded under its marker (as its first push does). */
function localDirectory (f: Fixture, name: string): string {
  return f.store.destinations.recordLocal(f.self.rowId, name, markerFor(name)).key
}

describe('accepting an assertion', () => {
  it('records a valid assertion, attributed to its signer, and stores the envelope that proves it', () => {
    const f = setup()
    const env = f.seal(10)
    const r = accept(f, env)
    expect(r.merge).toEqual({ applied: 2, changed: 2, retracted: 0, notOwned: 0 })
    expect(f.store.vector.get(f.photos, f.custodyKey, f.self.rowId)).toMatchObject({ originRunId: 3, verifyMethod: 'peer-sha256', sourceNodeId: f.a.rowId, assertionId: r.assertionId })
    const c = f.store.vector.get(f.photos, f.offsiteKey, f.self.rowId)
    expect(c).toMatchObject({ originRunId: 3, sourceNodeId: f.a.rowId, assertionId: r.assertionId })
    // the stored bytes prove the component offline, later
    const stored = f.store.assertions.get(r.assertionId ?? 0)
    expect(Buffer.from(stored?.envelope ?? [])).toEqual(Buffer.from(env))
    expect(openAssertion(stored?.envelope ?? new Uint8Array()).assertion.components[1]).toMatchObject({ destination: f.offsiteKey, label: 'offsite', owner: f.a.nodeId, originRun: 3 })
    // the directory is recorded as nas's, under the label nas gives it, and is no name of this node's
    expect(f.store.destinations.byKey(f.offsiteKey)).toMatchObject({ ownerRowId: f.a.rowId, label: 'offsite', localName: null })
    expect(f.store.destinations.local('offsite')).toBeUndefined()
  })

  it('refuses a forged signature and writes nothing', () => {
    const f = setup()
    const parts = decodeEnvelope(f.seal(10))
    const forged = encodeEnvelope({ ...parts, signature: testKey(9).sign(parts.payload) })
    const before = snapshotEvidence(f.store)
    expect(() => verifyAssertion(f.store, forged, f.ctx)).toThrow(expect.objectContaining({ name: 'InvalidSignatureError' }))
    expect(snapshotEvidence(f.store)).toBe(before)
  })

  it('refuses a valid signature by a key that is not enrolled', () => {
    const f = setup()
    const stranger = testKey(77)
    const env = sealAssertion(stranger, assertion(stranger.nodeId, { counter: 1, issuedAtNs: f.clock.nowNs() }))
    expect(() => verifyAssertion(f.store, env, { ...f.ctx, expectedSigner: stranger.nodeId })).toThrow(expect.objectContaining({ name: 'UnknownSignerError', signer: stranger.nodeId }))
  })

  it('refuses every assertion signed by a revoked key, including ones accepted before', () => {
    const f = setup()
    const old = f.seal(10)
    accept(f, old)
    revokeSource(f.store, f.a.rowId)
    expect(() => verifyAssertion(f.store, old, f.ctx)).toThrow(expect.objectContaining({ name: 'PeerRevokedError', nodeId: f.a.nodeId }))
    expect(() => verifyAssertion(f.store, f.seal(11), f.ctx)).toThrow(expect.objectContaining({ name: 'PeerRevokedError' }))
    expect(f.store.vector.list(f.photos)).toEqual([])
  })

  it('refuses a valid assertion signed by another enrolled peer than the one connected', () => {
    const f = setup()
    const env = sealAssertion(f.b, assertion(f.b.nodeId, { counter: 1, issuedAtNs: f.clock.nowNs() }))
    expect(() => verifyAssertion(f.store, env, f.ctx)).toThrow(expect.objectContaining({ name: 'SignerMismatchError', signer: f.b.nodeId, expected: f.a.nodeId }))
  })

  it('refuses a replayed lower sequence, and an equal sequence with other bytes', () => {
    const f = setup()
    accept(f, f.seal(10))
    expect(() => verifyAssertion(f.store, f.seal(9, 4), f.ctx)).toThrow(expect.objectContaining({ name: 'ReplayedAssertionError', seq: 9, lastSeq: 10 }))
    expect(() => verifyAssertion(f.store, f.seal(10, 4), f.ctx)).toThrow(expect.objectContaining({ name: 'ReplayedAssertionError', seq: 10, lastSeq: 10 }))
    expect(f.store.vector.get(f.photos, f.offsiteKey, f.self.rowId)?.originRunId).toBe(3)
  })

  it('treats an identical re-send as a no-op', () => {
    const f = setup()
    const env = f.seal(10)
    accept(f, env)
    const before = snapshotEvidence(f.store)
    const again = accept(f, env)
    expect(again).toMatchObject({ assertionId: null, merge: { applied: 2, changed: 0, retracted: 0 } })
    expect(snapshotEvidence(f.store)).toBe(before)
  })

  it('refuses an assertion for a different volume than the one asked for', () => {
    const f = setup()
    const env = f.seal(10, 3, { volume: 'music' })
    expect(() => verifyAssertion(f.store, env, f.ctx)).toThrow(expect.objectContaining({ name: 'AssertionContextError', field: 'volume', got: 'music', expected: 'photos' }))
  })

  it('refuses a receipt for another run, and a receipt where a plain assertion was asked for', () => {
    const f = setup()
    const receipt = f.seal(10, 3, { receiptFor: 41 })
    expect(() => verifyAssertion(f.store, receipt, { ...f.ctx, receiptFor: 42 })).toThrow(expect.objectContaining({ name: 'AssertionContextError', field: 'receipt_for' }))
    expect(() => verifyAssertion(f.store, receipt, f.ctx)).toThrow(expect.objectContaining({ name: 'AssertionContextError', field: 'receipt_for' }))
    expect(verifyAssertion(f.store, receipt, { ...f.ctx, receiptFor: 41 }).opened.assertion.receiptFor).toBe(41)
  })

  it('stores no envelope when the assertion changes nothing, but still moves the watermark', () => {
    const f = setup()
    accept(f, f.seal(10))
    const count = f.store.assertions.count()
    const r = accept(f, f.seal(11))
    expect(r.assertionId).toBeNull()
    expect(f.store.assertions.count()).toBe(count)
    expect(f.store.assertions.watermark(f.a.rowId, 'photos')?.counter).toBe(11)
  })

  it('lets a revocation that lands between verification and merge win: nothing is written', () => {
    const f = setup()
    const verified = verifyAssertion(f.store, f.seal(10), f.ctx)
    const run = f.store.runs.begin({ kind: 'pull', volumeId: f.photos, peerNodeId: f.a.rowId })
    revokeSource(f.store, f.a.rowId)
    const before = snapshotEvidence(f.store)
    expect(() => recordAssertion(f.store, verified, { volumeId: f.photos, runId: run.id, components: scoped(f, verified) }))
      .toThrow(expect.objectContaining({ name: 'PeerRevokedError' }))
    expect(snapshotEvidence(f.store)).toBe(before)
  })

  it('lets only one of two racing pulls with the same sequence merge', () => {
    const f = setup()
    const env = f.seal(10)
    const v1 = verifyAssertion(f.store, env, f.ctx)
    const v2 = verifyAssertion(f.store, f.seal(10, 5), f.ctx)
    const run = f.store.runs.begin({ kind: 'pull', volumeId: f.photos, peerNodeId: f.a.rowId })
    recordAssertion(f.store, v1, { volumeId: f.photos, runId: run.id, components: scoped(f, v1) })
    expect(() => recordAssertion(f.store, v2, { volumeId: f.photos, runId: run.id, components: scoped(f, v2) }))
      .toThrow(expect.objectContaining({ name: 'ReplayedAssertionError' }))
    expect(f.store.vector.get(f.photos, f.offsiteKey, f.self.rowId)?.originRunId).toBe(3)
  })
})

describe('an accepted assertion replaces its signer\'s whole set', () => {
  it('retracts a claim the signer lowers: recorded at the lower run, counted and audited, never refused as a rewind', () => {
    const f = setup()
    accept(f, f.seal(10, 5))
    const r = accept(f, f.seal(11, 2))
    expect(r.merge).toEqual({ applied: 2, changed: 2, retracted: 2, notOwned: 0 })
    expect(r.assertionId).not.toBeNull()
    expect(f.store.vector.get(f.photos, f.custodyKey, f.self.rowId)?.originRunId).toBe(2)
    expect(f.store.vector.get(f.photos, f.offsiteKey, f.self.rowId)).toMatchObject({ originRunId: 2, sourceNodeId: f.a.rowId, assertionId: r.assertionId })
    expect(f.store.vector.retractions(f.photos).map(x => [x.destination, x.fromRun, x.toRun, x.sourceNodeId])).toEqual(expect.arrayContaining([
      [f.custodyKey, 5, 2, f.a.rowId],
      [f.offsiteKey, 5, 2, f.a.rowId]
    ]))
    expect(f.store.vector.retractions(f.photos)).toHaveLength(2)
  })

  it('retracts a claim the signer no longer carries, or carries as a tombstone: removed, counted and audited, history kept', () => {
    const f = setup()
    accept(f, f.seal(10, 5))
    const history = f.historyCount()
    const custodyOnly = [component(f.a.nodeId, f.self.nodeId, 5, { verifyMethod: 'peer-sha256', verifiedAtNs: f.clock.nowNs() - 2e9 })]
    const r = accept(f, f.seal(11, 5, { components: custodyOnly, tombstones: [{ destination: f.offsiteKey, originNode: f.self.nodeId }] }))
    expect(r.merge).toMatchObject({ retracted: 1, notOwned: 0 })
    expect(f.store.vector.get(f.photos, f.offsiteKey, f.self.rowId)).toBeUndefined()
    expect(f.store.vector.get(f.photos, f.custodyKey, f.self.rowId)?.originRunId).toBe(5)
    expect(f.store.vector.retractions(f.photos)).toEqual([expect.objectContaining({ destination: f.offsiteKey, fromRun: 5, toRun: 0, sourceNodeId: f.a.rowId })])
    expect(f.historyCount()).toBeGreaterThan(history)
    // an assertion with nothing in it takes back everything the signer said
    expect(accept(f, f.seal(12, 5, { components: [] })).merge).toMatchObject({ applied: 0, retracted: 1 })
    expect(f.store.vector.list(f.photos)).toEqual([])
  })

  it('stores the holes a claim carries with it', () => {
    const f = setup()
    const holes = [{ path: '2019/a.jpg', run: 2 }, { path: '2019/b.jpg', run: 3 }]
    accept(f, f.seal(10, 3, { components: [component(f.a.nodeId, f.self.nodeId, 3, { verifyMethod: 'peer-sha256', exceptions: holes })] }))
    expect(f.store.vector.get(f.photos, f.custodyKey, f.self.rowId)?.exceptions).toEqual(holes)
    // a hole filled later is a change of the claim, not a no-op
    expect(accept(f, f.seal(11, 3, { components: [component(f.a.nodeId, f.self.nodeId, 3, { verifyMethod: 'peer-sha256', exceptions: [] })] })).merge.changed).toBe(1)
    expect(f.store.vector.get(f.photos, f.custodyKey, f.self.rowId)?.exceptions).toEqual([])
  })

  it('never dates a claim later than the assertion that carries it', () => {
    const f = setup()
    const issued = f.clock.nowNs() - 10e9
    accept(f, f.seal(10, 3, { issuedAtNs: issued, components: [component(f.a.nodeId, f.self.nodeId, 3, { verifyMethod: 'peer-sha256', verifiedAtNs: f.clock.nowNs() + 3600e9 })] }))
    expect(f.store.vector.get(f.photos, f.custodyKey, f.self.rowId)?.verifiedAtNs).toBe(issued)
  })

  it('leaves evidence another provenance owns alone: a marker recorded as another node\'s is never claimed, and a row another source holds is counted as not owned', () => {
    const f = setup()
    // this node's own evidence at its directory usb, peer b's claim about its directory shared,
    // and b's custody — each under a key a's colliding claims below also name
    const usb = localDirectory(f, 'usb')
    const shared = dirKey('shared')
    const push = f.pushRun('usb')
    f.store.vector.advanceLocal(f.photos, usb, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 4 }], push)
    f.store.runs.finish(push, 'success')
    const pull = f.pullRun(f.b.rowId)
    f.store.db.transaction(() => {
      expect(f.store.destinations.notePeer(shared, f.b.rowId, 'shared')).toBe('kept')
      f.store.vector.replaceFromSource(f.photos, f.b.rowId, [
        { destination: shared, originNodeId: f.self.rowId, originRunId: 6, verifyMethod: 'sha256-readback', verifiedAtNs: f.clock.nowNs() - 1e9, exceptions: [] },
        { destination: f.b.nodeId, originNodeId: f.self.rowId, originRunId: 6, verifyMethod: 'peer-sha256', verifiedAtNs: f.clock.nowNs() - 1e9, exceptions: [] }
      ], null, pull)
    }).immediate()
    f.store.runs.finish(pull, 'success')
    const theirs = [usb, shared, f.b.nodeId]
    const before = f.store.vector.list(f.photos).filter(c => theirs.includes(c.destination))
    expect(before).toHaveLength(3)

    // handed straight to recordAssertion, as a race with another accept since scoping would
    const verified = verifyAssertion(f.store, f.seal(10, 9), f.ctx)
    const run = f.store.runs.begin({ kind: 'pull', volumeId: f.photos, peerNodeId: f.a.rowId })
    const colliding: ScopedComponent[] = [
      { ...dirComponent('usb', f.a.nodeId, f.self.nodeId, 9), key: usb },
      { ...dirComponent('shared', f.a.nodeId, f.self.nodeId, 9), key: shared },
      { ...component(f.b.nodeId, f.self.nodeId, 9, { verifyMethod: 'peer-sha256' }), key: f.b.nodeId },
      ...scoped(f, verified)
    ]
    const r = recordAssertion(f.store, verified, { volumeId: f.photos, runId: run.id, components: colliding })
    // the two markers another node owns never reach the vector; b's custody row is not a's to replace
    expect(r.merge).toMatchObject({ applied: 2, notOwned: 1 })
    expect(f.store.vector.list(f.photos).filter(c => theirs.includes(c.destination))).toEqual(before)
    expect(f.store.vector.get(f.photos, usb, f.self.rowId)).toMatchObject({ originRunId: 4, sourceNodeId: null })
    // and the registry still names the first owners
    expect(f.store.destinations.byKey(usb)).toMatchObject({ ownerRowId: f.self.rowId, localName: 'usb' })
    expect(f.store.destinations.byKey(shared)).toMatchObject({ ownerRowId: f.b.rowId, label: 'shared' })
  })
})

describe('scoping an assertion before it is recorded', () => {
  it('keeps the signer\'s custody and its own required directory (stored under the marker key), and drops third parties\' claims, this node\'s own directory and what the volume does not require', () => {
    const f = setup()
    const third = testKey(3).nodeId // peer b: only b may claim b's custody, or b's directories
    const usb = localDirectory(f, 'usb') // this node's own directory: it verifies it itself
    const bShared = dirKey('b-shared')
    f.store.db.transaction(() => f.store.destinations.notePeer(bShared, f.b.rowId, 'shared')).immediate()
    const env = f.seal(10, 3, {
      components: [
        component(f.a.nodeId, f.self.nodeId, 3, { verifyMethod: 'peer-sha256' }),
        component(third, f.self.nodeId, 99, { verifyMethod: 'peer-sha256' }),
        dirComponent('offsite', f.a.nodeId, f.self.nodeId, 3),
        // b's directory, even labelled as the one this volume requires from nas
        component(dirKey('b-offsite'), f.self.nodeId, 99, { label: 'offsite', owner: third }),
        // a marker this node has recorded as b's, claimed by nas as its own
        component(bShared, f.self.nodeId, 99, { label: 'offsite', owner: f.a.nodeId }),
        // this node's own directory, claimed by nas as its own
        component(usb, f.self.nodeId, 99, { label: 'offsite', owner: f.a.nodeId }),
        dirComponent('elsewhere', f.a.nodeId, f.self.nodeId, 3)
      ]
    })
    const verified = verifyAssertion(f.store, env, f.ctx)
    const signer = f.store.nodes.byRowId(verified.signerRowId)
    if (signer === undefined) throw new Error('no signer row')
    const s = scopeAssertion(volume, signer, verified.opened.assertion.components, storeOwnerLookup(f.store))
    expect(s.kept.map(c => c.key)).toEqual([f.custodyKey, f.offsiteKey])
    expect(s.drops).toEqual([
      { destination: third, origin: f.self.nodeId, kind: 'third-party' },
      { destination: dirKey('b-offsite'), label: 'offsite', origin: f.self.nodeId, kind: 'third-party' },
      { destination: bShared, label: 'offsite', origin: f.self.nodeId, kind: 'third-party' },
      { destination: usb, label: 'offsite', origin: f.self.nodeId, kind: 'own-destination' },
      { destination: dirKey('elsewhere'), label: 'elsewhere', origin: f.self.nodeId, kind: 'component' }
    ])
    accept(f, env)
    expect(f.store.vector.list(f.photos).map(c => [c.destination, c.sourceNodeId])).toEqual([[f.custodyKey, f.a.rowId], [f.offsiteKey, f.a.rowId]].sort((x, y) => (x[0] as string) < (y[0] as string) ? -1 : 1))
    // nothing landed under the third node's key, its directories, this node's own, or the bare label
    for (const key of [third, dirKey('b-offsite'), bShared, usb, 'offsite', dirKey('elsewhere')]) {
      expect(f.store.vector.get(f.photos, key, f.self.rowId), key).toBeUndefined()
    }
    // only the kept directory claim registered a marker: the dropped ones kept their owners or stayed unknown
    expect(f.store.destinations.byKey(f.offsiteKey)?.ownerRowId).toBe(f.a.rowId)
    expect(f.store.destinations.byKey(dirKey('b-offsite'))).toBeUndefined()
    expect(f.store.destinations.byKey(dirKey('elsewhere'))).toBeUndefined()
    expect(f.store.destinations.byKey(bShared)?.ownerRowId).toBe(f.b.rowId)
    expect(f.store.destinations.byKey(usb)).toMatchObject({ ownerRowId: f.self.rowId, localName: 'usb' })
  })

  it('keeps a marker with the first node seen owning it: another signer\'s later claim about it is dropped as a third party\'s', () => {
    const f = setup()
    accept(f, f.seal(10))
    const friend = f.store.nodes.byRowId(f.b.rowId)
    if (friend === undefined) throw new Error('no row for b')
    // a volume that requires friend's directory "offsite" too: friend claims nas's marker as its own
    const both: VolumeConfig = { ...volume, offloadRequires: [...volume.offloadRequires, 'friend/offsite'] }
    const s = scopeAssertion(both, friend, [dirComponent('offsite', f.b.nodeId, f.self.nodeId, 99)], storeOwnerLookup(f.store))
    expect(s.kept).toEqual([])
    expect(s.drops).toEqual([{ destination: f.offsiteKey, label: 'offsite', origin: f.self.nodeId, kind: 'third-party' }])
    // its own directory under the same label is its own marker, and is kept
    const own = scopeAssertion(both, friend, [component(dirKey('friend-offsite'), f.self.nodeId, 5, { label: 'offsite', owner: f.b.nodeId })], storeOwnerLookup(f.store))
    expect(own.kept.map(c => c.key)).toEqual([dirKey('friend-offsite')])
    expect(f.store.destinations.byKey(f.offsiteKey)?.ownerRowId).toBe(f.a.rowId)
  })

  it('lets revoking the signer take back everything it asserted, and nothing else', () => {
    const f = setup()
    const usb = localDirectory(f, 'usb')
    const push = f.pushRun('usb')
    f.store.vector.advanceLocal(f.photos, usb, 'sha256-readback', [{ originNodeId: f.self.rowId, originRunId: 4 }], push)
    f.store.runs.finish(push, 'success')
    accept(f, f.seal(10))
    revokeSource(f.store, f.a.rowId)
    expect(f.store.vector.list(f.photos).map(c => [c.destination, c.sourceNodeId])).toEqual([[usb, null]])
  })
})

describe('local sequence numbers', () => {
  it('are (this home\'s epoch, a counter that grows by one whatever the clock does)', () => {
    const f = vectorFixture()
    const first = f.store.assertions.nextLocalSeq('photos')
    expect(first.epoch).toMatch(/^[0-9a-f]{16}$/)
    expect(first.counter).toBe(1)
    f.clock.advanceNs(-1e12)
    expect(f.store.assertions.nextLocalSeq('photos')).toEqual({ epoch: first.epoch, counter: 2 })
    f.clock.advanceNs(1e18)
    expect(f.store.assertions.nextLocalSeq('photos')).toEqual({ epoch: first.epoch, counter: 3 })
    expect(f.store.assertions.nextLocalSeq('music')).toEqual({ epoch: first.epoch, counter: 1 })
  })

  it('refuse to sign at the maximum counter instead of wrapping, and SQL refuses a counter going back', () => {
    const f = vectorFixture()
    f.store.assertions.nextLocalSeq('photos')
    f.store.db.prepare('UPDATE local_counters SET counter = ? WHERE volume = ?').run(Number.MAX_SAFE_INTEGER, 'photos')
    expect(() => f.store.assertions.nextLocalSeq('photos')).toThrow(expect.objectContaining({ name: 'SequenceExhaustedError', volume: 'photos', counter: Number.MAX_SAFE_INTEGER }))
    expect(() => f.store.db.prepare('UPDATE local_counters SET counter = 5 WHERE volume = ?').run('photos')).toThrow(/only moves forward/)
    expect(() => f.store.db.prepare('UPDATE local_epoch SET epoch = ?').run('0000000000000000')).toThrow(/never changes/)
  })
})
