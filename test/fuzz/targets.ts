/**
 * The synchronous decoders under test, each with its generator (a valid message from cairn's
 * encoders, then mutated), its reference verdict and its re-encoder.
 */
import { InvalidMessageError, InvalidSignatureError, OversizeMessageError, UnknownPayloadTypeError } from '../../src/errors.js'
import { ASSERTION_DOMAIN, ASSERTION_PAYLOAD_TYPE, openAssertion } from '../../src/protocol/envelope.js'
import { HOLD_DOMAIN, HOLD_PAYLOAD_TYPE, openHold } from '../../src/protocol/hold-envelope.js'
import * as wire from '../../src/protocol/wire.js'
import * as corpus from './corpus.js'
import { mutateBytes, mutateValue, mutateWire, oversize, randomBytes } from './mutate.js'
import type { FuzzRng } from './prng.js'
import * as T from './reference/tables.js'
import { envelopeVerdict, protoVerdict, type ReferenceOptions, type Verdict } from './reference/verdict.js'
import { encodeDecoded as encodeMessageOf, readMessage } from './reference/wire-reader.js'

export interface Case {
  target: string
  bytes: Uint8Array
  ctx: T.Ctx
  /** A text input (invites), instead of bytes. */
  text?: string
}

export interface SyncTarget {
  name: string
  kind: 'sync'
  generate: (r: FuzzRng) => Case
  /** The code under test. */
  decode: (c: Case) => unknown
  /** Error classes that mean "refused" (anything else thrown is a crash). */
  refusals: ReadonlyArray<abstract new (...args: any[]) => Error>
  reference: (c: Case, opts: ReferenceOptions) => Verdict
  /** The accepted value, encoded again by cairn's encoder. */
  reencode: (value: any, c: Case) => Uint8Array | string
  /** The part of an accepted value that must survive the re-encoding unchanged (default: all of it). */
  comparable?: (value: any) => unknown
  /** Another decode of the same input that must agree with this one: null, or what differs (a `scope` finding). */
  consistent?: (c: Case) => string | null
}

const DECODE_ERRORS = [InvalidMessageError, OversizeMessageError]
const OPEN_ERRORS = [InvalidMessageError, OversizeMessageError, InvalidSignatureError, UnknownPayloadTypeError]

function context (r: FuzzRng): T.Ctx {
  return { originCount: r.pick([0, 1, 2, 3, 5, 1024]), planEntries: r.pick([0, 1, 2, 7, 100, 8192, 1_000_000]), requested: r.pick([0, 1, 3, 7, 100, 65_536]) }
}

/** Mutates a valid encoding of `spec`: values (re-encoded canonically), then wire structure, then bytes. */
export function mutateMessage (r: FuzzRng, bytes: Uint8Array, spec: T.RuleMessage): Uint8Array {
  let out = bytes
  if (r.chance(0.0005)) return oversize(r, out, spec)
  if (r.chance(0.5)) {
    try {
      let d = readMessage(out, spec as T.TopMessage, false)
      const n = r.int(1, 3)
      for (let i = 0; i < n; i++) d = mutateValue(r, d, spec)
      out = encodeMessageOf(d, spec)
    } catch {}
  }
  if (r.chance(0.5)) {
    const n = r.int(1, 3)
    for (let i = 0; i < n; i++) out = mutateWire(r, out, spec)
  }
  if (r.chance(0.2)) out = mutateBytes(r, out)
  return out
}

function protoTarget (name: string, spec: T.TopMessage, base: (r: FuzzRng, ctx: T.Ctx) => Uint8Array, decode: (b: Uint8Array, ctx: T.Ctx) => unknown, reencode: (v: any) => Uint8Array): SyncTarget {
  return {
    name,
    kind: 'sync',
    generate: (r) => {
      const ctx = context(r)
      const bytes = r.chance(0.05) ? randomBytes(r) : mutateMessage(r, base(r, ctx), spec)
      return { target: name, bytes, ctx }
    },
    decode: (c) => decode(c.bytes, c.ctx),
    refusals: DECODE_ERRORS,
    reference: (c, opts) => protoVerdict(spec, c.bytes, c.ctx, opts),
    reencode: (v) => reencode(v)
  }
}

function envelopeOf (r: FuzzRng, domain: string, type: string, payloadSpec: T.TopMessage, payload: (r: FuzzRng, key: corpus.FuzzKey) => Uint8Array): Uint8Array {
  if (r.chance(0.05)) return randomBytes(r)
  const key = r.pick(corpus.KEYS)
  const signer = r.chance(0.05) ? r.pick(corpus.KEYS) : key
  let p = payload(r, key)
  if (r.chance(0.5)) p = mutateMessage(r, p, payloadSpec)
  const wrongDomain = r.chance(0.03)
  const wrongType = r.chance(0.03)
  let env = corpus.seal(signer, wrongDomain ? (domain === ASSERTION_DOMAIN ? HOLD_DOMAIN : ASSERTION_DOMAIN) : domain, wrongType ? r.pick([type === ASSERTION_PAYLOAD_TYPE ? HOLD_PAYLOAD_TYPE : ASSERTION_PAYLOAD_TYPE, '', type + 'x']) : type, p)
  if (r.chance(0.3)) env = mutateMessage(r, env, T.ENVELOPE)
  return env
}

const noCtx: T.Ctx = { originCount: 0, planEntries: 0, requested: 0 }

