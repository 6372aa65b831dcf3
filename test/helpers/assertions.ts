import { createHash } from 'node:crypto'
import fc from 'fast-check'
import type { NodeKey } from '../../src/identity/node-key.js'
import { ASSERTION_DOMAIN, ASSERTION_PAYLOAD_TYPE, signingBuffer } from '../../src/protocol/envelope.js'
import { uvarint } from '../../src/protocol/varint.js'
import { encodeEnvelope } from '../../src/protocol/wire.js'
import type { NodeId } from '../../src/identity/node-id.js'
import type { AssertedComponent, Assertion } from '../../src/protocol/messages.js'
import { VERIFY_METHODS } from '../../src/verify-method.js'
import { testKey } from './nodes.js'

export const T0 = 1_760_000_000 * 1e9
/** The sequence epoch test assertions are signed in (one home per test key). */
export const TEST_EPOCH = 'e0e0e0e0e0e0e0e0'

export function assertion (signer: NodeId, overrides: Partial<Assertion> = {}): Assertion {
  return { signer, volume: 'photos', epoch: TEST_EPOCH, counter: 1, issuedAtNs: T0, receiptFor: null, components: [], tombstones: [], ...overrides }
}

export function component (destination: string, originNode: NodeId, originRun: number, overrides: Partial<AssertedComponent> = {}): AssertedComponent {
  return { destination, originNode, originRun, verifyMethod: 'sha256-readback', verifiedAtNs: T0 - 1e9, exceptions: [], ...overrides }
}

/** A stable 32-hex marker id for a test's directory `tag` (the same tag always gives the same marker). */
export function markerFor (tag: string): string {
  return createHash('sha256').update(`test-marker:${tag}`).digest('hex').slice(0, 32)
}

/** The store and wire key of the test directory `tag`: `dir:<markerFor(tag)>`. */
export function dirKey (tag: string): string {
  return `dir:${markerFor(tag)}`
}

/**
 * A claim about a directory: keyed by its marker (`dirKey(label)` unless overridden), carrying
 * the owner node id and the owner's label for it, as the wire requires.
 */
export function dirComponent (label: string, owner: NodeId, originNode: NodeId, originRun: number, overrides: Partial<AssertedComponent> = {}): AssertedComponent {
  return component(dirKey(label), originNode, originRun, { label, owner, ...overrides })
}

const nodeIds = [1, 2, 3, 4, 5].map(n => testKey(n).nodeId)
const nameArb = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/)
/** A component's destination: a node id (custody), or a directory key with its label and owner. */
const destinationArb: fc.Arbitrary<Pick<AssertedComponent, 'destination' | 'label' | 'owner'>> = fc.oneof(
  fc.constantFrom(...nodeIds).map(destination => ({ destination })),
  fc.record({ destination: fc.stringMatching(/^[0-9a-f]{32}$/).map(m => `dir:${m}`), label: nameArb, owner: fc.constantFrom(...nodeIds) })
)
const timeArb = fc.integer({ min: 1_600_000_000, max: 4_000_000_000 }).map(s => s * 1e9)

/** Arbitrary valid assertions (unique destination/origin pairs). */
export const assertionArb: fc.Arbitrary<Assertion> = fc.record({
  signer: fc.constantFrom(...nodeIds),
  volume: nameArb,
  epoch: fc.stringMatching(/^[0-9a-f]{16}$/),
  counter: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  issuedAtNs: timeArb,
  receiptFor: fc.option(fc.integer({ min: 1, max: 1e12 }), { nil: null }),
  components: fc.uniqueArray(fc.record({
    target: destinationArb,
    originNode: fc.constantFrom(...nodeIds),
    originRun: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    verifyMethod: fc.constantFrom(...VERIFY_METHODS, null),
    verifiedAtNs: fc.option(timeArb, { nil: null }),
    exceptions: fc.constant([] as Array<{ path: string, run: number }>)
  }).map(({ target, ...rest }): AssertedComponent => ({ ...target, ...rest })), { selector: c => `${c.destination}|${c.originNode}`, maxLength: 30 }),
  tombstones: fc.constant([])
})

/** A varint as plain bytes, for hand-built hostile frames (the code under test has its own). */
export function varintBytes (n: number): number[] {
  return Array.from(uvarint(n))
}

/** Signs an arbitrary payload exactly as sealAssertion would, so a test can sign bytes the encoder never produces. */
export function signRaw (payload: Uint8Array, key: NodeKey): Uint8Array {
  const te = new TextEncoder()
  const signature = key.sign(signingBuffer(te.encode(ASSERTION_DOMAIN), te.encode(ASSERTION_PAYLOAD_TYPE), payload))
  return encodeEnvelope({ publicKey: key.publicKey, payloadType: te.encode(ASSERTION_PAYLOAD_TYPE), payload, signature })
}
