/**
 * From ../shared/audit/evidence-path/seq-pin.test.ts (one assertion with seq 2^53 − 1 locked a
 * key out for good, surviving revoke + re-enroll), inverted into DESIGN invariant 9: a sequence
 * is (epoch, counter); a counter only grows and never comes from a clock; an epoch changes
 * only by an audited act; so neither a clock jump nor one message can lock a key out for good.
 */
import { describe, expect, it } from 'vitest'
import { sealAssertion } from '../../src/protocol/envelope.js'
import { MAX_SEQUENCE_COUNTER } from '../../src/protocol/limits.js'
import { recordAssertion, verifyAssertion } from '../../src/pull/accept.js'
import { buildLocalAssertion } from '../../src/pull/local-assertion.js'
import { enrollSigner, revokeSource } from '../../src/store/revocation.js'
import { silentLogger } from '../../src/logger.js'
import { assertion, component, TEST_EPOCH } from '../helpers/assertions.js'
import { addPeer, addSelf } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'
import { vectorFixture, type VectorFixture } from '../helpers/vector.js'

const ctxOf = (f: VectorFixture): { expectedSigner: VectorFixture['a']['nodeId'], volume: string, receiptFor: null } => ({ expectedSigner: f.a.nodeId, volume: 'photos', receiptFor: null })

function accept (f: VectorFixture, envelope: Uint8Array): void {
  const v = verifyAssertion(f.store, envelope, ctxOf(f))
  const runId = f.pullRun(f.a.rowId)
  recordAssertion(f.store, v, { volumeId: f.photos, runId, components: v.opened.assertion.components.map(c => ({ ...c, key: c.destination })) })
  f.store.runs.finish(runId, 'success')
}

function seal (f: VectorFixture, counter: number, epoch = TEST_EPOCH, run = 3): Uint8Array {
  return sealAssertion(f.a, assertion(f.a.nodeId, { epoch, counter, issuedAtNs: f.clock.nowNs(), components: [component(f.a.nodeId, f.self.nodeId, run)] }))
}

