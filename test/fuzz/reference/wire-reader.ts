/**
 * The fuzzer's reference protobuf reader and writer, written from the protobuf wire-format
 * specification and driven by the message tables in ./tables.ts — independent of wire.ts and
 * of protons. It has two modes:
 *
 *  - canonical: the bytes must be exactly what the canonical writer below produces for the
 *    decoded value (ascending field numbers, each singular field at most once, no unknown
 *    fields, no default-valued singular scalar, minimal varints, the declared wire type,
 *    repeated scalars unpacked as protons writes them), uint32 fields at most 2^32 - 1 and
 *    strings valid UTF-8. Anything else is refused.
 *  - lenient: proto3 parsing as the decoders did before the canonical rule (last value wins, unknown fields
 *    skipped, uint32 varints truncated to 32 bits). Where protons' reader does something the
 *    standard does not define the same way (a wire type that differs from the declared one, a
 *    6-9 byte uint32 varint, a non-minimal uint64 varint — protons advances by the value's
 *    minimal length —, invalid UTF-8, a group, a nested field running past its message), the
 *    verdict is `Indeterminate`: the fuzzer counts those inputs and does not compare them.
 *
 * In both modes every uint64 (JS_NUMBER) value above 2^53 - 1 is refused.
 */

export type FieldType = 'string' | 'bytes' | 'uint32' | 'uint64' | 'fixed64' | 'bool' | 'message'

export interface FieldSpec {
  no: number
  name: string
  type: FieldType
  repeated?: boolean
  /** Most elements a repeated field may carry: the reader refuses the one past it (canonical mode) instead of building a million elements. */
  maxCount?: number
  /** The nested message's table (type 'message'). */
  message?: () => MessageSpec
}

export interface MessageSpec {
  name: string
  fields: readonly FieldSpec[]
}

/** A decoded message: field name → value (repeated: array). Strings may be raw bytes when a mutator injects invalid UTF-8. */
export type Decoded = Record<string, unknown>

export class Refuse extends Error {
  constructor (readonly reason: string) { super(reason) }
}

export class Indeterminate extends Error {
  constructor (readonly reason: string) { super(reason) }
}

const WIRE: Record<FieldType, number> = { string: 2, bytes: 2, message: 2, uint32: 0, uint64: 0, bool: 0, fixed64: 1 }
const MAX_SAFE = Number.MAX_SAFE_INTEGER
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const UTF8_OUT = new TextEncoder()

interface Varint {
  /** Bytes used; -1: no terminator before the buffer ends; -2: no terminator within 10 bytes. */
  len: number
  /** The value as a double (exact up to 2^53). */
  value: number
  /** The low 32 bits. */
  lo32: number
  minimal: boolean
}

function varintAt (buf: Uint8Array, pos: number): Varint {
  let value = 0
  let lo32 = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    if (pos + i >= buf.length) return { len: -1, value, lo32, minimal: false }
    const b = buf[pos + i] as number
    value += (b & 0x7f) * scale
    if (i < 4) lo32 |= (b & 0x7f) << (7 * i)
    else if (i === 4) lo32 |= (b & 0x0f) << 28
    scale *= 128
    if (b < 0x80) return { len: i + 1, value, lo32: lo32 >>> 0, minimal: i === 0 || b !== 0 }
  }
  return { len: -2, value, lo32: lo32 >>> 0, minimal: false }
}

class Cursor {
  constructor (readonly buf: Uint8Array, public pos: number, readonly end: number, readonly canonical: boolean) {}

  /** Past the message's end but inside the buffer: protons reads on into the next field. */
  overrun (what: string): never {
    if (this.canonical) throw new Refuse(`${what} runs past its message`)
    throw new Indeterminate(`${what} runs past its nested message`)
  }

