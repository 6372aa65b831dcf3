/**
 * Every decoder refuses bytes that are not the canonical encoding (protocol/README.md,
 * "Canonical encoding"). Inverts ../shared/audit/evidence-path/decode-edges.mjs (payload varints
 * above 2^32 − 1 were truncated, not refused) and proves that the one-pass walk of
 * src/protocol/canonical.ts gives the verdict of the rule's reference: decode with protons,
 * re-encode, compare, and check ranges. (The generated codecs are imported here only as that
 * reference.)
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkCanonical, type MessageSchema } from '../../src/protocol/canonical.js'
import { openAssertion } from '../../src/protocol/envelope.js'
import { MAX_SEQUENCE_COUNTER } from '../../src/protocol/limits.js'
import { Status } from '../../src/protocol/messages.js'
import * as pb from '../../src/protocol/pb/cairn.js'
import * as schema from '../../src/protocol/schema.js'
import {
  decodeAssertion, decodeDurabilityRequest, decodeDurabilityResponse, decodeEnvelope, decodeHold, decodeHoldRequest, decodeHoldResponse, decodePlanChunk,
  decodePlanReply, decodePushOffer, decodePushResult, encodeAssertion, encodeDurabilityRequest, encodeDurabilityResponse, encodeHold, encodeHoldRequest,
  encodeHoldResponse, encodePlanChunk, encodePlanReply, encodePushOffer, encodePushResult
} from '../../src/protocol/wire.js'
import { assertion, component, dirComponent, signRaw, T0, TEST_EPOCH } from '../helpers/assertions.js'
import { testKey } from '../helpers/nodes.js'

const key = testKey(7)
const origin = testKey(2).nodeId
const te = new TextEncoder()

// ---- hand-built protobuf (as decode-edges.mjs builds it) --------------------------------------
const varint = (v: bigint | number): number[] => {
  let n = BigInt(v)
  const out: number[] = []
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80)
    n >>= 7n
  }
  out.push(Number(n))
  return out
}
const str = (field: number, s: string): number[] => { const b = [...te.encode(s)]; return [(field << 3) | 2, ...varint(b.length), ...b] }
const bytesField = (field: number, b: number[]): number[] => [(field << 3) | 2, ...varint(b.length), ...b]
const u = (field: number, n: bigint | number): number[] => [(field << 3), ...varint(n)]
const f64 = (field: number, n: bigint): number[] => { const b: number[] = []; let v = n; for (let i = 0; i < 8; i++) { b.push(Number(v & 0xffn)); v >>= 8n } return [(field << 3) | 1, ...b] }
const T = BigInt(T0)
const epochBytes = [...Buffer.from(TEST_EPOCH, 'hex')]

/** A canonical Assertion payload (fields in order: 1, 2, 4, 6, 7, 10, 11) with a hand-set counter and component. */
function payload ({ counter = 1n as bigint | number, comp = null as number[] | null } = {}): Uint8Array {
  const p = [...str(1, key.nodeId), ...str(2, 'photos'), ...f64(4, T), ...str(6, key.nodeId), ...str(6, origin)]
  if (comp !== null) p.push(...bytesField(7, comp))
  p.push(...bytesField(10, epochBytes), ...u(11, counter))
  return Uint8Array.from(p)
}
/** A custody component: destination 0 (the signer), origin 1, run 5. */
const comp = ({ method = 2n as bigint | number, dest = 0n as bigint | number, originIndex = 1n as bigint | number } = {}): number[] =>
  [...(dest === 0n ? [] : u(1, dest)), ...u(2, originIndex), ...u(3, 5), ...u(4, method), ...f64(5, T - 1_000_000_000n)]

function refusal (fn: () => unknown): { name?: string, field?: string } {
  try {
    fn()
  } catch (err) {
    return err as { name?: string, field?: string }
  }
  return {}
}

