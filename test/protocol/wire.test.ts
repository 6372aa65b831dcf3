import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CairnError } from '../../src/errors.js'
import { openAssertion, sealAssertion, signingBuffer } from '../../src/protocol/envelope.js'
import {
  MAX_COMPONENTS_PER_ASSERTION, MAX_EXCEPTIONS_PER_ASSERTION, MAX_EXCEPTIONS_PER_COMPONENT, MAX_FRAME_BYTES, MAX_NAMES_PER_ASSERTION, MAX_SANE_TIME_NS
} from '../../src/protocol/limits.js'
import { Status } from '../../src/protocol/messages.js'
import {
  checkPlanPath, decodeAssertion, decodeDurabilityRequest, decodeDurabilityResponse, decodeEnvelope, decodePlanChunk, decodePlanReply,
  decodePushOffer, decodePushResult, encodeAssertion, encodeDurabilityRequest, encodeDurabilityResponse, encodeEnvelope, encodePlanChunk,
  encodePlanReply, encodePushOffer, encodePushResult
} from '../../src/protocol/wire.js'
import { assertion, assertionArb, component, dirComponent, dirKey, markerFor, signRaw as signRawWith, T0, varintBytes } from '../helpers/assertions.js'
import { testKey } from '../helpers/nodes.js'

const signer = testKey(1)
const origin = testKey(2).nodeId
/** A claim about a directory the signer writes (its marker key, the signer as owner, its label). */
const mine = (label: string, originNode: Parameters<typeof component>[1], run: number, overrides: Parameters<typeof component>[3] = {}): ReturnType<typeof component> =>
  dirComponent(label, signer.nodeId, originNode, run, overrides)

/** Appends one protobuf field (wire type 2, length-delimited) to encoded message bytes. */
function withExtraField (bytes: Uint8Array, field: number, value: Uint8Array): Uint8Array {
  return Uint8Array.from([...bytes, (field << 3) | 2, value.length, ...value])
}

function signRaw (payload: Uint8Array, key = signer): Uint8Array {
  return signRawWith(payload, key)
}