  /** A varint read the way a uint32 field, a tag or a length is read. */
  uint32 (what: string): number {
    const v = varintAt(this.buf, this.pos)
    if (v.len === -1) throw new Refuse(`${what}: truncated varint`)
    if (v.len === -2) {
      if (this.canonical) throw new Refuse(`${what}: varint longer than 10 bytes`)
      throw new Indeterminate(`${what}: varint longer than 10 bytes (protons skips 5 bytes blindly)`)
    }
    if (this.pos + v.len > this.end) this.overrun(what)
    if (this.canonical) {
      if (!v.minimal) throw new Refuse(`${what}: non-minimal varint`)
      if (v.value > 0xffffffff) throw new Refuse(`${what}: above 2^32 - 1`)
    } else if (v.len > 5 && v.len < 10) {
      throw new Indeterminate(`${what}: ${v.len}-byte uint32 varint`)
    }
    this.pos += v.len
    return v.lo32
  }

  uint64 (what: string): number {
    const v = varintAt(this.buf, this.pos)
    if (v.len === -1 || v.len === -2 || v.len > 8) throw new Refuse(`${what}: not a uint64 of at most 2^53 - 1`)
    if (this.pos + v.len > this.end) this.overrun(what)
    if (v.value > MAX_SAFE) throw new Refuse(`${what}: above 2^53 - 1`)
    if (!v.minimal) {
      if (this.canonical) throw new Refuse(`${what}: non-minimal varint`)
      throw new Indeterminate(`${what}: non-minimal uint64 varint (protons advances by the minimal length)`)
    }
    this.pos += v.len
    return v.value
  }

  take (n: number, what: string): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Refuse(`${what}: truncated`)
    if (this.pos + n > this.end) this.overrun(what)
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  skipUnknown (wireType: number, what: string): void {
    switch (wireType) {
      case 0: {
        // protons skips a varint of any length
        let p = this.pos
        for (;;) {
          if (p >= this.buf.length) throw new Refuse(`${what}: truncated varint`)
          if (((this.buf[p++] as number) & 0x80) === 0) break
        }
        if (p > this.end) this.overrun(what)
        this.pos = p
        return
      }
      case 1: this.take(8, what); return
      case 2: this.take(this.uint32(`${what} length`), what); return
      case 5: this.take(4, what); return
      case 3: throw new Indeterminate(`${what}: a group`)
      default: throw new Refuse(`${what}: invalid wire type ${wireType}`)
    }
  }
}

function defaultOf (f: FieldSpec): unknown {
  if (f.repeated === true) return []
  switch (f.type) {
    case 'string': return ''
    case 'bytes': return new Uint8Array(0)
    case 'uint32': case 'uint64': return 0
    case 'fixed64': return 0n
    case 'bool': return false
    case 'message': return null
  }
}

function isDefault (f: FieldSpec, v: unknown): boolean {
  switch (f.type) {
    case 'string': return v === ''
    case 'bytes': return (v as Uint8Array).length === 0
    case 'uint32': case 'uint64': return v === 0
    case 'fixed64': return v === 0n
    case 'bool': return v === false
    case 'message': return false
  }
}

function readValue (c: Cursor, f: FieldSpec, what: string): unknown {
  switch (f.type) {
    case 'uint32': return c.uint32(what)
    case 'uint64': return c.uint64(what)
    case 'bool': {
      const v = c.uint32(what)
      if (c.canonical && v > 1) throw new Refuse(`${what}: a bool other than 0 or 1`)
      return v !== 0
    }
    case 'fixed64': {
      const b = c.take(8, what)
      let v = 0n
      for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number)
      return v
    }
    case 'bytes': return Uint8Array.from(c.take(c.uint32(`${what} length`), what))
    case 'string': {
      const b = c.take(c.uint32(`${what} length`), what)
      try {
        return UTF8.decode(b)
      } catch {
        if (c.canonical) throw new Refuse(`${what}: invalid UTF-8`)
        throw new Indeterminate(`${what}: invalid UTF-8 (protons decodes it its own way)`)
      }
    }
    case 'message': {
      const len = c.uint32(`${what} length`)
      if (c.pos + len > c.buf.length) throw new Refuse(`${what}: truncated`)
      if (c.pos + len > c.end) c.overrun(what)
      const inner = new Cursor(c.buf, c.pos, c.pos + len, c.canonical)
      const out = readFields(inner, (f.message as () => MessageSpec)(), what)
      c.pos += len
      return out
    }
  }
}

