/**
 * The one edge between generated protobuf types and cairn's domain types. Everything decoded
 * here is bounded and validated field by field; a violation throws InvalidMessageError naming
 * the field. Nothing outside this file imports ./pb/.
 */
import type { Uint8ArrayList } from 'uint8arraylist'
import { InvalidMessageError, OversizeMessageError } from '../errors.js'
import { isNodeId, parseNodeId, type NodeId } from '../identity/node-id.js'
import { isValidName } from '../names.js'
import { DIR_KEY_PREFIX, isDirectoryKey } from '../store/destinations.js'
import { VERIFY_METHODS, type VerifyMethod } from '../verify-method.js'
import {
  MAX_COMPONENTS_PER_ASSERTION, MAX_EXCEPTIONS_PER_ASSERTION, MAX_FRAME_BYTES, MAX_PATH_BYTES,
  MAX_PATH_SEGMENT_BYTES, MAX_PLAN_CHUNK_ENTRIES, MAX_PLAN_ENTRIES, MAX_PUSH_ORIGINS, MAX_SANE_TIME_NS, MAX_STATUS_MESSAGE_CHARS,
  MAX_VOLUME_NAME_CHARS, MAX_WIRE_NAME_CHARS, MIN_SANE_TIME_NS, EPOCH_BYTES, MAX_SEQUENCE_COUNTER
} from './limits.js'
import {
  FailureReason, Status, type AssertedComponent, type Assertion, type Tombstone, type DurabilityRequest, type DurabilityResponse,
  type EnvelopeParts, type FailureReasonCode, type FileFailure, type PlanChunk, type PlanEntry, type PlanReply, type PushOffer,
  type PushResult, type StatusCode
} from './messages.js'
import * as pb from './pb/cairn.js'
import { checkCanonical, checkCanonicalNested, fixed64At, type FieldSpec, type MessageSchema } from './canonical.js'
import * as schema from './schema.js'
import { encodeWireAssertion, type WireAssertion, type WireComponent } from './assertion-encoder.js'
// the hold section (end of file)
import { createHash } from 'node:crypto'
import { MAX_HOLD_DIRECTORIES, MAX_HOLD_DURATION_MS, MAX_HOLD_ENTRIES } from './limits.js'
import { HOLD_NONCE_BYTES, HoldRefusalReason, type Hold, type HoldEntry, type HoldRefusal, type HoldRefusalReasonCode, type HoldRequest, type HoldResponse } from './messages.js'
import { uvarint } from './varint.js'
import { MAX_FETCH_ENTRIES } from './limits.js'
import { FetchFileStatus, type FetchFile, type FetchFileStatusCode, type FetchRequest, type FetchResponse } from './messages.js'
import { MAX_VERIFY_PROBLEMS, MAX_VERIFY_SAMPLE } from './limits.js'
import { statusName, VerifyProblemKind, type VerifyProblemKindCode, type VerifyReply, type VerifyRequest } from './messages.js'

type Bytes = Uint8Array | Uint8ArrayList

// ---- method codes ---------------------------------------------------------------------------

/** Wire codes of verify methods: 0 none, 1.. in VERIFY_METHODS order. */
const METHOD_CODES: ReadonlyMap<VerifyMethod, number> = new Map(VERIFY_METHODS.map((m, i) => [m, i + 1]))

function methodFromCode (code: number, field: string): VerifyMethod | null {
  if (code === 0) return null
  const method = VERIFY_METHODS[code - 1]
  if (method === undefined) throw new InvalidMessageError(field, `unknown verify method code ${code}`)
  return method
}

// ---- field checks ----------------------------------------------------------------------------

function byteLength (data: Bytes): number {
  return data.byteLength
}

function checkFrame (data: Bytes, what: string): void {
  if (byteLength(data) > MAX_FRAME_BYTES) throw new OversizeMessageError(what, byteLength(data), MAX_FRAME_BYTES)
}

function contiguous (data: Bytes): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/**
 * The edge of every decoder: bounded, then canonical (src/protocol/canonical.ts: the bytes are
 * exactly the re-encoding of what they decode to, every varint within its field's range).
 */
function canonicalFrame (data: Bytes, what: string, s: MessageSchema): Uint8Array {
  checkFrame(data, what)
  const bytes = contiguous(data)
  checkCanonical(bytes, s, what)
  return bytes
}

function safeInt (value: bigint | number, field: string, min: number): number {
  const n = typeof value === 'bigint' ? (value > BigInt(Number.MAX_SAFE_INTEGER) || value < 0n ? Number.NaN : Number(value)) : value
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidMessageError(field, `expected a whole number from ${min} to ${Number.MAX_SAFE_INTEGER}, got ${String(value)}`)
  return n
}

/**
 * An instant, as the domain keeps it: the nearest double (ns precision beyond 2^53 is not
 * kept). The range is checked on that value, so what is accepted still is after a re-encoding
 * (a fixed64 a few ns below 2100 rounds up to 2100 itself).
 */
function saneTime (value: bigint, field: string, allowZero: boolean): number | null {
  if (value === 0n && allowZero) return null
  const n = Number(value)
  if (n < MIN_SANE_TIME_NS || n >= MAX_SANE_TIME_NS) {
    throw new InvalidMessageError(field, `timestamp ${String(value)} ns is outside 2020..2100`)
  }
  return n
}

const WORD = 2 ** 32

/**
 * saneTime for a fixed64 read in place (`offset` 0 = absent) of component `component` (-1: the
 * assertion's issued_at_ns): reads the two words, no BigInt per component.
 */
function timeFieldName (component: number): string {
  return component < 0 ? 'issued_at_ns' : `components[${component}].verified_at_ns`
}

function saneTimeAt (buf: Uint8Array, offset: number, component: number, allowZero: boolean): number | null {
  // no closure per call: this runs once per component of an assertion (up to 524,288)
  if (offset === 0) return saneTime(0n, timeFieldName(component), allowZero)
  const lo = ((buf[offset] as number) | (buf[offset + 1] as number) << 8 | (buf[offset + 2] as number) << 16 | (buf[offset + 3] as number) << 24) >>> 0
  const hi = ((buf[offset + 4] as number) | (buf[offset + 5] as number) << 8 | (buf[offset + 6] as number) << 16 | (buf[offset + 7] as number) << 24) >>> 0
  // the range is checked on the double kept, like saneTime (a value a few ns below 2100 rounds to it)
  const n = hi * WORD + lo
  if (n < MIN_SANE_TIME_NS || n >= MAX_SANE_TIME_NS) return saneTime(fixed64At(buf, offset), timeFieldName(component), allowZero)
  return n
}

