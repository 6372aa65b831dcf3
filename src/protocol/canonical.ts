/**
 * The canonical-encoding rule every decoder in wire.ts applies before it trusts a byte
 * (protocol/README.md, "Canonical encoding"): **the bytes must equal the re-encoding of the
 * decoded message**, and every varint must lie within its field's range.
 *
 * Re-encoding a maximal assertion with protons costs seconds, so the rule is checked by one
 * pass over the bytes instead, against a schema of protocol/cairn.proto; a test proves the
 * walk gives the same verdict as decode-and-re-encode. What protons' encoder produces, and so
 * what the walk requires:
 *
 *  - fields in ascending field-number order, each singular field at most once, the elements
 *    of a repeated field contiguous; no unknown field; the wire type of the field's type;
 *  - every varint (tags and lengths included) in its shortest form, at most 10 bytes;
 *  - a singular field holding its default (0, false, "", empty bytes) is absent, never sent;
 *    a bool is 1; repeated scalars are unpacked (one tag per element);
 *  - a uint32 at most 2^32 - 1 (protons would truncate a larger one), a uint64 at most
 *    2^53 - 1 (jstype = JS_NUMBER) or the field's documented maximum;
 *  - strings are well-formed UTF-8 (stricter than protons' lenient reader, which lets a lone
 *    surrogate round-trip; proto3 requires valid UTF-8).
 *
 * A violation is an InvalidMessageError naming the field, e.g. `components[3].verify_method`.
 */
import { InvalidMessageError } from '../errors.js'

export type FieldKind = 'uint32' | 'uint64' | 'bool' | 'fixed64' | 'string' | 'bytes' | 'message'

export interface FieldSpec {
  readonly no: number
  /** The .proto field name, as errors name it. */
  readonly name: string
  readonly kind: FieldKind
  readonly repeated?: boolean
  /** Largest value of a varint field (default 2^32 - 1 for uint32, 2^53 - 1 for uint64). */
  readonly max?: number
  /** Most elements of a repeated field. */
  readonly maxCount?: number
  /** Exact byte length of a bytes field. */
  readonly exactBytes?: number
  readonly schema?: MessageSchema
}

export interface MessageSchema {
  readonly name: string
  readonly fields: readonly FieldSpec[]
}

const KIND_CODES: Record<FieldKind, number> = { uint32: 0, uint64: 1, bool: 2, fixed64: 3, string: 4, bytes: 5, message: 6 }
const K_BOOL = 2
const K_FIXED64 = 3
const K_STRING = 4
const K_MESSAGE = 6
const WIRE_TYPES = [0, 0, 0, 1, 2, 2, 2]

/** A field as the walk reads it: every property present, one object shape (the walk is hot). */
interface CField {
  readonly spec: FieldSpec
  readonly no: number
  readonly name: string
  readonly kind: number
  readonly wireType: number
  readonly repeated: boolean
  readonly max: number
  readonly maxCount: number
  readonly exactBytes: number
  schema: Compiled | null
}

/** A schema indexed by field number, built once. */
interface Compiled {
  readonly name: string
  readonly byNo: ReadonlyArray<CField | undefined>
}

const compiled = new WeakMap<MessageSchema, Compiled>()

function compile (schema: MessageSchema): Compiled {
  let c = compiled.get(schema)
  if (c === undefined) {
    const byNo: Array<CField | undefined> = []
    c = { name: schema.name, byNo }
    compiled.set(schema, c)
    for (const f of schema.fields) {
      const kind = KIND_CODES[f.kind]
      byNo[f.no] = {
        spec: f,
        no: f.no,
        name: f.name,
        kind,
        wireType: WIRE_TYPES[kind] as number,
        repeated: f.repeated === true,
        max: f.kind === 'bool' ? 1 : f.max ?? (f.kind === 'uint32' ? MAX_UINT32 : MAX_UINT53),
        maxCount: f.maxCount ?? Number.POSITIVE_INFINITY,
        exactBytes: f.exactBytes ?? -1,
        schema: null
      }
    }
    for (const f of schema.fields) if (f.schema !== undefined) (byNo[f.no] as CField).schema = compile(f.schema)
  }
  return c
}

const MAX_UINT32 = 0xffff_ffff
const MAX_UINT53 = Number.MAX_SAFE_INTEGER

/** A violation inside a nested message, before its path is known. */
class Violation extends Error {
  constructor (public field: string, readonly reason: string) {
    super(reason)
  }
}