describe('sequence epochs (invariant 9)', () => {
  it('lets one assertion at the maximum counter lock a key out only until the operator re-enrolls it, and nothing else restores it', () => {
    const f = vectorFixture()
    accept(f, seal(f, MAX_SEQUENCE_COUNTER))
    const honest = seal(f, 7, TEST_EPOCH, 4)
    expect(() => verifyAssertion(f.store, honest, ctxOf(f))).toThrow(expect.objectContaining({ name: 'ReplayedAssertionError', seq: 7, lastSeq: MAX_SEQUENCE_COUNTER }))

    // revoking alone, or the bare store re-enrollment, resets nothing; SQL refuses a direct delete
    revokeSource(f.store, f.a.rowId)
    expect(() => f.store.db.prepare('DELETE FROM sequence_watermarks').run()).toThrow(/re-enrolling the signer/)
    expect(f.store.assertions.watermark(f.a.rowId, 'photos')?.counter).toBe(MAX_SEQUENCE_COUNTER)

    const r = enrollSigner(f.store, f.a.nodeId, 'nas', [], true)
    expect(r.watermarksReset).toBe(1)
    expect(f.store.runs.get(r.runId)).toMatchObject({ kind: 'enroll', status: 'success' })
    expect(f.store.db.prepare('SELECT signer_node_id, run_id, watermarks_cleared FROM sequence_resets').all()).toEqual([{ signer_node_id: f.a.rowId, run_id: r.runId, watermarks_cleared: 1 }])
    expect(f.store.vector.list(f.photos)).toEqual([]) // evidence does not come back with the key
    accept(f, honest)
    expect(f.store.assertions.watermark(f.a.rowId, 'photos')).toMatchObject({ epoch: TEST_EPOCH, counter: 7 })
    expect(f.store.vector.list(f.photos)).toHaveLength(1)
  })

  it('refuses another epoch from a pinned signer, telling the operator to re-enroll it, and accepts it after re-enrollment', () => {
    const f = vectorFixture()
    accept(f, seal(f, 5))
    const rebuilt = seal(f, 1, 'abcdefabcdef0123')
    const other = sealAssertion(f.a, assertion(f.a.nodeId, { volume: 'music', epoch: 'abcdefabcdef0123', counter: 1, issuedAtNs: f.clock.nowNs() }))
    expect(() => verifyAssertion(f.store, rebuilt, ctxOf(f))).toThrow(expect.objectContaining({ name: 'EpochChangedError', signer: f.a.nodeId, pinnedEpoch: TEST_EPOCH, epoch: 'abcdefabcdef0123' }))
    // the epoch is pinned per signer, not per volume
    expect(() => verifyAssertion(f.store, other, { ...ctxOf(f), volume: 'music' })).toThrow(expect.objectContaining({ name: 'EpochChangedError' }))
    // and SQL refuses to re-pin it in place
    expect(() => f.store.db.prepare("UPDATE sequence_watermarks SET epoch = 'abcdefabcdef0123', counter = counter + 1").run()).toThrow(/re-enrolling/)
    revokeSource(f.store, f.a.rowId)
    enrollSigner(f.store, f.a.nodeId, 'nas', [], true)
    accept(f, rebuilt)
    expect(f.store.assertions.watermark(f.a.rowId, 'photos')).toMatchObject({ epoch: 'abcdefabcdef0123', counter: 1 })
  })

  it('treats a higher counter in the epoch as fresh, an identical re-send as a no-op, and a lower or equal one as a replay', () => {
    const f = vectorFixture()
    const five = seal(f, 5)
    accept(f, five)
    expect(verifyAssertion(f.store, five, ctxOf(f)).duplicate).toBe(true)
    expect(() => verifyAssertion(f.store, seal(f, 5, TEST_EPOCH, 9), ctxOf(f))).toThrow(expect.objectContaining({ name: 'ReplayedAssertionError', seq: 5, lastSeq: 5 }))
    expect(() => verifyAssertion(f.store, seal(f, 4), ctxOf(f))).toThrow(expect.objectContaining({ name: 'ReplayedAssertionError' }))
    expect(verifyAssertion(f.store, seal(f, 6), ctxOf(f)).duplicate).toBe(false)
  })

  it('changes nothing when the signer\'s clock jumps: its counter grows by one and the puller accepts each assertion', () => {
    const signerHome = memoryStore()
    const key = addSelf(signerHome.store, 2, 'nas')
    signerHome.store.volumes.ensure('photos', '/data/photos')
    const puller = memoryStore()
    addSelf(puller.store, 1, 'laptop')
    const peer = addPeer(puller.store, 2, 'nas')
    const vol = puller.store.volumes.ensure('photos', '/data/photos').id
    const ctx = { expectedSigner: peer.nodeId, volume: 'photos', receiptFor: null }
    const counters: number[] = []
    for (const jump of [0, 1e18, -1.5e18, 5e17]) {
      signerHome.clock.advanceNs(jump)
      const a = buildLocalAssertion(signerHome.store, key.nodeId, 'photos', silentLogger)
      a.issuedAtNs = puller.clock.nowNs()
      counters.push(a.counter)
      const v = verifyAssertion(puller.store, sealAssertion(key, a), ctx)
      const runId = puller.store.runs.begin({ kind: 'pull', volumeId: vol, peerNodeId: peer.rowId }).id
      recordAssertion(puller.store, v, { volumeId: vol, runId, components: [] })
      puller.store.runs.finish(runId, 'success')
    }
    expect(counters).toEqual([1, 2, 3, 4])
    expect(puller.store.assertions.watermark(peer.rowId, 'photos')).toMatchObject({ epoch: signerHome.store.assertions.localEpoch(), counter: 4 })
  })
})