/** A timestamp that may be zero (a file's mtime), as a double like saneTime. */
function timeOrZero (value: bigint, field: string): number {
  const n = Number(value)
  // protons reads a fixed64 of 2^63 or more as a negative bigint
  if (n < 0 || n >= MAX_SANE_TIME_NS) throw new InvalidMessageError(field, `timestamp ${String(value)} ns is outside 0..2100`)
  return n
}

function volumeName (value: string, field: string): string {
  if (value.length > MAX_VOLUME_NAME_CHARS || !isValidName(value)) throw new InvalidMessageError(field, 'expected a volume name (lowercase letters, digits, ".", "_", "-")')
  return value
}

function nodeIdField (value: string, field: string): NodeId {
  try {
    return parseNodeId(value).nodeId
  } catch (err) {
    throw new InvalidMessageError(field, err instanceof Error ? err.message : String(err))
  }
}

/** A destination on the wire: a directory key `dir:<32 hex marker id>` or a node id (never a label). */
function destinationName (value: string, field: string): string {
  if (value.length === 0 || value.length > MAX_WIRE_NAME_CHARS) throw new InvalidMessageError(field, `expected 1-${MAX_WIRE_NAME_CHARS} characters`)
  if (isDirectoryKey(value)) return value
  if (value.startsWith(DIR_KEY_PREFIX)) throw new InvalidMessageError(field, 'a directory key is "dir:" and a 32-digit lowercase hex marker id')
  return nodeIdField(value, field)
}

/** A dictionary entry: a destination key or node id, or a directory label (checked per use). */
function dictionaryEntry (value: string, field: string): string {
  if (value.length > 0 && value.length <= MAX_WIRE_NAME_CHARS && isValidName(value)) return value
  return destinationName(value, field)
}

/** A directory component's label: a name, as its owner's config spells it. */
function labelField (value: string, field: string): string {
  if (!isValidName(value)) throw new InvalidMessageError(field, 'expected a destination label (1-64 lowercase letters, digits, ".", "_" or "-")')
  return value
}

function statusField (value: number, field: string): StatusCode {
  if (!(Object.values(Status) as number[]).includes(value)) throw new InvalidMessageError(field, `unknown status code ${value}`)
  return value as StatusCode
}

/** A lone surrogate (only in a string decoded from bytes that are not UTF-8). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** A string decoded from a peer's bytes must be well-formed Unicode: what is not UTF-8 decodes to lone surrogates that do not survive re-encoding (a path would name a different file). */
function wellFormed (value: string, field: string): string {
  if (LONE_SURROGATE.test(value)) throw new InvalidMessageError(field, 'not valid UTF-8')
  return value
}

/** A status message, cut to MAX_STATUS_MESSAGE_CHARS without splitting a surrogate pair. */
function message (value: string): string {
  if (value.length <= MAX_STATUS_MESSAGE_CHARS) return value
  const high = value.charCodeAt(MAX_STATUS_MESSAGE_CHARS - 1)
  return value.slice(0, high >= 0xd800 && high <= 0xdbff ? MAX_STATUS_MESSAGE_CHARS - 1 : MAX_STATUS_MESSAGE_CHARS)
}

function receivedMessage (value: string): string {
  return message(wellFormed(value, 'message'))
}

function decodeWith<T> (what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof InvalidMessageError || err instanceof OversizeMessageError) throw err
    const name = err instanceof Error ? err.name : ''
    if (name === 'MaxLengthError') throw new InvalidMessageError(what, 'a repeated field has more elements than the limit allows')
    if (err instanceof RangeError && /varint/.test(err.message)) throw new InvalidMessageError(what, 'an integer field is negative or above 2^53 - 1')
    throw new InvalidMessageError(what, `cannot decode: ${err instanceof Error ? err.message : String(err)}`)
  }
}

// ---- envelope --------------------------------------------------------------------------------

export function encodeEnvelope (parts: EnvelopeParts): Uint8Array {
  return pb.Envelope.encode(parts as pb.Envelope)
}

/**
 * Decodes an envelope and requires its framing to be canonical (exactly what encodeEnvelope
 * produces): the decoder ignores wire-type bits and unknown fields, so without this check many
 * byte strings would carry the same signature, and the stored proof and duplicate detection
 * (by envelope hash) would not be unique. The signed payload is never re-encoded.
 */
export function decodeEnvelope (data: Bytes): EnvelopeParts {
  const bytes = canonicalFrame(data, 'envelope', schema.ENVELOPE)
  const e = decodeWith('envelope', () => pb.Envelope.decode(bytes))
  return { publicKey: e.publicKey, payloadType: e.payloadType, payload: e.payload, signature: e.signature }
}

// ---- assertion -------------------------------------------------------------------------------

/**
 * The payload bytes of an assertion: the direct encoder (assertion-encoder.ts) writes exactly
 * what the generated encoder would, in one buffer; a value it does not take falls back to the
 * generated encoder (encodeAssertionGenerated).
 */
export function encodeAssertion (a: Assertion): Uint8Array {
  const w = assertionToWire(a)
  return encodeWireAssertion(w) ?? encodeAssertionGenerated(a)
}

/** The same bytes through protons' generated encoder (the reference the direct encoder is held to). */
export function encodeAssertionGenerated (a: Assertion): Uint8Array {
  const w = assertionToWire(a)
  return pb.Assertion.encode({
    signer: w.signer,
    volume: w.volume,
    issuedAtNs: BigInt(a.issuedAtNs),
    receiptFor: w.receiptFor,
    names: [...w.names],
    components: w.components.map(c => ({
      destination: c.destination,
      originNode: c.originNode,
      originRun: c.originRun,
      verifyMethod: c.verifyMethod,
      verifiedAtNs: BigInt(c.verifiedAtNs),
      exceptions: c.exceptions.map(e => ({ path: e.path, originRun: e.run })),
      floorRun: c.floorRun,
      label: c.label,
      owner: c.owner
    })),
    epoch: w.epoch as Uint8Array<ArrayBuffer>,
    counter: w.counter
  })
}

