/**
 * What the fuzzer (test/fuzz) found in the decoders, each pinned by the guarantee it broke.
 * The raw inputs are built with the fuzzer's table-driven reference writer, which can write
 * what cairn's encoders never would (invalid UTF-8, a fixed64 that is not a double).
 */
import { describe, expect, it } from 'vitest'
import { InvalidMessageError, InvalidNodeIdError } from '../../src/errors.js'
import { isNodeId, nodeIdFromPublicKey, parseNodeId } from '../../src/identity/node-id.js'
import { MAX_COMPONENTS_PER_ASSERTION, MAX_PLAN_ENTRIES } from '../../src/protocol/limits.js'
import { decodeAssertion, decodeAssertionFiltered, decodeDurabilityResponse, decodeVerifyReply, encodeAssertion, encodeVerifyReply, decodeHold, decodePlanChunk, decodePlanReply, decodePushResult, encodeDurabilityResponse, encodeHold } from '../../src/protocol/wire.js'
import { base58Decode, base58Encode, MAX_TIME, MIN_TIME } from '../fuzz/reference/rules.js'
import { ASSERTION, HOLD, PLAN_CHUNK } from '../fuzz/reference/tables.js'
import { encodeDecoded, readMessage } from '../fuzz/reference/wire-reader.js'
import { assertion, component } from '../helpers/assertions.js'
import { testKey } from '../helpers/nodes.js'