/**
 * Called for each element of a repeated length-delimited field (message or string) at the
 * walked level, before the walk checks it: true = handled (the hook checks a message itself),
 * false = the walk checks it as usual.
 */
export type MessageHook = (spec: FieldSpec, index: number, start: number, end: number) => boolean

/**
 * Checks that `buf[start, end)` is the canonical encoding of a `schema` message. `hook` may
 * take over the walk of elements of repeated message fields at this level (it must check them
 * itself, e.g. by calling walkCanonical on each). Throws InvalidMessageError naming the field;
 * `what` names the message when no field can be blamed.
 */
export function checkCanonical (buf: Uint8Array, schema: MessageSchema, what: string, hook?: MessageHook, sink: Float64Array | null = null): void {
  try {
    walk(buf, 0, buf.length, compile(schema), hook, sink)
  } catch (err) {
    if (err instanceof Violation) throw new InvalidMessageError(err.field === '' ? what : err.field, err.reason)
    throw err
  }
}

/**
 * The walk of one nested message, for a hook: throws InvalidMessageError with the field path
 * prefixed by `${name}[${index}]` (e.g. `components[7]`). `sink`, if given, receives each
 * scalar field's value at index 2·no (a fixed64: the offset of its 8 bytes; a string or bytes
 * field: its start offset, and its end at 2·no + 1; a repeated message field: its number of
 * elements); absent fields leave it untouched.
 */
export function checkCanonicalNested (buf: Uint8Array, schema: MessageSchema, name: string, index: number, start: number, end: number, sink: Float64Array | null): void {
  try {
    walk(buf, start, end, compile(schema), undefined, sink)
  } catch (err) {
    if (err instanceof Violation) {
      const p = `${name}[${index}]`
      throw new InvalidMessageError(err.field === '' ? p : `${p}.${err.field}`, err.reason)
    }
    throw err
  }
}

/** A Violation's field while it is still "the field being read" (named only if thrown). */
const CURRENT = '\u0000'
/** The walk's cursor: walks are synchronous; a nested walk ends where its message ends. */
let at = 0

/** Reads a varint at the cursor: exact up to 2^53; a larger value stays above 2^53 - 1. */
function readVarint (buf: Uint8Array, end: number): number {
  if (at < end && (buf[at] as number) < 0x80) return buf[at++] as number
  let value = 0
  let mul = 1
  let n = 0
  let b = 0
  do {
    if (at >= end) throw new Violation(CURRENT, 'truncated varint')
    b = buf[at++] as number
    value += (b & 0x7f) * mul
    mul *= 128
    n++
  } while ((b & 0x80) !== 0 && n < 10)
  if ((b & 0x80) !== 0) throw new Violation(CURRENT, 'a varint longer than 10 bytes')
  if (n > 1 && b === 0) throw new Violation(CURRENT, 'a varint not in its shortest form')
  return value
}

function walk (buf: Uint8Array, start: number, end: number, schema: Compiled, hook: MessageHook | undefined, sink: Float64Array | null): void {
  at = start
  let lastNo = 0
  let count = 0
  while (at < end) {
    let tag = buf[at] as number
    if (tag < 0x80) {
      at++ // the common one-byte tag
    } else {
      try {
        tag = readVarint(buf, end)
      } catch (err) {
        if (err instanceof Violation) err.field = ''
        throw err
      }
    }
    if (tag > MAX_UINT32) throw new Violation('', `a field tag above 2^32 - 1 at offset ${at}`)
    const no = Math.floor(tag / 8)
    const wireType = tag % 8
    const spec = no === 0 ? undefined : schema.byNo[no]
    if (spec === undefined) throw new Violation('', `unknown field number ${no} (wire type ${wireType})`)
    const repeated = spec.repeated
    if (no < lastNo || (no === lastNo && !repeated)) {
      throw new Violation(spec.name, no === lastNo ? 'a singular field sent twice' : 'fields out of order (or a repeated field\'s elements not together)')
    }
    count = no === lastNo ? count + 1 : 0
    lastNo = no
    if (count >= spec.maxCount) throw new Violation(spec.name, `more elements than the limit allows (${spec.maxCount})`)
    try {
      field(buf, end, spec, wireType, count, hook, sink)
    } catch (err) {
      if (err instanceof Violation && err.field === CURRENT) err.field = repeated ? `${spec.name}[${count}]` : spec.name
      throw err
    }
  }
}