/** An assertion in wire shape: the name dictionary, indexes into it, method codes. */
function assertionToWire (a: Assertion): WireAssertion {
  const names: string[] = []
  const index = new Map<string, number>()
  const ref = (name: string): number => {
    let i = index.get(name)
    if (i === undefined) {
      i = names.length
      names.push(name)
      index.set(name, i)
    }
    return i
  }
  // an assertion lists each destination's components together: its key, label and owner are
  // looked up once per run of them, not once per component
  let lastDestination: string | undefined
  let lastDestinationRef = 0
  const destinationRef = (name: string): number => {
    if (name !== lastDestination) {
      lastDestinationRef = ref(name)
      lastDestination = name
    }
    return lastDestinationRef
  }
  const components: WireComponent[] = a.components.map(c => ({
    destination: destinationRef(c.destination),
    originNode: ref(c.originNode),
    originRun: c.originRun,
    verifyMethod: c.verifyMethod === null ? 0 : (METHOD_CODES.get(c.verifyMethod) ?? 0),
    verifiedAtNs: c.verifiedAtNs === null ? 0 : c.verifiedAtNs,
    exceptions: c.exceptions,
    floorRun: c.floorRun === undefined || c.floorRun <= 1 ? 0 : c.floorRun,
    // dictionary references, 1-based (0 = absent): a label repeats in every origin's component
    label: c.label === undefined ? 0 : ref(c.label) + 1,
    owner: c.owner === undefined ? 0 : ref(c.owner) + 1
  }))
  for (const t of a.tombstones) {
    components.push({ destination: ref(t.destination), originNode: ref(t.originNode), originRun: 0, verifyMethod: 0, verifiedAtNs: 0, exceptions: [], floorRun: 0, label: 0, owner: 0 })
  }
  return { signer: a.signer, volume: a.volume, issuedAtNs: a.issuedAtNs, receiptFor: a.receiptFor ?? 0, names, components, epoch: Uint8Array.from(Buffer.from(a.epoch, 'hex')), counter: a.counter }
}

/** What a component filter sees of one component: the dictionary values it names. */
export interface FilterView {
  destination: string
  owner: NodeId | undefined
  label: string | undefined
  /** origin_run 0: a withdrawn claim. */
  tombstone: boolean
}

/**
 * Decides, while decoding, whether a component can matter to the receiver: null keeps it, a
 * reason drops it (counted, sampled, never built). It sees only dictionary values, so the
 * decoder asks it once per distinct (destination, owner, label, tombstone).
 */
export type ComponentFilter<K extends string> = (c: FilterView) => K | null

export interface FilteredComponents<K extends string> {
  /** Components (and tombstones) the filter dropped. */
  count: number
  /** The first few of them, for a report. */
  samples: Array<{ destination: string, label?: string, origin: NodeId, kind: K }>
}

export interface FilteredAssertion<K extends string> {
  assertion: Assertion
  filtered: FilteredComponents<K>
}

export function decodeAssertion (data: Bytes): Assertion {
  return decodeAssertionFiltered(data, null, 0).assertion
}

const SINK_SLOTS = 24
/** The exceptions of every component that has none: one frozen array, not one per component (a write to it throws). */
const NO_EXCEPTIONS = Object.freeze([]) as unknown as Array<{ path: string, run: number }>
/** Keeps a leading U+FEFF (a default TextDecoder drops it: "\uFEFFa" would be read as "a", bytes that do not re-encode). */
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * Decodes and validates an assertion payload in one walk of its bytes (canonical.ts), building
 * only the components `filter` keeps. Every component is validated the same way whether it is
 * kept or not, so the verdict on the bytes never depends on the receiver's scope; a dropped
 * component costs a walk of its bytes and no allocation. Call it only on payload bytes whose
 * signature was verified.
 */