describe('wire messages', () => {
  it('round-trips an assertion with every kind of component', () => {
    const a = assertion(signer.nodeId, {
      counter: 99,
      receiptFor: 7,
      components: [
        mine('usb', origin, 3),
        component(signer.nodeId, origin, 5, { verifyMethod: 'peer-sha256' }),
        component(testKey(3).nodeId, origin, 4, { verifyMethod: 'peer-sha256', verifiedAtNs: null }),
        mine('offsite', signer.nodeId, 1, { verifyMethod: null }),
        mine('cold', origin, 2, { verifyMethod: 'presence+size' }),
        // a directory another node owns: the wire carries it, scoping drops it
        dirComponent('theirs', testKey(3).nodeId, origin, 6)
      ],
      tombstones: [{ destination: dirKey('usb'), originNode: signer.nodeId }]
    })
    const back = decodeAssertion(encodeAssertion(a))
    expect(back).toEqual(a)
    // a directory comes back with its owner and label; a node id with neither
    expect(back.components.map(c => [c.destination, c.owner, c.label])).toEqual([
      [dirKey('usb'), signer.nodeId, 'usb'],
      [signer.nodeId, undefined, undefined],
      [testKey(3).nodeId, undefined, undefined],
      [dirKey('offsite'), signer.nodeId, 'offsite'],
      [dirKey('cold'), signer.nodeId, 'cold'],
      [dirKey('theirs'), testKey(3).nodeId, 'theirs']
    ])
    expect(back.components.filter(c => !c.destination.startsWith('dir:')).every(c => !('label' in c) && !('owner' in c))).toBe(true)
  })

  it('round-trips exceptions and tombstones', () => {
    const a = assertion(signer.nodeId, {
      components: [
        component(signer.nodeId, origin, 9, { verifyMethod: 'peer-sha256', exceptions: [{ path: '2019/a.jpg', run: 9 }, { path: 'ü/b c.jpg', run: 1 }, { path: '2019/a.jpg', run: 4 }] }),
        mine('usb', origin, 2 ** 31 + 7, { exceptions: [{ path: 'big.mkv', run: 2 ** 31 + 7 }] }),
        mine('offsite', signer.nodeId, 3)
      ],
      tombstones: [{ destination: dirKey('cold'), originNode: origin }, { destination: testKey(3).nodeId, originNode: origin }, { destination: dirKey('usb'), originNode: signer.nodeId }]
    })
    const back = decodeAssertion(encodeAssertion(a))
    expect(back).toEqual(a)
    // a tombstone is only a withdrawal: it never comes back as a claim
    expect(back.components.map(c => c.destination)).toEqual([signer.nodeId, dirKey('usb'), dirKey('offsite')])
  })

  it('round-trips arbitrary valid assertions with exceptions and tombstones (property)', () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9 ._-]{0,11}$/)
    const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map(s => s.join('/'))
    const withHoles = assertionArb.chain(a => fc.record({
      exceptions: fc.tuple(...a.components.map(c => fc.array(fc.record({
        path,
        run: fc.integer({ min: 1, max: c.originRun })
      }), { maxLength: 4 }))),
      tombstoneOrigins: fc.uniqueArray(fc.constantFrom(...[1, 2, 3, 4, 5].map(n => testKey(n).nodeId)), { maxLength: 3 })
    }).map(({ exceptions, tombstoneOrigins }) => ({
      ...a,
      components: a.components.map((c, i) => ({ ...c, exceptions: exceptions[i] ?? [] })),
      // a destination no component uses, so every (destination, origin) pair stays unique
      tombstones: tombstoneOrigins.map(o => ({ destination: dirKey('withdrawn'), originNode: o }))
    })))
    fc.assert(fc.property(withHoles, (a) => {
      expect(decodeAssertion(encodeAssertion(a))).toEqual(a)
    }), { numRuns: 200 })
  })

  it('round-trips arbitrary valid assertions (property)', () => {
    fc.assert(fc.property(assertionArb, (a) => {
      expect(decodeAssertion(encodeAssertion(a))).toEqual(a)
    }), { numRuns: 200 })
  })

  it('round-trips the durability request and response', () => {
    expect(decodeDurabilityRequest(encodeDurabilityRequest({ volume: 'photos' }))).toEqual({ volume: 'photos' })
    const r = { status: Status.OK, envelope: new Uint8Array([1, 2, 3]), message: '' }
    expect(decodeDurabilityResponse(encodeDurabilityResponse(r))).toEqual(r)
    const refusal = { status: Status.UNKNOWN_VOLUME, envelope: null, message: 'no such volume' }
    expect(decodeDurabilityResponse(encodeDurabilityResponse(refusal))).toEqual(refusal)
  })

  it('round-trips the push messages', () => {
    const offer = { volume: 'photos', pusherRun: 12, entries: 2, totalBytes: 30, origins: [origin, signer.nodeId] }
    expect(decodePushOffer(encodePushOffer(offer))).toEqual(offer)
    const chunk = { entries: [{ path: '2019/a b.jpg', hash: new Uint8Array(32).fill(7), size: 10, mtimeNs: T0, originIndex: 1, originRun: 3, replaces: new Uint8Array(32).fill(5) }, { path: 'ü/x', hash: new Uint8Array(32), size: 20, mtimeNs: 0, originIndex: 0, originRun: 1, replaces: null }], last: true }
    expect(decodePlanChunk(encodePlanChunk(chunk), 2)).toEqual(chunk)
    const reply = { status: Status.OK, need: [0, 1], message: '' }
    expect(decodePlanReply(encodePlanReply(reply), 2)).toEqual(reply)
    const result = { status: Status.PARTIAL, receipt: new Uint8Array([9]), failures: [{ entry: 0, reason: 5 as const }, { entry: 1, reason: 1 as const }], message: 'x', filesWritten: 1, bytesWritten: 10 }
    expect(decodePushResult(encodePushResult(result), 2)).toEqual(result)
  })

  it('refuses a plan entry whose replaces is neither empty nor a 32-byte hash, and an unknown failure reason', () => {
    const chunk = { entries: [{ path: 'a', hash: new Uint8Array(32), size: 1, mtimeNs: 0, originIndex: 0, originRun: 1, replaces: new Uint8Array(31) }], last: true }
    expect(() => decodePlanChunk(encodePlanChunk(chunk), 1)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'entries[0].replaces' }))
    const result = { status: Status.PARTIAL, receipt: null, failures: [{ entry: 0, reason: 6 as any }], message: '', filesWritten: 0, bytesWritten: 0 }
    expect(() => decodePushResult(encodePushResult(result), 1)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'failures[0].reason' }))
  })

  it('round-trips 64-bit values in [2^31, 2^32) exactly (a 3 GB file size is not zero)', () => {
    for (const size of [2 ** 31, 3 * 2 ** 30, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      const chunk = { entries: [{ path: 'big.mkv', hash: new Uint8Array(32), size, mtimeNs: 2 ** 31 + 5, originIndex: 0, originRun: size, replaces: null }], last: true }
      expect(decodePlanChunk(encodePlanChunk(chunk), 1)).toEqual(chunk)
    }
    const a = assertion(signer.nodeId, { counter: 2 ** 31, receiptFor: 2 ** 31 + 1, components: [mine('usb', origin, 2 ** 31 + 7)] })
    expect(decodeAssertion(encodeAssertion(a))).toEqual(a)
  })

  it('round-trips the envelope', () => {
    const parts = { publicKey: signer.publicKey, payloadType: new Uint8Array([1]), payload: new Uint8Array([2, 3]), signature: new Uint8Array(64).fill(4) }
    expect(decodeEnvelope(encodeEnvelope(parts))).toEqual(parts)
  })
})