describe('canonical encoding', () => {
  it('accepts a hand-built canonical payload under a valid signature (the baseline)', () => {
    const opened = openAssertion(signRaw(payload({ comp: comp() }), key))
    expect(opened.assertion).toMatchObject({ counter: 1, epoch: TEST_EPOCH, components: [{ destination: key.nodeId, originNode: origin, originRun: 5, verifyMethod: 'peer-sha256' }] })
    expect(decodeAssertion(payload({ counter: MAX_SEQUENCE_COUNTER })).counter).toBe(MAX_SEQUENCE_COUNTER)
  })

  it('refuses varints above their field\'s range instead of truncating them, naming the field', () => {
    const cases: Array<[string, Uint8Array, string]> = [
      ['counter = 2^53', payload({ counter: 2n ** 53n }), 'counter'],
      ['counter = 2^64 - 1', payload({ counter: 2n ** 64n - 1n }), 'counter'],
      ['verify_method = 2^32 + 2 (was read as 2)', payload({ comp: comp({ method: 2n ** 32n + 2n }) }), 'components[0].verify_method'],
      ['destination index = 2^32 (was read as 0)', payload({ comp: comp({ dest: 2n ** 32n }) }), 'components[0].destination'],
      ['origin index = 2^32 + 1 (was read as 1)', payload({ comp: comp({ originIndex: 2n ** 32n + 1n }) }), 'components[0].origin_node']
    ]
    for (const [label, bytes, field] of cases) {
      expect(refusal(() => openAssertion(signRaw(bytes, key))), label).toMatchObject({ name: 'InvalidMessageError', field })
    }
    // a status of 2^32 + 1 would be read as 1 (OK), a failure reason 2^32 + 4 as 4
    expect(refusal(() => decodeDurabilityResponse(Uint8Array.from(u(1, 2n ** 32n + 1n))))).toMatchObject({ name: 'InvalidMessageError', field: 'status' })
    expect(refusal(() => decodePushResult(Uint8Array.from([...u(1, 9), ...bytesField(3, u(2, 2n ** 32n + 4n))]), 1))).toMatchObject({ name: 'InvalidMessageError', field: 'failures[0].reason' })
  })

  it('refuses every other non-canonical form: non-minimal varints, explicit defaults, order, repeats, unknown fields, packed scalars, bools other than 1, bad UTF-8', () => {
    const good = [...str(1, key.nodeId), ...str(2, 'photos'), ...f64(4, T)]
    const tail = [...bytesField(10, epochBytes), ...u(11, 1)]
    const cases: Array<[string, number[], string]> = [
      ['counter as a 2-byte varint', [...good, ...bytesField(10, epochBytes), 11 << 3, 0x81, 0x00], 'counter'],
      ['an explicit receipt_for 0', [...good, ...u(5, 0), ...tail], 'receipt_for'],
      ['volume before signer', [...str(2, 'photos'), ...str(1, key.nodeId), ...f64(4, T), ...tail], 'signer'],
      ['signer twice', [...str(1, key.nodeId), ...good, ...tail], 'signer'],
      ['the reserved field 3 (seq)', [...str(1, key.nodeId), ...str(2, 'photos'), ...u(3, 9), ...f64(4, T), ...tail], 'assertion'],
      ['a 7-byte epoch', [...good, ...bytesField(10, epochBytes.slice(1)), ...u(11, 1)], 'epoch'],
      ['a volume that is not UTF-8', [...str(1, key.nodeId), ...bytesField(2, [0x70, 0xc0, 0xaf]), ...f64(4, T), ...tail], 'volume'],
      ['a surrogate encoded in UTF-8', [...str(1, key.nodeId), ...bytesField(2, [0x70, 0xed, 0xa0, 0x80]), ...f64(4, T), ...tail], 'volume'],
      ['a tag as a non-minimal varint', [...good, 0xd2, 0x00, 8, ...epochBytes, ...u(11, 1)], 'assertion']
    ]
    for (const [label, bytes, field] of cases) {
      expect(refusal(() => decodeAssertion(Uint8Array.from(bytes))), label).toMatchObject({ name: 'InvalidMessageError', field })
    }
    // packed `need` (one length-delimited field) instead of one tag per element
    expect(refusal(() => decodePlanReply(Uint8Array.from([...u(1, 1), ...bytesField(2, [0, 1])]), 5))).toMatchObject({ name: 'InvalidMessageError', field: 'need[0]' })
    expect(decodePlanReply(Uint8Array.from([...u(1, 1), ...u(2, 0), ...u(2, 1)]), 5).need).toEqual([0, 1])
    // a bool 2
    expect(refusal(() => decodePlanChunk(Uint8Array.from(u(2, 2)), 1))).toMatchObject({ name: 'InvalidMessageError', field: 'last' })
    // an envelope with a field out of order
    expect(refusal(() => decodeEnvelope(Uint8Array.from([...bytesField(2, [1]), ...bytesField(1, [1])])))).toMatchObject({ name: 'InvalidMessageError', field: 'public_key' })
  })

  it('names every field of protocol/cairn.proto in its schema, with the same number and type', () => {
    const proto = readFileSync(new URL('../../protocol/cairn.proto', import.meta.url), 'utf8').replace(/\/\/.*$/gm, '')
    const fromProto = new Map<string, string[]>()
    for (const m of proto.matchAll(/message\s+(\w+)\s*\{([^}]*)\}/g)) {
      const fields = [...(m[2] as string).matchAll(/^\s*(repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+)/gm)]
        .filter(f => f[2] !== 'reserved')
        .map(f => `${f[4] as string} ${f[3] as string} ${f[1] === undefined ? '' : 'repeated '}${f[2] as string}`)
      fromProto.set(m[1] as string, fields.sort())
    }
    const kindOf = (k: string, s?: MessageSchema): string => k === 'message' ? (s as MessageSchema).name : k
    const fromSchema = new Map(schema.SCHEMAS.map(s => [s.name, s.fields.map(f => `${f.no} ${f.name} ${f.repeated === true ? 'repeated ' : ''}${kindOf(f.kind, f.schema)}`).sort()]))
    expect(fromSchema).toEqual(fromProto)
  })
})