export function decodeAssertionFiltered<K extends string> (data: Bytes, filter: ComponentFilter<K> | null, maxSamples: number): FilteredAssertion<K> {
  checkFrame(data, 'assertion')
  const buf = contiguous(data)
  const top = new Float64Array(SINK_SLOTS)
  const nameRanges: number[] = []
  // [start, end) of each component: at most MAX_COMPONENTS_PER_ASSERTION, each at least 2 bytes
  const componentRanges = new Int32Array(Math.min(2 * MAX_COMPONENTS_PER_ASSERTION, buf.length + 2))
  let rangesUsed = 0
  const hook = (spec: FieldSpec, _index: number, start: number, end: number): boolean => {
    if (spec.no === 6) {
      nameRanges.push(start, end)
      return false
    }
    componentRanges[rangesUsed++] = start
    componentRanges[rangesUsed++] = end
    return true
  }
  checkCanonical(buf, schema.ASSERTION, 'assertion', hook, top)
  const str = (no: number): string => top[2 * no] === 0 && top[2 * no + 1] === 0 ? '' : textDecoder.decode(buf.subarray(top[2 * no], top[2 * no + 1]))

  const signer = nodeIdField(str(1), 'signer')
  const volume = volumeName(str(2), 'volume')
  const counter = top[22] as number
  if (counter < 1 || counter > MAX_SEQUENCE_COUNTER) throw new InvalidMessageError('counter', `expected 1..${MAX_SEQUENCE_COUNTER}, got ${counter}`)
  if (top[21] === 0) throw new InvalidMessageError('epoch', `expected ${EPOCH_BYTES} bytes, got none`)
  const epoch = Buffer.from(buf.buffer, buf.byteOffset + (top[20] as number), EPOCH_BYTES).toString('hex')
  const issuedAtNs = saneTimeAt(buf, top[8] as number, -1, false) as number
  const receiptFor = top[10] === 0 ? null : (top[10] as number)

  // The dictionary: each entry validated once; whether it may be an origin is decided per use.
  const seen = new Set<string>()
  const names: string[] = []
  for (let k = 0; k < nameRanges.length; k += 2) {
    const n = textDecoder.decode(buf.subarray(nameRanges[k], nameRanges[k + 1]))
    const field = `names[${k / 2}]`
    if (seen.has(n)) throw new InvalidMessageError(field, 'duplicate dictionary entry')
    seen.add(n)
    names.push(dictionaryEntry(n, field))
  }
  // field names are built only for an error: `components[${i}]${suffix}`
  const cf = (i: number, suffix: string): string => `components[${i}]${suffix}`
  const nameAt = (index: number, i: number, suffix: string): string => {
    const n = names[index]
    if (n === undefined) throw new InvalidMessageError(cf(i, suffix), `index ${index} is outside the ${names.length}-entry name dictionary`)
    return n
  }
  // per dictionary index, once checked: as an origin or owner node id, as a label
  const originOk: Array<NodeId | undefined> = new Array<NodeId | undefined>(names.length)
  const originAt = (index: number, i: number, suffix: string): NodeId => {
    const cached = originOk[index]
    if (cached !== undefined) return cached
    const id = nodeIdField(nameAt(index, i, suffix), cf(i, suffix))
    originOk[index] = id
    return id
  }
  const labelOk: Array<string | undefined> = new Array<string | undefined>(names.length)
  const labelAt = (index: number, i: number): string => {
    const cached = labelOk[index]
    if (cached !== undefined) return cached
    const label = labelField(nameAt(index, i, '.label'), cf(i, '.label'))
    labelOk[index] = label
    return label
  }
  // per dictionary index: 0 unchecked, 1 a node id, 2 a directory key
  const destinationKind = new Uint8Array(names.length)
  const destinationAt = (index: number, i: number): string => {
    const destination = nameAt(index, i, '.destination')
    if (destinationKind[index] !== 0) return destination
    if (isValidName(destination)) throw new InvalidMessageError(cf(i, '.destination'), `${JSON.stringify(destination)} is a label, not a destination key (a node id or "dir:<marker id>")`)
    destinationKind[index] = isDirectoryKey(destination) ? 2 : 1
    return destination
  }
  const methodAt = (code: number, i: number): VerifyMethod | null => code === 0 ? null : VERIFY_METHODS[code - 1] ?? methodFromCode(code, cf(i, '.verify_method'))

  // one bit per (destination, origin) pair: a second component for a pair is refused
  const n = names.length
  const pairs = rangesUsed === 0 ? new Uint8Array(0) : new Uint8Array(Math.ceil((n * n) / 8))
  const verdicts = new Map<number, K | null>()
  const seenKey = new Float64Array(n)
  const seenVerdict: Array<K | null> = new Array<K | null>(n).fill(null)
  const filtered: FilteredComponents<K> = { count: 0, samples: [] }
  const components: AssertedComponent[] = []
  const tombstones: Tombstone[] = []
  const c = new Float64Array(SINK_SLOTS)
  let exceptionCount = 0
  for (let k = 0; k < rangesUsed; k += 2) {
    const i = k / 2
    const start = componentRanges[k] as number
    const end = componentRanges[k + 1] as number
    c.fill(0)
    checkCanonicalNested(buf, schema.COMPONENT, 'components', i, start, end, c)
    const d = c[2] as number
    const o = c[4] as number
    const destination = destinationAt(d, i)
    const originNode = originAt(o, i, '.origin_node')
    const pair = d * n + o
    const byte = pairs[pair >> 3] as number
    if ((byte & (1 << (pair & 7))) !== 0) throw new InvalidMessageError(cf(i, ''), 'a second component for the same destination and origin')
    pairs[pair >> 3] = byte | (1 << (pair & 7))
    const originRun = c[6] as number
    const exceptionsSent = c[12] as number
    const labelRef = c[16] as number
    const ownerRef = c[18] as number
    let label: string | undefined
    let owner: NodeId | undefined
    if (originRun === 0) {
      if (c[8] !== 0 || c[10] !== 0 || exceptionsSent > 0 || c[14] !== 0 || labelRef !== 0 || ownerRef !== 0) throw new InvalidMessageError(cf(i, ''), 'a tombstone (origin_run 0) carries nothing else')
    } else {
      const floorRun = c[14] === 0 ? 1 : c[14] as number
      if (floorRun > originRun) throw new InvalidMessageError(cf(i, '.floor_run'), `${floorRun} is above the component's origin_run ${originRun}`)
      exceptionCount += exceptionsSent
      if (exceptionCount > MAX_EXCEPTIONS_PER_ASSERTION) throw new InvalidMessageError(cf(i, '.exceptions'), `more than ${MAX_EXCEPTIONS_PER_ASSERTION} exceptions in one assertion`)
      const directory = destinationKind[d] === 2
      if (directory !== (labelRef !== 0) || directory !== (ownerRef !== 0)) {
        throw new InvalidMessageError(cf(i, ''), directory ? 'a directory component carries its label and owner' : 'a node-id component carries no label or owner')
      }
      if (directory) {
        label = labelAt(labelRef - 1, i)
        owner = originAt(ownerRef - 1, i, '.owner')
      }
    }
    const tombstone = originRun === 0
    let kind: K | null = null
    if (filter !== null) {
      // the filter sees dictionary values only: ask it once per (destination, label, owner, tombstone)
      const key = (labelRef * (n + 1) + ownerRef) * 2 + (tombstone ? 1 : 0)
      if (seenKey[d] === key + 1) {
        kind = seenVerdict[d] as K | null
      } else {
        const mapKey = d * 2 ** 28 + key
        const cached = verdicts.get(mapKey)
        kind = cached !== undefined ? cached : filter({ destination, owner, label, tombstone })
        if (cached === undefined) verdicts.set(mapKey, kind)
        seenKey[d] = key + 1
        seenVerdict[d] = kind
      }
    }
    // a dropped component is still validated in full (the verdict never depends on scope)
    const exceptions = exceptionsSent === 0 ? null : decodeExceptions(buf, start, end, i, originRun)
    if (kind !== null) {
      filtered.count++
      if (filtered.samples.length < maxSamples) filtered.samples.push({ destination, ...(label === undefined ? {} : { label }), origin: originNode, kind })
      if (!tombstone) {
        methodAt(c[8] as number, i)
        if (c[10] !== 0) saneTimeAt(buf, c[10] as number, i, true)
      }
      continue
    }
    if (tombstone) {
      tombstones.push({ destination, originNode })
      continue
    }
    const floorRun = c[14] === 0 ? 1 : c[14] as number
    // built field by field, optional fields only when present: a spread of a conditional
    // object gives each of up to 524,288 components a slow, several times larger shape
    const component: AssertedComponent = { destination, originNode, originRun, verifyMethod: methodAt(c[8] as number, i), verifiedAtNs: saneTimeAt(buf, c[10] as number, i, true), exceptions: exceptions ?? NO_EXCEPTIONS }
    if (owner !== undefined) {
      component.label = label
      component.owner = owner
    }
    if (floorRun > 1) component.floorRun = floorRun
    components.push(component)
  }
  return { assertion: { signer, volume, epoch, counter, issuedAtNs, receiptFor, components, tombstones }, filtered }
}