describe('wire validation', () => {
  it('refuses an oversize frame before decoding it', () => {
    // garbage that would fail to decode: the size check must come first
    const big = new Uint8Array(MAX_FRAME_BYTES + 1).fill(0xff)
    expect(() => decodeEnvelope(big)).toThrow(expect.objectContaining({ name: 'OversizeMessageError', bytes: MAX_FRAME_BYTES + 1, limit: MAX_FRAME_BYTES }))
    expect(() => decodeAssertion(big)).toThrow(expect.objectContaining({ name: 'OversizeMessageError' }))
  })

  it('refuses an assertion with more components than the limit', () => {
    // one more empty component than allowed: 2 bytes each (tag 7, length 0)
    const encoded = encodeAssertion(assertion(signer.nodeId))
    // the sequence (fields 10 and 11: 2 + 8 epoch bytes, then tag and a 1-byte counter) comes after the components
    const head = encoded.subarray(0, encoded.length - 12)
    const tail = encoded.subarray(encoded.length - 12)
    const body = new Uint8Array((MAX_COMPONENTS_PER_ASSERTION + 1) * 2)
    for (let i = 0; i < body.length; i += 2) body[i] = (7 << 3) | 2
    const bytes = new Uint8Array(encoded.length + body.length)
    bytes.set(head)
    bytes.set(body, head.length)
    bytes.set(tail, head.length + body.length)
    expect(() => decodeAssertion(bytes)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components', reason: `more elements than the limit allows (${MAX_COMPONENTS_PER_ASSERTION})` }))
  })

  /**
   * The bytes one more worst-case component of `kind` adds to an assertion whose dictionary
   * indexes are all past 127 (two-byte varints): 200 custody and 200 directory fillers come
   * first, and the two worst components reference names already in the dictionary, so the
   * delta is one component.
   */
  function worstComponentBytes (kind: 'custody' | 'directory'): number {
    const nodes = Array.from({ length: 200 }, (_, i) => testKey(10 + i).nodeId)
    const fillers = nodes.flatMap((n, i) => [component(n, signer.nodeId, 1), mine(`f${i}`, signer.nodeId, 1)])
    const worstly = { verifiedAtNs: MAX_SANE_TIME_NS - 1e9, verifyMethod: 'presence+size' as const, floorRun: Number.MAX_SAFE_INTEGER - 1 }
    const worst = (i: number): ReturnType<typeof component> => kind === 'custody'
      ? component(nodes[i] ?? origin, nodes[i + 1] ?? origin, Number.MAX_SAFE_INTEGER, worstly)
      // a directory claim carries its label (up to 64 characters) and its owner's node id
      : component(dirKey(`f${i}`), nodes[i + 1] ?? origin, Number.MAX_SAFE_INTEGER, { ...worstly, label: 'l'.repeat(64), owner: nodes[i] ?? origin })
    const size = (extra: Array<ReturnType<typeof component>>): number => encodeAssertion(assertion(signer.nodeId, { components: [...fillers, ...extra] })).length
    return size([worst(150), worst(160)]) - size([worst(150)])
  }
  const header = (): number => encodeAssertion(assertion(signer.nodeId)).length
  const fullDictionary = MAX_NAMES_PER_ASSERTION * (2 + 52) // every entry as long as a node id, with tag and length

  it('fits a million worst-case custody components and a full name dictionary within the frame limit', () => {
    const perComponent = worstComponentBytes('custody')
    expect(perComponent).toBeGreaterThanOrEqual(25)
    expect(header() + fullDictionary + perComponent * MAX_COMPONENTS_PER_ASSERTION).toBeLessThan(MAX_FRAME_BYTES)
  })

  // a directory component's label and owner are dictionary references (fields 8 and 9), so the
  // component bound and the frame bound agree for directory claims too
  it('fits a million worst-case directory components and a full name dictionary within the frame limit', () => {
    const perComponent = worstComponentBytes('directory')
    expect(perComponent).toBeGreaterThanOrEqual(25)
    expect(header() + fullDictionary + perComponent * MAX_COMPONENTS_PER_ASSERTION).toBeLessThan(MAX_FRAME_BYTES)
  })

  it('refuses an unknown verify method, naming the field', () => {
    const bytes = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1)] }))
    // rebuild with method code 9 by patching a valid encoding: decode the structure, re-encode with raw field
    const good = decodeAssertion(bytes)
    expect(good.components[0]?.verifyMethod).toBe('sha256-readback')
    const patched = Uint8Array.from(bytes)
    const methodTag = (4 << 3) | 0
    const at = patched.findIndex((b, i) => b === methodTag && patched[i + 1] === 1)
    patched[at + 1] = 9
    expect(() => decodeAssertion(patched)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].verify_method' }))
  })

  it('refuses a negative run (an int64 -1 on the wire), naming the field', () => {
    const bytes = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 5)] }))
    const runTag = (3 << 3) | 0
    const at = bytes.findIndex((b, i) => b === runTag && bytes[i + 1] === 5)
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    const before = Array.from(bytes.subarray(0, at + 1))
    const after = Array.from(bytes.subarray(at + 2))
    // fix up the component's length prefix (it grew by 9 bytes)
    const compTag = (7 << 3) | 2
    const compAt = before.lastIndexOf(compTag)
    before[compAt + 1] = (before[compAt + 1] ?? 0) + 9
    const patched = Uint8Array.from([...before, ...minusOne, ...after])
    expect(() => decodeAssertion(patched)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].origin_run' }))
  })

  it('refuses a second component for the same destination and origin', () => {
    const bytes = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1), mine('usb', origin, 2)] }))
    expect(() => decodeAssertion(bytes)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[1]' }))
  })

  it('refuses an origin that is not a node id and a dictionary index out of range', () => {
    // a directory key is a valid dictionary entry, but never an origin
    expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', dirKey('cold') as never, 1)] }))))
      .toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].origin_node' }))
    // a plain name may be in the dictionary (as a label), never as an origin
    expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', 'nas' as never, 1)] }))))
      .toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].origin_node' }))
  })

  it('refuses a plain label or a malformed directory key as a destination, naming the dictionary entry or the component', () => {
    // a malformed key is no dictionary entry at all; a well-formed label is one, but never a destination
    const field = expect.stringMatching(/^(names\[0\]|components\[0\]\.destination)$/)
    // the destination is the first name the encoder puts in the dictionary
    for (const bad of ['usb', 'dest-0', 'offsite', 'nas/offsite', 'dir:usb', `dir:${markerFor('usb').slice(1)}`, `dir:${markerFor('usb')}0`, `dir:${markerFor('usb').toUpperCase()}`, `DIR:${markerFor('usb')}`, markerFor('usb')]) {
      expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components: [component(bad, origin, 1, { label: 'usb', owner: signer.nodeId })] }))), bad)
        .toThrow(expect.objectContaining({ name: 'InvalidMessageError', field }))
      // a tombstone is no way around it
      expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { tombstones: [{ destination: bad, originNode: origin }] }))), bad)
        .toThrow(expect.objectContaining({ name: 'InvalidMessageError', field }))
    }
    expect(decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1)] }))).components[0]?.destination).toBe(dirKey('usb'))
  })

  it('refuses a directory component without its label and owner, or with an invalid one, naming the field', () => {
    const one = (over: Parameters<typeof component>[3]): Uint8Array => encodeAssertion(assertion(signer.nodeId, { components: [component(signer.nodeId, origin, 1), component(dirKey('usb'), origin, 1, over)] }))
    for (const over of [{}, { label: 'usb' }, { owner: signer.nodeId }]) {
      expect(() => decodeAssertion(one(over)), JSON.stringify(over)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[1]' }))
    }
    for (const label of ['USB', 'a/b', '.cairn', 'x'.repeat(65), ' usb']) {
      // a label that is no name is refused as a dictionary entry, or at its use
      expect(() => decodeAssertion(one({ label, owner: signer.nodeId })), label).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: expect.stringMatching(/^(names\[\d+\]|components\[1\]\.label)$/) }))
    }
    for (const owner of ['nas', dirKey('usb'), signer.nodeId.slice(0, -1)]) {
      // an owner that is no valid dictionary entry is refused there; a valid entry that is no node id at its use
      expect(() => decodeAssertion(one({ label: 'usb', owner: owner as never })), owner).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: expect.stringMatching(/^(names\[\d+\]|components\[1\]\.owner)$/) }))
    }
    expect(decodeAssertion(one({ label: 'usb', owner: testKey(3).nodeId })).components[1]).toMatchObject({ destination: dirKey('usb'), label: 'usb', owner: testKey(3).nodeId })
  })

  it('refuses a node-id component that carries a label or an owner', () => {
    for (const over of [{ label: 'nas' }, { owner: signer.nodeId }, { label: 'nas', owner: signer.nodeId }]) {
      const bytes = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1), component(signer.nodeId, origin, 1, { verifyMethod: 'peer-sha256', ...over })] }))
      expect(() => decodeAssertion(bytes), JSON.stringify(over)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[1]' }))
    }
  })

  it('refuses timestamps outside 2020..2100 and a zero sequence', () => {
    expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { issuedAtNs: 1e9 })))).toThrow(expect.objectContaining({ field: 'issued_at_ns' }))
    expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { counter: 0 })))).toThrow(expect.objectContaining({ field: 'counter' }))
  })

  it('refuses the removed-and-reserved field numbers (8, version 1\'s freshness, and 9) even under a valid signature: the bytes are not canonical', () => {
    const payload = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1)] }))
    // a version-1 Freshness entry {destination 0, origin_node 1, origin_run 1} as field 8, then field 9
    const withReserved = withExtraField(withExtraField(payload, 8, Uint8Array.from([0x08, 0x00, 0x10, 0x01, 0x18, 0x01])), 9, new Uint8Array(32).fill(1))
    expect(() => decodeAssertion(withReserved)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'assertion' }))
    // the signature verifies over the received bytes first; the canonical check still refuses them
    expect(() => openAssertion(signRaw(withReserved))).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'assertion' }))
    expect(openAssertion(signRaw(payload)).assertion.components).toHaveLength(1)
  })

  it('refuses an exception whose run is above its component\'s origin_run, naming the field', () => {
    const bytes = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 3, { exceptions: [{ path: 'a.jpg', run: 3 }, { path: 'b.jpg', run: 4 }] })] }))
    expect(() => decodeAssertion(bytes)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].exceptions[1].origin_run' }))
    // at the component's run it is a hole of a covered version, and valid
    const atRun = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 4, { exceptions: [{ path: 'b.jpg', run: 4 }] })] }))
    expect(decodeAssertion(atRun).components[0]?.exceptions).toEqual([{ path: 'b.jpg', run: 4 }])
  })

  it('refuses an exception with run 0 or a path from outside the volume', () => {
    expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 3, { exceptions: [{ path: 'a.jpg', run: 0 }] })] }))))
      .toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].exceptions[0].origin_run' }))
    for (const bad of ['../x', '/etc/passwd', '.cairn-history/a', 'a\0b']) {
      expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 3, { exceptions: [{ path: bad, run: 1 }] })] }))), bad)
        .toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].exceptions[0].path' }))
    }
  })

  it('refuses more than MAX_EXCEPTIONS_PER_COMPONENT exceptions in one component, and accepts exactly that many', () => {
    const holes = (n: number): Array<{ path: string, run: number }> => Array.from({ length: n }, (_, i) => ({ path: `f${i}.jpg`, run: 1 }))
    const atLimit = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1, { exceptions: holes(MAX_EXCEPTIONS_PER_COMPONENT) })] }))
    expect(decodeAssertion(atLimit).components[0]?.exceptions).toHaveLength(MAX_EXCEPTIONS_PER_COMPONENT)
    const over = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1, { exceptions: holes(MAX_EXCEPTIONS_PER_COMPONENT + 1) })] }))
    expect(() => decodeAssertion(over)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[0].exceptions' }))
  })

  it('refuses more than MAX_EXCEPTIONS_PER_ASSERTION exceptions over all components', () => {
    const full = Array.from({ length: MAX_EXCEPTIONS_PER_COMPONENT }, (_, i) => ({ path: `f${i}`, run: 1 }))
    const components = Array.from({ length: Math.ceil(MAX_EXCEPTIONS_PER_ASSERTION / MAX_EXCEPTIONS_PER_COMPONENT) }, (_, i) => mine(`d${i}`, origin, 1, { exceptions: full }))
    expect(decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components }))).components).toHaveLength(components.length)
    const over = [...components, mine('one-more', origin, 1, { exceptions: [{ path: 'x', run: 1 }] })]
    expect(() => decodeAssertion(encodeAssertion(assertion(signer.nodeId, { components: over }))))
      .toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: `components[${components.length}].exceptions` }))
  })

  it('refuses a tombstone (origin_run 0) that carries a method, a verification instant, exceptions, a label or an owner', () => {
    // the encoder writes whatever a component says: origin_run 0 with other fields set
    const tomb = (over: Parameters<typeof component>[3]): Uint8Array => encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1), component(dirKey('cold'), origin, 0, { verifyMethod: null, verifiedAtNs: null, ...over })] }))
    expect(decodeAssertion(tomb({})).tombstones).toEqual([{ destination: dirKey('cold'), originNode: origin }])
    for (const over of [{ verifyMethod: 'sha256-readback' as const }, { verifiedAtNs: T0 }, { exceptions: [{ path: 'a', run: 1 }] }, { label: 'cold' }, { owner: signer.nodeId }, { label: 'cold', owner: signer.nodeId }]) {
      expect(() => decodeAssertion(tomb(over)), JSON.stringify(over)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[1]' }))
    }
  })

  it('refuses a tombstone and a claim for the same destination and origin', () => {
    const bytes = encodeAssertion(assertion(signer.nodeId, { components: [mine('usb', origin, 1)], tombstones: [{ destination: dirKey('usb'), originNode: origin }] }))
    expect(() => decodeAssertion(bytes)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'components[1]' }))
  })

  it('refuses plan paths that escape the volume or use reserved names', () => {
    for (const bad of ['../../etc/x', '/etc/passwd', 'a/../b', 'a//b', './a', '.cairn-history/x', 'a/.cairn-destination', 'a\0b', 'a\\b', '']) {
      expect(() => checkPlanPath(bad, 'p'), bad).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    }
    for (const ok of ['a', '2019/p1.jpg', 'with space/ünïcode.txt', '.hidden', 'a..b']) expect(checkPlanPath(ok, 'p')).toBe(ok)
  })

  it('never crashes on arbitrary bytes: openAssertion throws only typed errors, promptly (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      const t = performance.now()
      try {
        openAssertion(bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(CairnError)
      }
      expect(performance.now() - t).toBeLessThan(1000)
    }), { numRuns: 2000 })
  })

  it('never crashes on arbitrary payloads behind a valid signature (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (payload) => {
      try {
        openAssertion(signRaw(payload))
      } catch (err) {
        expect(err).toBeInstanceOf(CairnError)
      }
    }), { numRuns: 300 })
  })
})