describe('decoders, from fuzz findings', () => {
  it('refuses a second spelling of a node id (the key protobuf with its fields swapped): one key, one node id', () => {
    const key = testKey(1)
    const raw = base58Decode(key.nodeId) as Uint8Array
    // identity multihash of { data: key, type: Ed25519 } instead of { type: Ed25519, data: key }
    const alias = base58Encode(Uint8Array.from([0x00, 0x24, 0x12, 0x20, ...raw.subarray(6), 0x08, 0x01]))
    expect(alias).not.toBe(key.nodeId)
    expect(() => parseNodeId(alias)).toThrow(InvalidNodeIdError)
    expect(isNodeId(alias)).toBe(false)
    expect(nodeIdFromPublicKey(key.publicKey)).toBe(key.nodeId)
  })

  it('refuses a plan path whose bytes are not UTF-8 (it decodes to a lone surrogate, which no file name can hold)', () => {
    const entry = { path: Uint8Array.from([0x61, 0x2f, 0xed, 0xa0, 0x80]), hash: new Uint8Array(32), size: 1, mtime_ns: 0n, origin_node: 0, origin_run: 1 }
    const bytes = encodeDecoded({ entries: [entry], last: true }, PLAN_CHUNK)
    expect(() => decodePlanChunk(bytes, 1)).toThrow(InvalidMessageError)
    try { decodePlanChunk(bytes, 1) } catch (err) { expect((err as InvalidMessageError).field).toBe('entries[0].path') }
  })

  it('cuts a long status message without splitting a surrogate pair, so the peer can decode what it is sent', () => {
    const sent = encodeDurabilityResponse({ status: 3, envelope: null, message: `${'x'.repeat(255)}\u{1F4F7}and more` })
    const got = decodeDurabilityResponse(sent)
    expect(got.message).toBe('x'.repeat(255))
    expect(decodeDurabilityResponse(encodeDurabilityResponse(got))).toEqual(got)
  })

  it('checks an instant as the double it is kept as: a hold expiring a few ns before 2100 is refused, not accepted as 2100 itself', () => {
    const hold = { signer: testKey(1).nodeId, holder: testKey(2).nodeId, volume: 'photos', issued_at_ns: MIN_TIME, expires_at_ns: MAX_TIME - 1n, nonce: new Uint8Array(16), granted: 1, granted_sha256: new Uint8Array(32) }
    const bytes = encodeDecoded(hold, HOLD)
    try {
      const decoded = decodeHold(bytes)
      // whatever is accepted must be accepted again once re-encoded
      expect(() => decodeHold(encodeHold(decoded))).not.toThrow()
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidMessageError)
      expect((err as InvalidMessageError).field).toBe('expires_at_ns')
    }
    expect(() => decodeHold(bytes)).toThrow(InvalidMessageError)
  })

  it('refuses a file mtime of 2^63 ns or more (protons reads such a fixed64 as negative)', () => {
    const entry = { path: 'a', hash: new Uint8Array(32), size: 1, mtime_ns: 2n ** 63n, origin_node: 0, origin_run: 1 }
    expect(() => decodePlanChunk(encodeDecoded({ entries: [entry], last: true }, PLAN_CHUNK), 1)).toThrow(InvalidMessageError)
  })

  // The fuzzer's 1,000,001-failure push results cost ~80 MiB and 0.76 s each when protons built
  // every element before its limit threw. The field named in the refusal is the proof of where
  // it was refused: the canonical pass names the repeated field, protons' MaxLengthError only
  // the message ('push result').
  it('refuses a repeated field past its count limit in the canonical pass, before any element is built', () => {
    const repeat = (tag: number, element: number[], n: number): Uint8Array => {
      const one = [tag, ...element]
      const out = new Uint8Array(one.length * n)
      for (let i = 0; i < n; i++) out.set(one, i * one.length)
      return out
    }
    const field = (fn: () => unknown): string | undefined => {
      try { fn() } catch (err) { return err instanceof InvalidMessageError ? err.field : `not InvalidMessageError: ${String(err)}` }
      return undefined
    }
    // failures = 3 (empty FileFailure messages), need = 2, components = 7 (empty Component messages)
    expect(field(() => decodePushResult(repeat(0x1a, [0], MAX_PLAN_ENTRIES + 1), MAX_PLAN_ENTRIES))).toBe('failures')
    expect(field(() => decodePlanReply(repeat(0x10, [1], MAX_PLAN_ENTRIES + 1), MAX_PLAN_ENTRIES))).toBe('need')
    expect(field(() => decodeAssertion(repeat(0x3a, [0], MAX_COMPONENTS_PER_ASSERTION + 1)))).toBe('components')
  })

  // fuzz seed 2, input 41276: volume EF BB BF 61 was accepted as "a" (a TextDecoder drops a
  // leading BOM), so bytes that are not the encoding of what they decode to were accepted
  it('keeps a leading byte-order mark in an assertion string: a volume, signer or name spelled with one is refused, not read as the same value', () => {
    const key = testKey(1)
    const plain = readMessage(encodeAssertion(assertion(key.nodeId, { volume: 'photos', components: [component(key.nodeId, key.nodeId, 3)] })), ASSERTION, true)
    const bom = (s: string): Uint8Array => Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from(s)])
    const names = plain.names as string[]
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ volume: bom('photos') }, 'volume'],
      [{ signer: bom(key.nodeId) }, 'signer'],
      [{ names: [bom(names[0] as string), ...names.slice(1)] }, 'names[0]']
    ]
    for (const [change, field] of cases) {
      const bytes = encodeDecoded({ ...plain, ...change }, ASSERTION)
      for (const decode of [() => decodeAssertion(bytes), () => decodeAssertionFiltered(bytes, () => 'dropped', 4)]) {
        let refused: unknown
        try { decode() } catch (err) { refused = err }
        expect(refused).toBeInstanceOf(InvalidMessageError)
        expect((refused as InvalidMessageError).field).toBe(field)
      }
    }
  })

  // fuzz seed 3, input 10486 (verify-reply): a final INTERNAL frame naming run 3,525,768 was
  // accepted. protocol/README.md: a refusal carries no envelope and run 0 — a run ≥ 1 exactly
  // when the status is OK or PARTIAL — so a requester never reads a refusal as naming a run of the peer's.
  it('refuses a verify refusal that names a run: only an OK or PARTIAL answer names the peer\'s run', () => {
    const found = Buffer.from('0801100620acd7cba0015088a191ac03', 'hex') // done, status 6, checked, run
    let refused: unknown
    try { decodeVerifyReply(found) } catch (err) { refused = err }
    expect(refused).toBeInstanceOf(InvalidMessageError)
    expect((refused as InvalidMessageError).field).toBe('run')
    for (const status of [2, 3, 4, 5, 6, 7, 8] as const) {
      const bytes = encodeVerifyReply({ done: true, status, message: '', checked: 0, bytesChecked: 0, mismatched: 0, missing: 0, problems: [], envelope: null, run: 1 })
      expect(() => decodeVerifyReply(bytes)).toThrow(InvalidMessageError)
      expect(decodeVerifyReply(encodeVerifyReply({ done: true, status, message: '', checked: 0, bytesChecked: 0, mismatched: 0, missing: 0, problems: [], envelope: null, run: 0 })).run).toBe(0)
    }
  })
})