/** The exceptions of component `i` (its bytes already walked), validated against its origin_run. */
/** Reads a varint of bytes already walked (canonical, in range). */
function walkedVarint (buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0
  let mul = 1
  let b = 0
  do {
    b = buf[pos++] as number
    value += (b & 0x7f) * mul
    mul *= 128
  } while ((b & 0x80) !== 0)
  return [value, pos]
}

/**
 * The exceptions of component `i`, from its bytes already walked (so well-formed and
 * canonical), validated against its origin_run. Paths are decoded natively (protons' UTF-8
 * reader is several times slower on the long paths a maximal assertion carries).
 */
function decodeExceptions (buf: Uint8Array, start: number, end: number, i: number, originRun: number): Array<{ path: string, run: number }> {
  const out: Array<{ path: string, run: number }> = []
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  let pos = start
  while (pos < end) {
    const [tag, afterTag] = walkedVarint(buf, pos)
    pos = afterTag
    const wireType = tag % 8
    if (wireType === 0) {
      pos = walkedVarint(buf, pos)[1]
      continue
    }
    if (wireType === 1) {
      pos += 8
      continue
    }
    const [length, body] = walkedVarint(buf, pos)
    pos = body + length
    if (Math.floor(tag / 8) !== 6) continue
    // an Exception: path (1), origin_run (2); both absent mean '' and 0
    let path = ''
    let run = 0
    let q = body
    while (q < pos) {
      const [t, afterT] = walkedVarint(buf, q)
      if (t === 10) {
        const [len, s] = walkedVarint(buf, afterT)
        path = bytes.toString('utf8', s, s + len)
        q = s + len
      } else {
        const [v, next] = walkedVarint(buf, afterT)
        run = v
        q = next
      }
    }
    const field = (): string => `components[${i}].exceptions[${out.length}]`
    if (run < 1) throw new InvalidMessageError(`${field()}.origin_run`, `expected a whole number from 1 to ${Number.MAX_SAFE_INTEGER}, got ${run}`)
    if (run > originRun) throw new InvalidMessageError(`${field()}.origin_run`, `${run} is above the component's origin_run ${originRun}`)
    out.push({ path: checkPlanPath(path, `${field()}.path`), run })
  }
  return out
}

// ---- /cairn/durability/1.0.0 ---------------------------------------------------------------

export function encodeDurabilityRequest (r: DurabilityRequest): Uint8Array {
  return pb.DurabilityRequest.encode({ volume: r.volume })
}

export function decodeDurabilityRequest (data: Bytes): DurabilityRequest {
  const bytes = canonicalFrame(data, 'durability request', schema.DURABILITY_REQUEST)
  const w = decodeWith('durability request', () => pb.DurabilityRequest.decode(bytes))
  return { volume: volumeName(w.volume, 'volume') }
}

export function encodeDurabilityResponse (r: DurabilityResponse): Uint8Array {
  return pb.DurabilityResponse.encode({ status: r.status, envelope: (r.envelope ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>, message: message(r.message) })
}

export function decodeDurabilityResponse (data: Bytes): DurabilityResponse {
  const bytes = canonicalFrame(data, 'durability response', schema.DURABILITY_RESPONSE)
  const w = decodeWith('durability response', () => pb.DurabilityResponse.decode(bytes))
  const status = statusField(w.status, 'status')
  return { status, envelope: w.envelope.length === 0 ? null : w.envelope, message: receivedMessage(w.message) }
}

// ---- /cairn/push/1.0.0 -------------------------------------------------------------------------

export function encodePushOffer (o: PushOffer): Uint8Array {
  return pb.PushOffer.encode({ volume: o.volume, pusherRun: o.pusherRun, entries: o.entries, totalBytes: o.totalBytes, origins: o.origins })
}

export function decodePushOffer (data: Bytes): PushOffer {
  const bytes = canonicalFrame(data, 'push offer', schema.PUSH_OFFER)
  const w = decodeWith('push offer', () => pb.PushOffer.decode(bytes, { limits: { origins: MAX_PUSH_ORIGINS } }))
  if (w.entries > MAX_PLAN_ENTRIES) throw new InvalidMessageError('entries', `more than ${MAX_PLAN_ENTRIES} plan entries`)
  return {
    volume: volumeName(w.volume, 'volume'),
    pusherRun: safeInt(w.pusherRun, 'pusher_run', 1),
    entries: w.entries,
    totalBytes: safeInt(w.totalBytes, 'total_bytes', 0),
    origins: w.origins.map((o, i) => nodeIdField(o, `origins[${i}]`))
  }
}

/**
 * Validates a volume-relative path from a peer: "/"-separated, no empty, "." or ".." segment,
 * not absolute, no NUL or backslash, no reserved `.cairn*` segment, bounded length.
 */
export function checkPlanPath (path: string, field: string): string {
  if (path.length === 0) throw new InvalidMessageError(field, 'empty path')
  wellFormed(path, field)
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) throw new InvalidMessageError(field, `longer than ${MAX_PATH_BYTES} bytes`)
  if (path.includes('\0')) throw new InvalidMessageError(field, 'contains a NUL byte')
  if (path.includes('\\')) throw new InvalidMessageError(field, 'contains a backslash')
  if (path.startsWith('/')) throw new InvalidMessageError(field, 'is absolute')
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new InvalidMessageError(field, `has a "${segment}" segment`)
    if (segment.toLowerCase().startsWith('.cairn')) throw new InvalidMessageError(field, 'uses a reserved .cairn name')
    if (Buffer.byteLength(segment, 'utf8') > MAX_PATH_SEGMENT_BYTES) throw new InvalidMessageError(field, `has a segment longer than ${MAX_PATH_SEGMENT_BYTES} bytes`)
  }
  return path
}

