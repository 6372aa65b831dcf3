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

/** A schema indexed by field number, built once. */
interface Compiled {
  readonly name: string
  readonly byNo: ReadonlyArray<FieldSpec | undefined>
}

const compiled = new WeakMap<MessageSchema, Compiled>()

function compile (schema: MessageSchema): Compiled {
  let c = compiled.get(schema)
  if (c === undefined) {
    const byNo: Array<FieldSpec | undefined> = []
    for (const f of schema.fields) byNo[f.no] = f
    c = { name: schema.name, byNo }
    compiled.set(schema, c)
  }
  return c
}

const MAX_UINT32 = 0xffff_ffff
const MAX_UINT53 = Number.MAX_SAFE_INTEGER
const WIRE_TYPE: Record<FieldKind, number> = { uint32: 0, uint64: 0, bool: 0, fixed64: 1, string: 2, bytes: 2, message: 2 }

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
 * prefixed by `prefix` (e.g. `components[7]`). `sink`, if given, receives each scalar field's
 * value at index 2·no (a fixed64: the offset of its 8 bytes; a string or bytes field: its start
 * offset, and its end at 2·no + 1; a repeated message field: its number of elements); absent
 * fields leave it untouched.
 */
export function checkCanonicalNested (buf: Uint8Array, schema: MessageSchema, prefix: string | (() => string), start: number, end: number, sink: Float64Array | null): void {
  try {
    walk(buf, start, end, compile(schema), undefined, sink)
  } catch (err) {
    if (err instanceof Violation) {
      const p = typeof prefix === 'string' ? prefix : prefix()
      throw new InvalidMessageError(err.field === '' ? p : `${p}.${err.field}`, err.reason)
    }
    throw err
  }
}

function walk (buf: Uint8Array, start: number, end: number, schema: Compiled, hook: MessageHook | undefined, sink: Float64Array | null): void {
  let pos = start
  let lastNo = 0
  let count = 0
  // reads a varint at pos; returns its value (exact up to 2^53, larger values stay > 2^53 - 1)
  const varint = (field: string): number => {
    let value = 0
    let mul = 1
    let n = 0
    let b = 0
    do {
      if (pos >= end) throw new Violation(field, 'truncated varint')
      b = buf[pos++] as number
      value += (b & 0x7f) * mul
      mul *= 128
      n++
    } while ((b & 0x80) !== 0 && n < 10)
    if ((b & 0x80) !== 0) throw new Violation(field, 'a varint longer than 10 bytes')
    if (n > 1 && b === 0) throw new Violation(field, 'a varint not in its shortest form')
    return value
  }
  while (pos < end) {
    const tag = varint('')
    if (tag > MAX_UINT32) throw new Violation('', `a field tag above 2^32 - 1 at offset ${pos}`)
    const no = Math.floor(tag / 8)
    const wireType = tag % 8
    const spec = no === 0 ? undefined : schema.byNo[no]
    if (spec === undefined) throw new Violation('', `unknown field number ${no} (wire type ${wireType})`)
    const repeated = spec.repeated === true
    if (no < lastNo || (no === lastNo && !repeated)) {
      throw new Violation(spec.name, no === lastNo ? 'a singular field sent twice' : 'fields out of order (or a repeated field\'s elements not together)')
    }
    count = no === lastNo ? count + 1 : 0
    lastNo = no
    const field = repeated ? `${spec.name}[${count}]` : spec.name
    if (repeated && spec.maxCount !== undefined && count >= spec.maxCount) throw new Violation(spec.name, `more elements than the limit allows (${spec.maxCount})`)
    if (wireType !== WIRE_TYPE[spec.kind]) throw new Violation(field, `wire type ${wireType}, expected ${WIRE_TYPE[spec.kind]} for a ${spec.kind}`)
    switch (spec.kind) {
      case 'uint32':
      case 'uint64':
      case 'bool': {
        const value = varint(field)
        const max = spec.kind === 'bool' ? 1 : spec.max ?? (spec.kind === 'uint32' ? MAX_UINT32 : MAX_UINT53)
        if (value > max) throw new Violation(field, spec.kind === 'bool' ? 'a bool other than 1' : `${value > MAX_UINT53 ? 'a value above 2^53 - 1' : String(value)} is above the field's maximum ${max}`)
        if (value === 0 && !repeated) throw new Violation(field, 'a default value (0) sent explicitly')
        if (sink !== null) sink[2 * no] = value
        break
      }
      case 'fixed64': {
        if (pos + 8 > end) throw new Violation(field, 'truncated fixed64')
        let zero = true
        for (let i = 0; i < 8; i++) if (buf[pos + i] !== 0) { zero = false; break }
        if (zero && !repeated) throw new Violation(field, 'a default value (0) sent explicitly')
        if (sink !== null) sink[2 * no] = pos
        pos += 8
        break
      }
      default: {
        const length = varint(field)
        if (length > end - pos) throw new Violation(field, `length ${length} runs past the end of the message`)
        const s = pos
        pos += length
        if (repeated && hook !== undefined && hook(spec, count, s, pos)) break
        if (spec.kind === 'message') {
          if (sink !== null) sink[2 * no] = count + 1
          try {
            walk(buf, s, pos, compile(spec.schema as MessageSchema), undefined, null)
          } catch (err) {
            if (err instanceof Violation) err.field = err.field === '' ? field : `${field}.${err.field}`
            throw err
          }
          break
        }
        if (length === 0 && !repeated) throw new Violation(field, 'a default value (empty) sent explicitly')
        if (spec.exactBytes !== undefined && length !== spec.exactBytes) throw new Violation(field, `expected ${spec.exactBytes} bytes, got ${length}`)
        if (spec.kind === 'string' && !wellFormedUtf8(buf, s, pos)) throw new Violation(field, 'not well-formed UTF-8')
        if (sink !== null) {
          sink[2 * no] = s
          sink[2 * no + 1] = pos
        }
      }
    }
  }
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

/** The exact value of a fixed64 at `offset` (little-endian). */
export function fixed64At (buf: Uint8Array, offset: number): bigint {
  let lo = 0
  let hi = 0
  for (let i = 3; i >= 0; i--) {
    lo = lo * 256 + (buf[offset + i] as number)
    hi = hi * 256 + (buf[offset + 4 + i] as number)
  }
  return (BigInt(hi) << 32n) | BigInt(lo)
}