describe('envelopes', () => {
  const a = assertion(signer.nodeId, { components: [mine('usb', origin, 3)] })

  it('opens what it seals, with the signer taken from the signing key', () => {
    const opened = openAssertion(sealAssertion(signer, a))
    expect(opened.signer).toBe(signer.nodeId)
    expect(opened.assertion).toEqual(a)
  })

  it('refuses a forged signature', () => {
    const env = decodeEnvelope(sealAssertion(signer, a))
    const forged = encodeEnvelope({ ...env, signature: testKey(9).sign(env.payload) })
    expect(() => openAssertion(forged)).toThrow(expect.objectContaining({ name: 'InvalidSignatureError', signer: signer.nodeId }))
  })

  it('refuses a payload whose signer field names another node than the signing key', () => {
    const lying = signRaw(encodeAssertion(assertion(testKey(2).nodeId)), signer)
    expect(() => openAssertion(lying)).toThrow(expect.objectContaining({ name: 'InvalidMessageError', field: 'signer' }))
  })

  it('refuses an unknown payload type', () => {
    const env = decodeEnvelope(sealAssertion(signer, a))
    const other = encodeEnvelope({ ...env, payloadType: new TextEncoder().encode('/other/1') })
    expect(() => openAssertion(other)).toThrow(expect.objectContaining({ name: 'UnknownPayloadTypeError' }))
  })

  it('encodes the signing buffer with uvarint lengths', () => {
    const buf = signingBuffer(new Uint8Array([1]), new Uint8Array(200).fill(2), new Uint8Array([3]))
    expect(Array.from(buf.subarray(0, 5))).toEqual([1, 1, ...varintBytes(200), 2])
  })
})