export function encodePlanChunk (c: PlanChunk): Uint8Array {
  return pb.PlanChunk.encode({
    entries: c.entries.map(e => ({
      path: e.path,
      hash: e.hash as Uint8Array<ArrayBuffer>,
      size: e.size,
      mtimeNs: BigInt(e.mtimeNs),
      originNode: e.originIndex,
      originRun: e.originRun,
      replaces: (e.replaces ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>
    })),
    last: c.last
  })
}

export function decodePlanChunk (data: Bytes, originCount: number): PlanChunk {
  const bytes = canonicalFrame(data, 'plan chunk', schema.PLAN_CHUNK)
  const w = decodeWith('plan chunk', () => pb.PlanChunk.decode(bytes, { limits: { entries: MAX_PLAN_CHUNK_ENTRIES } }))
  const entries: PlanEntry[] = w.entries.map((e, i) => {
    const field = `entries[${i}]`
    if (e.hash.length !== 32) throw new InvalidMessageError(`${field}.hash`, `expected 32 bytes, got ${e.hash.length}`)
    if (e.originNode >= originCount) throw new InvalidMessageError(`${field}.origin_node`, `index ${e.originNode} is outside the ${originCount} origins`)
    if (e.replaces.length !== 0 && e.replaces.length !== 32) throw new InvalidMessageError(`${field}.replaces`, `expected 0 or 32 bytes, got ${e.replaces.length}`)
    return {
      path: checkPlanPath(e.path, `${field}.path`),
      hash: e.hash,
      size: safeInt(e.size, `${field}.size`, 0),
      mtimeNs: timeOrZero(e.mtimeNs, `${field}.mtime_ns`),
      originIndex: e.originNode,
      originRun: safeInt(e.originRun, `${field}.origin_run`, 1),
      replaces: e.replaces.length === 0 ? null : e.replaces
    }
  })
  return { entries, last: w.last }
}

export function encodePlanReply (r: PlanReply): Uint8Array {
  return pb.PlanReply.encode({ status: r.status, need: r.need, message: message(r.message) })
}

export function decodePlanReply (data: Bytes, planEntries: number): PlanReply {
  const bytes = canonicalFrame(data, 'plan reply', schema.PLAN_REPLY)
  const w = decodeWith('plan reply', () => pb.PlanReply.decode(bytes, { limits: { need: MAX_PLAN_ENTRIES } }))
  let previous = -1
  w.need.forEach((n, i) => {
    if (n <= previous || n >= planEntries) throw new InvalidMessageError(`need[${i}]`, 'indexes must be strictly increasing plan entry numbers')
    previous = n
  })
  return { status: statusField(w.status, 'status'), need: w.need, message: receivedMessage(w.message) }
}

const FAILURE_REASONS: ReadonlySet<number> = new Set(Object.values(FailureReason))

export function encodePushResult (r: PushResult): Uint8Array {
  return pb.PushResult.encode({
    status: r.status,
    receipt: (r.receipt ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>,
    failures: r.failures.map(f => ({ entry: f.entry, reason: f.reason })),
    message: message(r.message),
    filesWritten: r.filesWritten,
    bytesWritten: r.bytesWritten
  })
}

export function decodePushResult (data: Bytes, planEntries: number): PushResult {
  const bytes = canonicalFrame(data, 'push result', schema.PUSH_RESULT)
  const w = decodeWith('push result', () => pb.PushResult.decode(bytes, { limits: { failures: MAX_PLAN_ENTRIES } }))
  const failures: FileFailure[] = w.failures.map((f, i) => {
    if (f.entry >= planEntries) throw new InvalidMessageError(`failures[${i}].entry`, 'not a plan entry')
    if (!FAILURE_REASONS.has(f.reason)) throw new InvalidMessageError(`failures[${i}].reason`, `unknown reason code ${f.reason}`)
    return { entry: f.entry, reason: f.reason as FailureReasonCode }
  })
  return {
    status: statusField(w.status, 'status'),
    receipt: w.receipt.length === 0 ? null : w.receipt,
    failures,
    message: receivedMessage(w.message),
    filesWritten: w.filesWritten,
    bytesWritten: safeInt(w.bytesWritten, 'bytes_written', 0)
  }
}

// ---- /cairn/hold/1.0.0 -------------------------------------------------------------------------

const HOLD_DIGEST_DOMAIN = new TextEncoder().encode('cairn-hold-entries-v1')
const HOLD_REASONS = new Set<number>(Object.values(HoldRefusalReason))

/**
 * What a signed Hold covers: SHA-256 over "cairn-hold-entries-v1" then, per held entry in
 * request order, uvarint(len(path)) ‖ path (UTF-8) ‖ hash (32 bytes).
 */
export function holdEntriesDigest (entries: readonly HoldEntry[]): Uint8Array {
  const h = createHash('sha256').update(HOLD_DIGEST_DOMAIN)
  for (const e of entries) {
    const path = Buffer.from(e.path, 'utf8')
    h.update(uvarint(path.length)).update(path).update(e.hash)
  }
  return new Uint8Array(h.digest())
}

function holdEntry (e: pb.HoldEntry, field: string): HoldEntry {
  if (e.hash.length !== 32) throw new InvalidMessageError(`${field}.hash`, `expected 32 bytes, got ${e.hash.length}`)
  return { path: checkPlanPath(e.path, `${field}.path`), hash: e.hash }
}

function nonceField (value: Uint8Array, field: string): Uint8Array {
  if (value.length !== HOLD_NONCE_BYTES) throw new InvalidMessageError(field, `expected ${HOLD_NONCE_BYTES} bytes, got ${value.length}`)
  return value
}

export function encodeHoldRequest (r: HoldRequest): Uint8Array {
  return pb.HoldRequest.encode({
    volume: r.volume,
    durationMs: r.durationMs,
    nonce: r.nonce as Uint8Array<ArrayBuffer>,
    entries: r.entries.map(e => ({ path: e.path, hash: e.hash as Uint8Array<ArrayBuffer> })),
    placedAt: r.placedAt ?? []
  })
}

/** A hold request, validated: volume name, 1..MAX_HOLD_DURATION_MS, the nonce, bounded entries with plan paths, no path twice. */
export function decodeHoldRequest (data: Bytes): HoldRequest {
  const bytes = canonicalFrame(data, 'hold request', schema.HOLD_REQUEST)
  const w = decodeWith('hold request', () => pb.HoldRequest.decode(bytes, { limits: { entries: MAX_HOLD_ENTRIES, placedAt: MAX_HOLD_DIRECTORIES } }))
  const volume = volumeName(w.volume, 'volume')
  const durationMs = safeInt(w.durationMs, 'duration_ms', 1)
  if (durationMs > MAX_HOLD_DURATION_MS) throw new InvalidMessageError('duration_ms', `longer than ${MAX_HOLD_DURATION_MS} ms`)
  if (w.entries.length === 0) throw new InvalidMessageError('entries', 'no entries')
  const paths = new Set<string>()
  const entries = w.entries.map((e, i) => {
    const entry = holdEntry(e, `entries[${i}]`)
    if (paths.has(entry.path)) throw new InvalidMessageError(`entries[${i}].path`, 'requested twice')
    paths.add(entry.path)
    return entry
  })
  const placedAt = w.placedAt.map((d, i) => {
    const name = destinationName(d, `placed_at[${i}]`)
    if (isNodeId(name)) throw new InvalidMessageError(`placed_at[${i}]`, 'a directory key, not a node id')
    return name
  })
  if (new Set(placedAt).size !== placedAt.length) throw new InvalidMessageError('placed_at', 'a directory named twice')
  return { volume, durationMs, nonce: nonceField(w.nonce, 'nonce'), entries, placedAt }
}

export function encodeHoldResponse (r: HoldResponse): Uint8Array {
  return pb.HoldResponse.encode({
    status: r.status,
    envelope: (r.envelope ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>,
    refused: r.refused.map(x => ({ entry: x.entry, reason: x.reason })),
    message: message(r.message)
  })
}

/** A hold response to a request of `requested` entries: refusals strictly increasing, known reasons. */
export function decodeHoldResponse (data: Bytes, requested: number): HoldResponse {
  const bytes = canonicalFrame(data, 'hold response', schema.HOLD_RESPONSE)
  const w = decodeWith('hold response', () => pb.HoldResponse.decode(bytes, { limits: { refused: MAX_HOLD_ENTRIES } }))
  let previous = -1
  const refused: HoldRefusal[] = w.refused.map((x, i) => {
    if (x.entry <= previous || x.entry >= requested) throw new InvalidMessageError(`refused[${i}].entry`, 'indexes must be strictly increasing request entry numbers')
    previous = x.entry
    if (!HOLD_REASONS.has(x.reason)) throw new InvalidMessageError(`refused[${i}].reason`, `unknown reason code ${x.reason}`)
    return { entry: x.entry, reason: x.reason as HoldRefusalReasonCode }
  })
  return { status: statusField(w.status, 'status'), envelope: w.envelope.length === 0 ? null : w.envelope, refused, message: receivedMessage(w.message) }
}

export function encodeHold (h: Hold): Uint8Array {
  return pb.Hold.encode({
    signer: h.signer,
    holder: h.holder,
    volume: h.volume,
    issuedAtNs: BigInt(h.issuedAtNs),
    expiresAtNs: BigInt(h.expiresAtNs),
    nonce: h.nonce as Uint8Array<ArrayBuffer>,
    granted: h.granted,
    grantedSha256: h.grantedSha256 as Uint8Array<ArrayBuffer>
  })
}

/** A signed Hold's payload, validated field by field (its meaning is checked by the requester). */
export function decodeHold (data: Bytes): Hold {
  const bytes = canonicalFrame(data, 'hold', schema.HOLD)
  const w = decodeWith('hold', () => pb.Hold.decode(bytes))
  const issuedAtNs = saneTime(w.issuedAtNs, 'issued_at_ns', false) as number
  const expiresAtNs = saneTime(w.expiresAtNs, 'expires_at_ns', false) as number
  if (expiresAtNs <= issuedAtNs) throw new InvalidMessageError('expires_at_ns', 'not after issued_at_ns')
  if (w.granted < 1 || w.granted > MAX_HOLD_ENTRIES) throw new InvalidMessageError('granted', `expected 1..${MAX_HOLD_ENTRIES}, got ${w.granted}`)
  if (w.grantedSha256.length !== 32) throw new InvalidMessageError('granted_sha256', `expected 32 bytes, got ${w.grantedSha256.length}`)
  return {
    signer: nodeIdField(w.signer, 'signer'),
    holder: nodeIdField(w.holder, 'holder'),
    volume: volumeName(w.volume, 'volume'),
    issuedAtNs,
    expiresAtNs,
    nonce: nonceField(w.nonce, 'nonce'),
    granted: w.granted,
    grantedSha256: w.grantedSha256
  }
}

// ---- /cairn/fetch/1.0.0 ------------------------------------------------------------------------

const FETCH_FILE_STATUSES = new Set<number>(Object.values(FetchFileStatus))

export function encodeFetchRequest (r: FetchRequest): Uint8Array {
  return pb.FetchRequest.encode({
    volume: r.volume,
    directory: r.directory,
    entries: r.entries.map(e => ({ path: e.path, hash: e.hash as Uint8Array<ArrayBuffer> }))
  })
}

/** A fetch request, validated: volume name, '' or a directory name, 1..MAX_FETCH_ENTRIES entries with plan paths and 32-byte hashes, no path twice. */
export function decodeFetchRequest (data: Bytes): FetchRequest {
  const bytes = canonicalFrame(data, 'fetch request', schema.FETCH_REQUEST)
  const w = decodeWith('fetch request', () => pb.FetchRequest.decode(bytes, { limits: { entries: MAX_FETCH_ENTRIES } }))
  const volume = volumeName(w.volume, 'volume')
  const directory = w.directory === '' ? '' : labelField(w.directory, 'directory')
  if (w.entries.length === 0) throw new InvalidMessageError('entries', 'no entries')
  const paths = new Set<string>()
  const entries = w.entries.map((e, i) => {
    const field = `entries[${i}]`
    if (e.hash.length !== 32) throw new InvalidMessageError(`${field}.hash`, `expected 32 bytes, got ${e.hash.length}`)
    const path = checkPlanPath(e.path, `${field}.path`)
    if (paths.has(path)) throw new InvalidMessageError(`${field}.path`, 'requested twice')
    paths.add(path)
    return { path, hash: e.hash }
  })
  return { volume, directory, entries }
}

export function encodeFetchResponse (r: FetchResponse): Uint8Array {
  return pb.FetchResponse.encode({ status: r.status, message: message(r.message) })
}

export function decodeFetchResponse (data: Bytes): FetchResponse {
  const bytes = canonicalFrame(data, 'fetch response', schema.FETCH_RESPONSE)
  const w = decodeWith('fetch response', () => pb.FetchResponse.decode(bytes))
  return { status: statusField(w.status, 'status'), message: receivedMessage(w.message) }
}

export function encodeFetchFile (f: FetchFile): Uint8Array {
  return pb.FetchFile.encode({ entry: f.entry, status: f.status, size: f.size })
}

/** A file header: the entry the client expects next, a known status, a size (0 when NOT_FOUND). */
export function decodeFetchFile (data: Bytes, expectedEntry: number): FetchFile {
  const bytes = canonicalFrame(data, 'fetch file', schema.FETCH_FILE)
  const w = decodeWith('fetch file', () => pb.FetchFile.decode(bytes))
  if (w.entry !== expectedEntry) throw new InvalidMessageError('entry', `expected entry ${expectedEntry}, got ${w.entry}`)
  if (!FETCH_FILE_STATUSES.has(w.status)) throw new InvalidMessageError('status', `unknown file status ${w.status}`)
  const size = safeInt(w.size, 'size', 0)
  if (w.status === FetchFileStatus.NOT_FOUND && size !== 0) throw new InvalidMessageError('size', 'a NOT_FOUND file has no bytes')
  return { entry: w.entry, status: w.status as FetchFileStatusCode, size }
}

// ---- /cairn/verify/1.0.0 -----------------------------------------------------------------------

const VERIFY_PROBLEM_KINDS = new Set<number>(Object.values(VerifyProblemKind))
/** Final statuses that carry a fresh assertion. */
const VERIFY_ANSWERED = new Set<number>([Status.OK, Status.PARTIAL])

export function encodeVerifyRequest (r: VerifyRequest): Uint8Array {
  return pb.VerifyRequest.encode({ volume: r.volume, sample: r.sample })
}

/** A verify request, validated: a volume name and a sample of 0 (everything) to MAX_VERIFY_SAMPLE. */
export function decodeVerifyRequest (data: Bytes): VerifyRequest {
  const bytes = canonicalFrame(data, 'verify request', schema.VERIFY_REQUEST)
  const w = decodeWith('verify request', () => pb.VerifyRequest.decode(bytes))
  if (w.sample > MAX_VERIFY_SAMPLE) throw new InvalidMessageError('sample', `expected 0..${MAX_VERIFY_SAMPLE}, got ${w.sample}`)
  return { volume: volumeName(w.volume, 'volume'), sample: w.sample }
}

export function encodeVerifyReply (r: VerifyReply): Uint8Array {
  return pb.VerifyReply.encode({
    done: r.done,
    status: r.status,
    message: message(r.message),
    checked: r.checked,
    bytesChecked: r.bytesChecked,
    mismatched: r.mismatched,
    missing: r.missing,
    problems: r.problems.map(p => ({ path: p.path, kind: p.kind })),
    envelope: (r.envelope ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>,
    run: r.run
  })
}

/**
 * A verify reply, validated: a progress frame carries only counts (status 0, nothing else); a
 * final one a known status, at most MAX_VERIFY_PROBLEMS problems with plan paths and known
 * kinds, and — exactly when the status is OK or PARTIAL — an envelope and the peer's run. The
 * envelope is opened and judged by the caller like any pulled assertion.
 */
export function decodeVerifyReply (data: Bytes): VerifyReply {
  const bytes = canonicalFrame(data, 'verify reply', schema.VERIFY_REPLY)
  const w = decodeWith('verify reply', () => pb.VerifyReply.decode(bytes, { limits: { problems: MAX_VERIFY_PROBLEMS } }))
  const checked = safeInt(w.checked, 'checked', 0)
  const bytesChecked = safeInt(w.bytesChecked, 'bytes_checked', 0)
  const mismatched = safeInt(w.mismatched, 'mismatched', 0)
  const missing = safeInt(w.missing, 'missing', 0)
  const run = safeInt(w.run, 'run', 0)
  if (!w.done) {
    if (w.status !== 0) throw new InvalidMessageError('status', 'a progress frame has no status')
    if (w.message !== '' || mismatched !== 0 || missing !== 0 || w.problems.length > 0 || w.envelope.length > 0 || run !== 0) {
      throw new InvalidMessageError('done', 'a progress frame carries only checked and bytes_checked')
    }
    return { done: false, status: 0, message: '', checked, bytesChecked, mismatched: 0, missing: 0, problems: [], envelope: null, run: 0 }
  }
  const status = statusField(w.status, 'status')
  const answered = VERIFY_ANSWERED.has(status)
  if (answered && w.envelope.length === 0) throw new InvalidMessageError('envelope', `a ${statusName(status)} verify reply carries the fresh assertion`)
  if (!answered && w.envelope.length > 0) throw new InvalidMessageError('envelope', `a ${statusName(status)} verify reply carries no assertion`)
  if (answered && run === 0) throw new InvalidMessageError('run', 'an answered verify names the run that re-read the files')
  if (!answered && run !== 0) throw new InvalidMessageError('run', `a ${statusName(status)} verify reply names no run`)
  if (w.problems.length > mismatched + missing) throw new InvalidMessageError('problems', 'more problems than mismatched + missing')
  if (status === Status.OK && mismatched + missing > 0) throw new InvalidMessageError('status', 'an OK verify found nothing: its mismatched and missing are 0 (PARTIAL reports what was found)')
  const problems = w.problems.map((p, i) => {
    if (!VERIFY_PROBLEM_KINDS.has(p.kind)) throw new InvalidMessageError(`problems[${i}].kind`, `unknown problem kind ${p.kind}`)
    return { path: checkPlanPath(p.path, `problems[${i}].path`), kind: p.kind as VerifyProblemKindCode }
  })
  return { done: true, status, message: receivedMessage(w.message), checked, bytesChecked, mismatched, missing, problems, envelope: answered ? w.envelope : null, run }
}
