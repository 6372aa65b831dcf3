/**
 * From ../shared/audit/evidence-path/big-assertion.mjs (a maximal assertion cost seconds and
 * hundreds of MiB before scoping dropped it): the receiver scopes while decoding. A dropped
 * component is validated like any other byte but never built; the whole-set rule (an absent
 * component is a retraction, invariant 21) still holds for the components in scope.
 * The cost is recorded by `npm run bench -- --only pull-maximal-assertion`.
 */
import { describe, expect, it } from 'vitest'
import type { VolumeConfig } from '../../src/config/types.js'
import { scopeFilter, storeOwnerLookup } from '../../src/evidence/scope.js'
import { openAssertion, sealAssertion } from '../../src/protocol/envelope.js'
import { encodeAssertion } from '../../src/protocol/wire.js'
import { recordAssertion, verifyAssertion } from '../../src/pull/accept.js'
import { assertion, component, dirComponent, signRaw } from '../helpers/assertions.js'
import { testKey } from '../helpers/nodes.js'
import { vectorFixture } from '../helpers/vector.js'

const volume: VolumeConfig = { name: 'photos', path: '/data/photos', pushTo: ['nas'], offloadRequires: ['nas/offsite'], offloadMaxEvidenceAgeMs: undefined }

describe('scoping while decoding', () => {
  it('builds only the components the volume cares about, counts the rest, and keeps the whole-set rule for the kept ones', () => {
    const f = vectorFixture()
    const ownerOf = storeOwnerLookup(f.store)
    const ctx = { expectedSigner: f.a.nodeId, volume: 'photos', receiptFor: null, filter: scopeFilter(volume, f.store.nodes.byRowId(f.a.rowId)!, ownerOf) }
    const origins = [f.self.nodeId, testKey(5).nodeId]
    const noise = Array.from({ length: 300 }, (_, i) => dirComponent(`other${i}`, f.a.nodeId, origins[i % 2]!, 4))
    const first = sealAssertion(f.a, assertion(f.a.nodeId, {
      counter: 1,
      issuedAtNs: f.clock.nowNs(),
      components: [component(f.a.nodeId, origins[0]!, 3), component(f.a.nodeId, origins[1]!, 3), dirComponent('offsite', f.a.nodeId, origins[0]!, 2), component(testKey(3).nodeId, origins[0]!, 9), ...noise]
    }))
    const opened = openAssertion(first, ctx.filter)
    expect(opened.assertion.components.map(c => c.destination)).toEqual([f.a.nodeId, f.a.nodeId, expect.stringMatching(/^dir:/)])
    expect(opened.filtered.count).toBe(301)
    expect(opened.filtered.samples).toHaveLength(16)
    expect(opened.filtered.samples[0]).toMatchObject({ destination: testKey(3).nodeId, kind: 'third-party' })

    const accept = (envelope: Uint8Array): void => {
      const v = verifyAssertion(f.store, envelope, ctx)
      const runId = f.pullRun(f.a.rowId)
      recordAssertion(f.store, v, { volumeId: f.photos, runId, components: v.opened.assertion.components.map(c => ({ ...c, key: c.destination })) })
      f.store.runs.finish(runId, 'success')
    }
    accept(first)
    expect(f.store.vector.list(f.photos)).toHaveLength(3)
    // the next assertion no longer carries one in-scope claim (and still carries the noise): retracted
    accept(sealAssertion(f.a, assertion(f.a.nodeId, { counter: 2, issuedAtNs: f.clock.nowNs(), components: [component(f.a.nodeId, origins[0]!, 3), dirComponent('offsite', f.a.nodeId, origins[0]!, 2), ...noise] })))
    expect(f.store.vector.list(f.photos).map(c => c.originNodeId).sort()).toEqual([f.self.rowId, f.self.rowId])
  })

  it('refuses the whole assertion when a component it would drop is not canonical', () => {
    const signer = testKey(2)
    const good = encodeAssertion(assertion(signer.nodeId, { components: [dirComponent('elsewhere', signer.nodeId, testKey(5).nodeId, 4)] }))
    // a floor_run 0 (a default, and out of order) appended to the component: "38 00"
    // the one component ends where the sequence (12 bytes: epoch and counter) begins
    const tailAt = good.length - 12
    const compAt = good.findIndex((b, i) => b === ((7 << 3) | 2) && i + 2 + (good[i + 1] as number) === tailAt)
    const len = good[compAt + 1] as number
    const bad = Uint8Array.from([...good.subarray(0, compAt), (7 << 3) | 2, len + 2, ...good.subarray(compAt + 2, compAt + 2 + len), 0x38, 0x00, ...good.subarray(compAt + 2 + len)])
    const dropAll = (): 'component' => 'component'
    expect(openAssertion(signRaw(good, signer), dropAll).filtered.count).toBe(1)
    expect(() => openAssertion(signRaw(bad, signer), dropAll)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].floor_run' }))
  })
})