// ---- the walk against the reference ------------------------------------------------------------

interface Codec { decode: (b: Uint8Array) => unknown, encode: (m: never) => Uint8Array }
const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/** The rule's reference: protons decodes, re-encodes to the same bytes, strings are well-formed, varints within the schema's bounds. */
function reference (codec: Codec, s: MessageSchema, bytes: Uint8Array): boolean {
  let m: unknown
  try {
    m = codec.decode(bytes)
    if (!Buffer.from(codec.encode(m as never)).equals(bytes)) return false
  } catch {
    return false
  }
  const inRange = (msg: Record<string, unknown>, sc: MessageSchema): boolean => sc.fields.every(f => {
    const v = msg[camel(f.name)]
    const values = f.repeated === true ? v as unknown[] : [v]
    if (f.maxCount !== undefined && values.length > f.maxCount) return false
    return values.every(x => {
      if (f.kind === 'message') return inRange(x as Record<string, unknown>, f.schema as MessageSchema)
      if (f.kind === 'string') return Buffer.from(x as string, 'utf8').toString('utf8') === x
      if (f.kind === 'bytes') return f.exactBytes === undefined || (x as Uint8Array).length === 0 || (x as Uint8Array).length === f.exactBytes
      if (f.kind === 'uint32' || f.kind === 'uint64') return (x as number) <= (f.max ?? (f.kind === 'uint32' ? 0xffff_ffff : Number.MAX_SAFE_INTEGER))
      return true
    })
  })
  return inRange(m as Record<string, unknown>, s)
}

function walkAccepts (s: MessageSchema, bytes: Uint8Array): boolean {
  try {
    checkCanonical(bytes, s, 'x')
    return true
  } catch (err) {
    if ((err as { name?: string }).name !== 'InvalidMessageError') throw err
    return false
  }
}