export const SYNC_TARGETS: readonly SyncTarget[] = [
  protoTarget('envelope', T.ENVELOPE, (r) => corpus.seal(r.pick(corpus.KEYS), ASSERTION_DOMAIN, ASSERTION_PAYLOAD_TYPE, wire.encodeAssertion(corpus.assertion(r))), (b) => wire.decodeEnvelope(b), (v) => wire.encodeEnvelope(v)),
  {
    name: 'open-assertion',
    kind: 'sync',
    generate: (r) => ({ target: 'open-assertion', bytes: envelopeOf(r, ASSERTION_DOMAIN, ASSERTION_PAYLOAD_TYPE, T.ASSERTION, (rr, key) => wire.encodeAssertion(corpus.assertion(rr, key))), ctx: noCtx }),
    decode: (c) => openAssertion(c.bytes),
    refusals: OPEN_ERRORS,
    reference: (c, opts) => envelopeVerdict(c.bytes, ASSERTION_DOMAIN, ASSERTION_PAYLOAD_TYPE, T.ASSERTION, c.ctx, opts),
    // the signed payload is never re-encoded: the envelope is, around the bytes as received
    reencode: (_v, c) => wire.encodeEnvelope(wire.decodeEnvelope(c.bytes)),
    comparable: (v: ReturnType<typeof openAssertion>) => ({ signer: v.signer, assertion: v.assertion })
  },
  {
    name: 'open-hold',
    kind: 'sync',
    generate: (r) => ({ target: 'open-hold', bytes: envelopeOf(r, HOLD_DOMAIN, HOLD_PAYLOAD_TYPE, T.HOLD, (rr, key) => wire.encodeHold(corpus.hold(rr, key))), ctx: noCtx }),
    decode: (c) => openHold(c.bytes),
    refusals: OPEN_ERRORS,
    reference: (c, opts) => envelopeVerdict(c.bytes, HOLD_DOMAIN, HOLD_PAYLOAD_TYPE, T.HOLD, c.ctx, opts),
    reencode: (_v, c) => wire.encodeEnvelope(wire.decodeEnvelope(c.bytes))
  },
  protoTarget('assertion', T.ASSERTION, (r) => wire.encodeAssertion(corpus.assertion(r)), (b) => wire.decodeAssertion(b), (v) => wire.encodeAssertion(v)),
  protoTarget('durability-request', T.DURABILITY_REQUEST, (r) => wire.encodeDurabilityRequest({ volume: corpus.name(r) }), (b) => wire.decodeDurabilityRequest(b), (v) => wire.encodeDurabilityRequest(v)),
  protoTarget('durability-response', T.DURABILITY_RESPONSE, (r) => wire.encodeDurabilityResponse({ status: corpus.status(r), envelope: r.chance(0.5) ? null : r.bytes(r.int(1, 80)), message: corpus.message(r) }), (b) => wire.decodeDurabilityResponse(b), (v) => wire.encodeDurabilityResponse(v)),
  protoTarget('push-offer', T.PUSH_OFFER, (r) => wire.encodePushOffer(corpus.pushOffer(r)), (b) => wire.decodePushOffer(b), (v) => wire.encodePushOffer(v)),
  protoTarget('plan-chunk', T.PLAN_CHUNK, (r, ctx) => wire.encodePlanChunk(corpus.planChunk(r, ctx.originCount)), (b, ctx) => wire.decodePlanChunk(b, ctx.originCount), (v) => wire.encodePlanChunk(v)),
  protoTarget('plan-reply', T.PLAN_REPLY, (r, ctx) => wire.encodePlanReply({ status: corpus.status(r), need: corpus.increasing(r, ctx.planEntries, 8), message: corpus.message(r) }), (b, ctx) => wire.decodePlanReply(b, ctx.planEntries), (v) => wire.encodePlanReply(v)),
  protoTarget('push-result', T.PUSH_RESULT, (r, ctx) => wire.encodePushResult(corpus.pushResult(r, ctx.planEntries)), (b, ctx) => wire.decodePushResult(b, ctx.planEntries), (v) => wire.encodePushResult(v)),
  protoTarget('hold-request', T.HOLD_REQUEST, (r) => wire.encodeHoldRequest(corpus.holdRequest(r)), (b) => wire.decodeHoldRequest(b), (v) => wire.encodeHoldRequest(v)),
  protoTarget('hold-response', T.HOLD_RESPONSE, (r, ctx) => wire.encodeHoldResponse(corpus.holdResponse(r, ctx.requested)), (b, ctx) => wire.decodeHoldResponse(b, ctx.requested), (v) => wire.encodeHoldResponse(v)),
  protoTarget('hold', T.HOLD, (r) => wire.encodeHold(corpus.hold(r)), (b) => wire.decodeHold(b), (v) => wire.encodeHold(v)),
  protoTarget('fetch-request', T.FETCH_REQUEST, (r) => wire.encodeFetchRequest(corpus.fetchRequest(r)), (b) => wire.decodeFetchRequest(b), (v) => wire.encodeFetchRequest(v)),
  protoTarget('fetch-response', T.FETCH_RESPONSE, (r) => wire.encodeFetchResponse({ status: corpus.status(r), message: corpus.message(r) }), (b) => wire.decodeFetchResponse(b), (v) => wire.encodeFetchResponse(v)),
  protoTarget('fetch-file', T.FETCH_FILE, (r, ctx) => wire.encodeFetchFile(corpus.fetchFile(r, Math.min(ctx.requested, 4095))), (b, ctx) => wire.decodeFetchFile(b, ctx.requested), (v) => wire.encodeFetchFile(v)),
  protoTarget('verify-request', T.VERIFY_REQUEST, (r) => wire.encodeVerifyRequest(corpus.verifyRequest(r)), (b) => wire.decodeVerifyRequest(b), (v) => wire.encodeVerifyRequest(v)),
  protoTarget('verify-reply', T.VERIFY_REPLY, (r) => wire.encodeVerifyReply(corpus.verifyReply(r)), (b) => wire.decodeVerifyReply(b), (v) => wire.encodeVerifyReply(v))
]