function readFields (c: Cursor, spec: MessageSpec, path: string): Decoded {
  const out: Decoded = {}
  for (const f of spec.fields) out[f.name] = defaultOf(f)
  let lastNo = 0
  const seen = new Set<number>()
  while (c.pos < c.end) {
    const tag = c.uint32(`${path} tag`)
    const no = tag >>> 3
    const wt = tag & 7
    const f = spec.fields.find(x => x.no === no)
    const what = `${path}.${f?.name ?? `#${no}`}`
    if (f === undefined) {
      if (c.canonical) throw new Refuse(`${what}: unknown field`)
      c.skipUnknown(wt, what)
      continue
    }
    if (wt !== WIRE[f.type]) {
      if (c.canonical) throw new Refuse(`${what}: wire type ${wt}, declared ${WIRE[f.type]}`)
      throw new Indeterminate(`${what}: wire type ${wt}, declared ${WIRE[f.type]} (protons reads the declared type)`)
    }
    if (c.canonical) {
      if (no < lastNo) throw new Refuse(`${what}: out of order`)
      if (f.repeated !== true && seen.has(no)) throw new Refuse(`${what}: repeated singular field`)
    }
    lastNo = no
    seen.add(no)
    if (c.canonical && f.repeated === true && f.maxCount !== undefined && (out[f.name] as unknown[]).length >= f.maxCount) throw new Refuse(`${what}: more than ${f.maxCount}`)
    const v = readValue(c, f, what)
    if (f.repeated === true) (out[f.name] as unknown[]).push(v)
    else {
      if (c.canonical && isDefault(f, v)) throw new Refuse(`${what}: a default value is written`)
      out[f.name] = v
    }
  }
  return out
}

/** Parses `buf` as `spec`; throws Refuse or Indeterminate. */
export function readMessage (buf: Uint8Array, spec: MessageSpec, canonical: boolean): Decoded {
  return readFields(new Cursor(buf, 0, buf.length, canonical), spec, spec.name)
}

// ---- the canonical writer ---------------------------------------------------------------------

class Out {
  parts: number[] = []
  varint (n: number): void {
    let v = n
    while (v >= 0x80) {
      this.parts.push((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    this.parts.push(v)
  }

  raw (b: Uint8Array): void { for (const x of b) this.parts.push(x) }
}

function writeValue (o: Out, f: FieldSpec, v: unknown): void {
  o.varint(f.no * 8 + WIRE[f.type])
  switch (f.type) {
    case 'uint32': case 'uint64': o.varint(v as number); return
    case 'bool': o.varint(v === true ? 1 : 0); return
    case 'fixed64': {
      let x = BigInt.asUintN(64, v as bigint)
      for (let i = 0; i < 8; i++) { o.parts.push(Number(x & 0xffn)); x >>= 8n }
      return
    }
    case 'bytes': case 'string': {
      const b = typeof v === 'string' ? UTF8_OUT.encode(v) : v as Uint8Array
      o.varint(b.length)
      o.raw(b)
      return
    }
    case 'message': {
      const inner = encodeDecoded(v as Decoded, (f.message as () => MessageSpec)())
      o.varint(inner.length)
      o.raw(inner)
    }
  }
}

/** The canonical encoding of a decoded (or mutated) value. */
export function encodeDecoded (d: Decoded, spec: MessageSpec): Uint8Array {
  const o = new Out()
  for (const f of [...spec.fields].sort((a, b) => a.no - b.no)) {
    const v = d[f.name]
    if (v === undefined || v === null) continue
    if (f.repeated === true) for (const x of v as unknown[]) writeValue(o, f, x)
    else if (!isDefault(f, v)) writeValue(o, f, v)
  }
  return Uint8Array.from(o.parts)
}