const KIND_NAMES = ['uint32', 'uint64', 'bool', 'fixed64', 'string', 'bytes', 'message']

function field (buf: Uint8Array, end: number, spec: CField, wireType: number, count: number, hook: MessageHook | undefined, sink: Float64Array | null): void {
  if (wireType !== spec.wireType) throw new Violation(CURRENT, `wire type ${wireType}, expected ${spec.wireType} for a ${KIND_NAMES[spec.kind] as string}`)
  const kind = spec.kind
  if (kind <= K_BOOL) {
    const value = readVarint(buf, end)
    if (value > spec.max) throw new Violation(CURRENT, kind === K_BOOL ? 'a bool other than 1' : `${value > MAX_UINT53 ? 'a value above 2^53 - 1' : String(value)} is above the field's maximum ${spec.max}`)
    if (value === 0 && !spec.repeated) throw new Violation(CURRENT, 'a default value (0) sent explicitly')
    if (sink !== null) sink[2 * spec.no] = value
    return
  }
  if (kind === K_FIXED64) {
    if (at + 8 > end) throw new Violation(CURRENT, 'truncated fixed64')
    if (!spec.repeated && buf[at] === 0 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0 && buf[at + 4] === 0 && buf[at + 5] === 0 && buf[at + 6] === 0 && buf[at + 7] === 0) {
      throw new Violation(CURRENT, 'a default value (0) sent explicitly')
    }
    if (sink !== null) sink[2 * spec.no] = at
    at += 8
    return
  }
  const length = readVarint(buf, end)
  if (length > end - at) throw new Violation(CURRENT, `length ${length} runs past the end of the message`)
  const s = at
  const e = at + length
  if (spec.repeated && hook !== undefined && hook(spec.spec, count, s, e)) {
    at = e
    return
  }
  if (kind === K_MESSAGE) {
    if (sink !== null) sink[2 * spec.no] = count + 1
    try {
      walk(buf, s, e, spec.schema as Compiled, undefined, null)
    } catch (err) {
      if (err instanceof Violation) {
        const name = spec.repeated ? `${spec.name}[${count}]` : spec.name
        err.field = err.field === '' ? name : `${name}.${err.field}`
      }
      throw err
    }
    at = e
    return
  }
  if (length === 0 && !spec.repeated) throw new Violation(CURRENT, 'a default value (empty) sent explicitly')
  if (spec.exactBytes >= 0 && length !== spec.exactBytes) throw new Violation(CURRENT, `expected ${spec.exactBytes} bytes, got ${length}`)
  if (kind === K_STRING && !wellFormedUtf8(buf, s, e)) throw new Violation(CURRENT, 'not well-formed UTF-8')
  if (sink !== null) {
    sink[2 * spec.no] = s
    sink[2 * spec.no + 1] = e
  }
  at = e
}

/** Well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF). */
export function wellFormedUtf8 (b: Uint8Array, start: number, end: number): boolean {
  let i = start
  while (i < end) {
    const c = b[i] as number
    if (c < 0x80) {
      i++
      continue
    }
    if (c < 0xc2 || c > 0xf4) return false
    const n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4
    if (i + n > end) return false
    for (let k = 1; k < n; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return false
    const c1 = b[i + 1] as number
    if (c === 0xe0 && c1 < 0xa0) return false
    if (c === 0xed && c1 >= 0xa0) return false
    if (c === 0xf0 && c1 < 0x90) return false
    if (c === 0xf4 && c1 >= 0x90) return false
    i += n
  }
  return true
}

/** The low and high 32 bits of a fixed64 at `offset` (little-endian), as numbers. */
export function fixed64Words (buf: Uint8Array, offset: number): [lo: number, hi: number] {
  const lo = ((buf[offset] as number) | (buf[offset + 1] as number) << 8 | (buf[offset + 2] as number) << 16 | (buf[offset + 3] as number) << 24) >>> 0
  const hi = ((buf[offset + 4] as number) | (buf[offset + 5] as number) << 8 | (buf[offset + 6] as number) << 16 | (buf[offset + 7] as number) << 24) >>> 0
  return [lo, hi]
}

/** The exact value of a fixed64 at `offset` (little-endian). */
export function fixed64At (buf: Uint8Array, offset: number): bigint {
  const [lo, hi] = fixed64Words(buf, offset)
  return (BigInt(hi) << 32n) | BigInt(lo)
}
