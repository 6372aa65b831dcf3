import { describe, expect, it } from 'vitest'
import { openAssertion, sealAssertion } from '../../src/protocol/envelope.js'
import { decodeEnvelope, encodeEnvelope } from '../../src/protocol/wire.js'
import { recordAssertion, verifyAssertion, type AcceptContext } from '../../src/pull/accept.js'
import { revokeSource } from '../../src/store/revocation.js'
import { assertion, component } from '../helpers/assertions.js'
import { testKey } from '../helpers/nodes.js'
import { snapshotEvidence, vectorFixture } from '../helpers/vector.js'

function setup (): ReturnType<typeof vectorFixture> & { ctx: AcceptContext, seal: (seq: number, run?: number, overrides?: Parameters<typeof assertion>[1]) => Uint8Array } {
  const f = vectorFixture()
  const ctx: AcceptContext = { expectedSigner: f.a.nodeId, volume: 'photos', receiptFor: null }
  const seal = (seq: number, run = 3, overrides = {}): Uint8Array => sealAssertion(f.a, assertion(f.a.nodeId, {
    seq, issuedAtNs: f.clock.nowNs(), components: [component('offsite', f.self.nodeId, run, { verifiedAtNs: f.clock.nowNs() - 1e9 })], ...overrides
  }))
  return { ...f, ctx, seal }
}

function accept (f: ReturnType<typeof setup>, envelope: Uint8Array, ctx = f.ctx): ReturnType<typeof recordAssertion> {
  const verified = verifyAssertion(f.store, envelope, ctx)
  const a = verified.opened.assertion
  const run = f.store.runs.begin({ kind: 'pull', volumeId: f.photos, peerNodeId: f.a.rowId })
  const r = recordAssertion(f.store, verified, { volumeId: f.photos, runId: run.id, allowRewind: false, components: a.components, freshness: a.freshness })
  f.store.runs.finish(run.id, 'success')
  return r
}

describe('accepting an assertion', () => {
  it('merges a valid assertion, attributed to its signer, and stores the envelope that proves it', () => {
    const f = setup()
    const env = f.seal(10)
    const r = accept(f, env)
    expect(r.merge).toMatchObject({ applied: 1, changed: 1 })
    const c = f.store.vector.get(f.photos, 'offsite', f.self.rowId)
    expect(c).toMatchObject({ originRunId: 3, sourceNodeId: f.a.rowId, assertionId: r.assertionId })
    // the stored bytes prove the component offline, later
    const stored = f.store.assertions.get(r.assertionId ?? 0)
    expect(Buffer.from(stored?.envelope ?? [])).toEqual(Buffer.from(env))
    expect(openAssertion(stored?.envelope ?? new Uint8Array()).assertion.components[0]).toMatchObject({ destination: 'offsite', originRun: 3 })
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
    const env = sealAssertion(stranger, assertion(stranger.nodeId, { seq: 1, issuedAtNs: f.clock.nowNs() }))
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
    const env = sealAssertion(f.b, assertion(f.b.nodeId, { seq: 1, issuedAtNs: f.clock.nowNs() }))
    expect(() => verifyAssertion(f.store, env, f.ctx)).toThrow(expect.objectContaining({ name: 'SignerMismatchError', signer: f.b.nodeId, expected: f.a.nodeId }))
  })

  it('refuses a replayed lower sequence, and an equal sequence with other bytes', () => {
    const f = setup()
    accept(f, f.seal(10))
    expect(() => verifyAssertion(f.store, f.seal(9, 4), f.ctx)).toThrow(expect.objectContaining({ name: 'ReplayedAssertionError', seq: 9, lastSeq: 10 }))
    expect(() => verifyAssertion(f.store, f.seal(10, 4), f.ctx)).toThrow(expect.objectContaining({ name: 'ReplayedAssertionError', seq: 10, lastSeq: 10 }))
    expect(f.store.vector.get(f.photos, 'offsite', f.self.rowId)?.originRunId).toBe(3)
  })

  it('treats an identical re-send as a no-op', () => {
    const f = setup()
    const env = f.seal(10)
    accept(f, env)
    const before = snapshotEvidence(f.store)
    const again = accept(f, env)
    expect(again).toMatchObject({ assertionId: null, merge: { applied: 1, changed: 0 } })
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
    expect(f.store.assertions.watermark(f.a.rowId, 'photos')?.seq).toBe(11)
  })

  it('lets a revocation that lands between verification and merge win: nothing is written', () => {
    const f = setup()
    const verified = verifyAssertion(f.store, f.seal(10), f.ctx)
    const run = f.store.runs.begin({ kind: 'pull', volumeId: f.photos, peerNodeId: f.a.rowId })
    revokeSource(f.store, f.a.rowId)
    const before = snapshotEvidence(f.store)
    expect(() => recordAssertion(f.store, verified, { volumeId: f.photos, runId: run.id, allowRewind: false, components: verified.opened.assertion.components, freshness: [] }))
      .toThrow(expect.objectContaining({ name: 'PeerRevokedError' }))
    expect(snapshotEvidence(f.store)).toBe(before)
  })

  it('lets only one of two racing pulls with the same sequence merge', () => {
    const f = setup()
    const env = f.seal(10)
    const v1 = verifyAssertion(f.store, env, f.ctx)
    const v2 = verifyAssertion(f.store, f.seal(10, 5), f.ctx)
    const run = f.store.runs.begin({ kind: 'pull', volumeId: f.photos, peerNodeId: f.a.rowId })
    recordAssertion(f.store, v1, { volumeId: f.photos, runId: run.id, allowRewind: false, components: v1.opened.assertion.components, freshness: [] })
    expect(() => recordAssertion(f.store, v2, { volumeId: f.photos, runId: run.id, allowRewind: false, components: v2.opened.assertion.components, freshness: [] }))
      .toThrow(expect.objectContaining({ name: 'ReplayedAssertionError' }))
    expect(f.store.vector.get(f.photos, 'offsite', f.self.rowId)?.originRunId).toBe(3)
  })
})

describe('local sequence numbers', () => {
  it('start from the clock in microseconds and only grow, even when the clock steps back', () => {
    const f = vectorFixture()
    const first = f.store.assertions.nextLocalSeq('photos')
    expect(first).toBe(Math.floor(f.clock.nowNs() / 1000))
    f.clock.advanceNs(-1e12)
    expect(f.store.assertions.nextLocalSeq('photos')).toBe(first + 1)
    expect(f.store.assertions.nextLocalSeq('music')).toBeLessThan(first)
  })
})