/** A small seeded PRNG (mulberry32), so every run mutates the same way. */
function prng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function mutate (bytes: Uint8Array, rnd: () => number): Uint8Array {
  const b = [...bytes]
  const at = Math.floor(rnd() * (b.length + 1))
  const byte = (): number => [0, 1, 2, 0x7f, 0x80, 0xff, 0x08, 0x10, 0x12, 0x1a, 0x22, 0xed, 0xc0][Math.floor(rnd() * 13)] ?? Math.floor(rnd() * 256)
  switch (Math.floor(rnd() * 7)) {
    case 0: if (b.length > 0) b[Math.min(at, b.length - 1)] = byte(); break
    case 1: b.splice(at, 0, byte()); break
    case 2: b.splice(at, 1); break
    case 3: { const n = 1 + Math.floor(rnd() * 8); b.splice(at, 0, ...b.slice(Math.max(0, at - n), at)); break }
    case 4: b.splice(at, 0, 0x80 | Math.floor(rnd() * 128)); break
    case 5: b.push(Math.floor(rnd() * 16) << 3 | [0, 1, 2, 5][Math.floor(rnd() * 4)] as number, ...varint(Math.floor(rnd() * 300))); break
    default: { if (b.length > 1) { const i = Math.min(at, b.length - 2); const t = b[i] as number; b[i] = b[i + 1] as number; b[i + 1] = t } }
  }
  return Uint8Array.from(b)
}

const dir = dirComponent('usb', key.nodeId, origin, 9, { exceptions: [{ path: 'a/b.jpg', run: 3 }, { path: 'é.png', run: 9 }], floorRun: 2 })
const samples: Array<[MessageSchema, Codec, Uint8Array[]]> = [
  [schema.ASSERTION, pb.Assertion as unknown as Codec, [
    encodeAssertion(assertion(key.nodeId, { counter: 2 ** 40, receiptFor: 2 ** 31 + 1, components: [dir, component(key.nodeId, origin, 5, { verifyMethod: 'peer-sha256', verifiedAtNs: null })], tombstones: [{ destination: testKey(3).nodeId, originNode: origin }] })),
    encodeAssertion(assertion(key.nodeId))
  ]],
  [schema.ENVELOPE, pb.Envelope as unknown as Codec, [signRaw(encodeAssertion(assertion(key.nodeId)), key)]],
  [schema.DURABILITY_REQUEST, pb.DurabilityRequest as unknown as Codec, [encodeDurabilityRequest({ volume: 'photos' })]],
  [schema.DURABILITY_RESPONSE, pb.DurabilityResponse as unknown as Codec, [encodeDurabilityResponse({ status: Status.OK, envelope: Uint8Array.from([1, 2, 3]), message: 'ok' })]],
  [schema.PUSH_OFFER, pb.PushOffer as unknown as Codec, [encodePushOffer({ volume: 'photos', pusherRun: 2 ** 33, entries: 3, totalBytes: 2 ** 40, origins: [origin, key.nodeId] })]],
  [schema.PLAN_CHUNK, pb.PlanChunk as unknown as Codec, [encodePlanChunk({ entries: [{ path: 'a/b', hash: new Uint8Array(32).fill(3), size: 0, mtimeNs: T0, originIndex: 1, originRun: 4 }, { path: 'c', hash: new Uint8Array(32), size: 2 ** 35, mtimeNs: 0, originIndex: 0, originRun: 1 }], last: true })]],
  [schema.PLAN_REPLY, pb.PlanReply as unknown as Codec, [encodePlanReply({ status: Status.OK, need: [0, 1, 300, 70000], message: '' })]],
  [schema.PUSH_RESULT, pb.PushResult as unknown as Codec, [encodePushResult({ status: Status.PARTIAL, receipt: Uint8Array.from([9]), failures: [{ entry: 0, reason: 1 }, { entry: 200, reason: 4 }], message: 'partial', filesWritten: 5, bytesWritten: 2 ** 34 })]],
  [schema.HOLD_REQUEST, pb.HoldRequest as unknown as Codec, [encodeHoldRequest({ volume: 'photos', durationMs: 60_000, nonce: new Uint8Array(16).fill(5), entries: [{ path: 'x/y', hash: new Uint8Array(32).fill(1) }], placedAt: ['dir:' + '0'.repeat(32)] })]],
  [schema.HOLD_RESPONSE, pb.HoldResponse as unknown as Codec, [encodeHoldResponse({ status: Status.PARTIAL, envelope: Uint8Array.from([4]), refused: [{ entry: 0, reason: 2 }, { entry: 3, reason: 1 }], message: '' })]],
  [schema.HOLD, pb.Hold as unknown as Codec, [encodeHold({ signer: key.nodeId, holder: origin, volume: 'photos', issuedAtNs: T0, expiresAtNs: T0 + 60e9, nonce: new Uint8Array(16).fill(5), granted: 1, grantedSha256: new Uint8Array(32).fill(8) })]]
]

