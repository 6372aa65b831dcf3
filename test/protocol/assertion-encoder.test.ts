import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nodeKeyFromSeed } from '../../src/identity/node-key.js'
import type { NodeId } from '../../src/identity/node-id.js'
import type { Assertion } from '../../src/protocol/messages.js'
import { decodeAssertion, encodeAssertion, encodeAssertionGenerated } from '../../src/protocol/wire.js'
import { VERIFY_METHODS } from '../../src/verify-method.js'

/**
 * The direct assertion encoder (src/protocol/assertion-encoder.ts) writes exactly the bytes
 * protons' generated encoder writes, for every assertion: the signature covers these bytes, so
 * one byte of difference would be a different statement.
 */
const nodes = Array.from({ length: 6 }, (_, i) => nodeKeyFromSeed(new Uint8Array(32).fill(i + 1)).nodeId)
const dirs = ['dir:0ff5e7e0ff5e7e0ff5e7e0ff5e7e0ff5', 'dir:05b005b005b005b005b005b005b005b0']

const time = fc.oneof(fc.constant(null), fc.constant(0), fc.integer({ min: 1, max: 2 ** 53 }), fc.constantFrom(1_760_000_000e9, 2 ** 63 - 2 ** 11, 4_102_444_799e9))
const run = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }))
const path = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'é/ü.jpg', '📷/a', '\uD800lone', 'a\uDFFF'))
const component = fc.record({
  dest: fc.integer({ min: 0, max: nodes.length + dirs.length - 1 }),
  origin: fc.constantFrom(...nodes),
  originRun: run,
  verifyMethod: fc.constantFrom(null, ...VERIFY_METHODS),
  verifiedAtNs: time,
  exceptions: fc.array(fc.record({ path, run }), { maxLength: 3 }),
  floorRun: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
  label: fc.constantFrom('offsite', 'usb', 'cold-store')
})
const assertion = fc.record({
  signer: fc.constantFrom(...nodes),
  volume: fc.constantFrom('photos', 'v', 'a-b.c_d'),
  counter: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  issuedAtNs: fc.oneof(fc.constant(0), fc.constantFrom(1_760_000_000e9, 2 ** 53 + 2, 2 ** 62)),
  receiptFor: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: null }),
  components: fc.array(component, { maxLength: 20 }),
  tombstones: fc.array(fc.record({ dest: fc.integer({ min: 0, max: nodes.length - 1 }), origin: fc.constantFrom(...nodes) }), { maxLength: 3 })
}).map((r): Assertion => ({
  signer: r.signer,
  volume: r.volume,
  epoch: 'a1a1a1a1a1a1a1a1',
  counter: r.counter,
  issuedAtNs: r.issuedAtNs,
  receiptFor: r.receiptFor,
  components: r.components.map(c => {
    const destination = c.dest < nodes.length ? nodes[c.dest] as string : dirs[c.dest - nodes.length] as string
    const directory = c.dest >= nodes.length
    return {
      destination,
      ...(directory ? { label: c.label, owner: r.signer } : {}),
      originNode: c.origin,
      originRun: c.originRun,
      verifyMethod: c.verifyMethod,
      verifiedAtNs: c.verifiedAtNs,
      exceptions: c.exceptions,
      ...(c.floorRun === undefined ? {} : { floorRun: c.floorRun })
    }
  }),
  tombstones: r.tombstones.map(t => ({ destination: nodes[t.dest] as string, originNode: t.origin }))
}))

describe('the direct assertion encoder', () => {
  it('writes exactly the bytes of the generated encoder, for any assertion (lone surrogates and odd numbers included)', () => {
    fc.assert(fc.property(assertion, a => {
      expect(Buffer.from(encodeAssertion(a)).toString('hex')).toBe(Buffer.from(encodeAssertionGenerated(a)).toString('hex'))
    }), { numRuns: 500 })
  })

  it('writes a large assertion the decoder reads back unchanged', () => {
    const signer = nodes[0] as NodeId
    const a: Assertion = {
      signer,
      volume: 'photos',
      epoch: '0123456789abcdef',
      counter: 7,
      issuedAtNs: 1_760_000_000e9,
      receiptFor: null,
      components: Array.from({ length: 5000 }, (_, i) => ({
        destination: `dir:${Math.floor(i / 50).toString(16).padStart(32, '0')}`,
        label: `d-${Math.floor(i / 50)}`,
        owner: signer,
        originNode: nodes[i % nodes.length] as NodeId,
        originRun: 1000 + i,
        verifyMethod: 'sha256-readback' as const,
        verifiedAtNs: 1_760_000_000e9 - i * 1e6,
        exceptions: i % 97 === 0 ? [{ path: `p/${i}.jpg`, run: 3 }] : []
      })).filter((c, i, all) => all.findIndex(o => o.destination === c.destination && o.originNode === c.originNode) === i),
      tombstones: []
    }
    const bytes = encodeAssertion(a)
    expect(Buffer.from(bytes).equals(Buffer.from(encodeAssertionGenerated(a)))).toBe(true)
    expect(decodeAssertion(bytes)).toEqual(a)
  })

  it('leaves what the generated encoder refuses to it (a non-integer instant still throws)', () => {
    const a: Assertion = { signer: nodes[0] as NodeId, volume: 'photos', epoch: 'a1a1a1a1a1a1a1a1', counter: 1, issuedAtNs: 1_760_000_000e9, receiptFor: null, components: [{ destination: nodes[0] as string, originNode: nodes[1] as NodeId, originRun: 1, verifyMethod: null, verifiedAtNs: 1.5, exceptions: [] }], tombstones: [] }
    expect(() => encodeAssertion(a)).toThrow(RangeError)
    expect(() => encodeAssertionGenerated(a)).toThrow(RangeError)
  })
})