describe('the canonical walk', () => {
  it('gives the verdict of decode, re-encode and compare on 2,000 seeded mutations of every message', () => {
    const rnd = prng(14)
    let accepted = 0
    for (const [s, codec, valid] of samples) {
      for (const v of valid) expect(walkAccepts(s, v), `${s.name} sample`).toBe(true)
      for (let i = 0; i < 2000; i++) {
        let bytes = valid[i % valid.length] as Uint8Array
        const rounds = 1 + Math.floor(rnd() * 3)
        for (let r = 0; r < rounds; r++) bytes = mutate(bytes, rnd)
        const want = reference(codec, s, bytes)
        expect(walkAccepts(s, bytes), `${s.name} ${Buffer.from(bytes).toString('hex')}`).toBe(want)
        if (want) accepted++
      }
    }
    // the mutations reach both verdicts
    expect(accepted).toBeGreaterThan(100)
  })

  it('is applied by every decoder', () => {
    const extra = (b: Uint8Array): Uint8Array => Uint8Array.from([...b, 0xf8, 0x07, 0x01]) // unknown field 127
    const decoders: Array<[string, () => unknown]> = [
      ['envelope', () => decodeEnvelope(extra(samples[1]?.[2][0] as Uint8Array))],
      ['assertion', () => decodeAssertion(extra(encodeAssertion(assertion(key.nodeId))))],
      ['durability request', () => decodeDurabilityRequest(extra(encodeDurabilityRequest({ volume: 'photos' })))],
      ['durability response', () => decodeDurabilityResponse(extra(encodeDurabilityResponse({ status: Status.OK, envelope: null, message: '' })))],
      ['push offer', () => decodePushOffer(extra(encodePushOffer({ volume: 'photos', pusherRun: 1, entries: 0, totalBytes: 0, origins: [] })))],
      ['plan chunk', () => decodePlanChunk(extra(encodePlanChunk({ entries: [], last: true })), 0)],
      ['plan reply', () => decodePlanReply(extra(encodePlanReply({ status: Status.OK, need: [], message: '' })), 0)],
      ['push result', () => decodePushResult(extra(encodePushResult({ status: Status.OK, receipt: null, failures: [], message: '', filesWritten: 0, bytesWritten: 0 })), 0)],
      ['hold request', () => decodeHoldRequest(extra(encodeHoldRequest({ volume: 'photos', durationMs: 1, nonce: new Uint8Array(16), entries: [{ path: 'a', hash: new Uint8Array(32) }] })))],
      ['hold response', () => decodeHoldResponse(extra(encodeHoldResponse({ status: Status.OK, envelope: null, refused: [], message: '' })), 0)],
      ['hold', () => decodeHold(extra(samples[10]?.[2][0] as Uint8Array))]
    ]
    for (const [what, fn] of decoders) expect(refusal(fn), what).toMatchObject({ name: 'InvalidMessageError', field: what })
  })
})
