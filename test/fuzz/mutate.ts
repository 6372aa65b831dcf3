/**
 * Structure-aware mutators. Three layers, each driven by the message tables:
 *  - values: a decoded message's field replaced by an edge value of its type and rules
 *    (limits and one past, path tricks, invalid UTF-8, node ids with a flipped byte, counts at
 *    each limit and one past, duplicates and reorders of repeated elements), then written
 *    back canonically;
 *  - wire: the encoded fields re-arranged (duplicated, dropped, swapped, unknown fields, wrong
 *    wire types, overlong/huge/negative varints, truncated or lying lengths, packed repeats),
 *    recursing into nested messages;
 *  - bytes: flips, inserts, deletes, truncation; and pure random bytes.
 */
import type { FuzzRng } from './prng.js'
import { base58Decode, base58Encode, MAX_TIME, MIN_TIME } from './reference/rules.js'
import type { RuleField, RuleMessage } from './reference/tables.js'
import type { Decoded } from './reference/wire-reader.js'

// ---- values ------------------------------------------------------------------------------------

const U32_EDGES = [0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 127, 128, 255, 256, 8191, 8192, 8193, 65_535, 65_536, 65_537, 600_000, 600_001, 999_999, 1_000_000, 1_000_001, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]
const U64_EDGES = [...U32_EDGES, 2 ** 32, 2 ** 32 + 1, 2 ** 35, 2 ** 49, 2 ** 53 - 2, Number.MAX_SAFE_INTEGER]
const T64_EDGES = [0n, 1n, MIN_TIME - 1n, MIN_TIME, MIN_TIME + 1n, MAX_TIME - 1n, MAX_TIME, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, BigInt(Number.MAX_SAFE_INTEGER), 2n ** 53n + 1n]

const TRICK_STRINGS = [
  '', '.', '..', '/', '//', 'a/', '/a', 'a//b', 'a/./b', 'a/../b', '../a', 'a/..', '\\', 'a\\b', 'a\0b', '\0', '.cairn', '.CAIRN', '.Cairn-history/x', 'a/.cairn-destination',
  '.cairnx', 'a.cairn', ' ', 'a ', 'CON', 'x'.repeat(255), 'x'.repeat(256), `${'x'.repeat(255)}/${'y'.repeat(255)}`, `${'a/'.repeat(2047)}b`, `${'a/'.repeat(2048)}b`, 'é'.repeat(127), 'é'.repeat(128), '\u00e9', 'e\u0301', '\ufeffa', '\ud83d\udcf7',
  'a'.repeat(64), 'a'.repeat(65), 'a'.repeat(128), 'a'.repeat(129), 'A', 'Ab', '-a', '_a', '.a', 'a.', 'a-b_c.d', '0', 'dir:', 'dir:' + '0'.repeat(32), 'dir:' + '0'.repeat(31), 'dir:' + '0'.repeat(33), 'dir:' + 'A'.repeat(32), 'dir:' + 'g'.repeat(32), 'DIR:' + '0'.repeat(32),
  '12D3KooW', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
]

/** Byte strings that are not UTF-8 (or are, but unusually): overlong, surrogates, truncated, BOM. */
const RAW_STRINGS: Uint8Array[] = [
  [0xc0, 0xae], [0xc0, 0xae, 0xc0, 0xae], [0x61, 0x2f, 0xc0, 0xae, 0xc0, 0xae], [0xc0, 0xaf], [0xe0, 0x80, 0xae], [0xed, 0xa0, 0x80], [0x61, 0xed, 0xbf, 0xbf], [0xed, 0xa0, 0xbd, 0xed, 0xb3, 0xb7],
  [0xff], [0xfe, 0xff], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x93], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbb, 0xbf, 0x61], [0x61, 0x00], [0xc0, 0x80]
].map(b => Uint8Array.from(b))

function mutateNodeIdString (r: FuzzRng, s: string): string | Uint8Array {
  const b = base58Decode(s)
  if (b === null || b.length === 0) return s + r.pick(['1', 'x', 'O', '0', 'l', 'I'])
  const c = Uint8Array.from(b)
  switch (r.int(0, 5)) {
    case 0: { const i = r.int(0, c.length - 1); c[i] = (c[i] as number) ^ (1 << r.int(0, 7)); return base58Encode(c) }
    case 1: return base58Encode(c.subarray(0, c.length - 1))
    case 2: return base58Encode(Uint8Array.from([...c, r.int(0, 255)]))
    // the key protobuf with its two fields swapped: { data, type } instead of { type, data }
    case 3: return base58Encode(Uint8Array.from([0x00, 0x24, 0x12, 0x20, ...c.subarray(6), 0x08, 0x01]))
    // a sha256 multihash of the same key protobuf (a non-identity peer id)
    case 4: return base58Encode(Uint8Array.from([0x12, 0x20, ...c.subarray(6)]))
    default: return '1' + s
  }
}

function stringValue (r: FuzzRng, current: unknown): string | Uint8Array {
  const s = typeof current === 'string' ? current : ''
  switch (r.int(0, 7)) {
    case 0: return r.pick(TRICK_STRINGS)
    case 1: return r.pick(RAW_STRINGS)
    case 2: { const raw = r.pick(RAW_STRINGS); const b = Buffer.from(s); const at = r.int(0, b.length); return Uint8Array.from([...b.subarray(0, at), ...raw, ...b.subarray(at)]) }
    case 3: return s.startsWith('12D3') ? mutateNodeIdString(r, s) : s + r.pick(['/', '/..', '\0', '/.cairn', 'A', 'x'])
    case 4: return r.pick(['../', '/', './', '.cairn/', 'A']) + s
    case 5: { if (s.length === 0) return 'x'; const at = r.int(0, s.length - 1); return s.slice(0, at) + r.pick(['/', '.', '\\', '\0', 'A', '-', ' ', '\u00e9', '\ud800']) + s.slice(at + 1) }
    case 6: return s.slice(0, r.int(0, s.length))
    default: return s.repeat(r.int(2, 3))
  }
}

function bytesValue (r: FuzzRng, current: Uint8Array): Uint8Array {
  switch (r.int(0, 3)) {
    case 0: return r.bytes(r.pick([0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]))
    case 1: { const c = Uint8Array.from(current); if (c.length > 0) { const i = r.int(0, c.length - 1); c[i] = (c[i] as number) ^ (1 << r.int(0, 7)) } return c }
    case 2: return current.subarray(0, r.int(0, current.length))
    default: return Uint8Array.from([...current, ...r.bytes(r.int(1, 3))])
  }
}

function scalarValue (r: FuzzRng, f: RuleField, current: unknown): unknown {
  switch (f.type) {
    case 'uint32': return r.chance(0.7) ? r.pick(U32_EDGES) : Math.max(0, Math.min(2 ** 32 - 1, (current as number) + r.int(-2, 2)))
    case 'uint64': return r.chance(0.7) ? r.pick(U64_EDGES) : Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, (current as number) + r.int(-2, 2)))
    case 'fixed64': return r.chance(0.6) ? r.pick(T64_EDGES) : BigInt.asUintN(64, (current as bigint) + BigInt(r.int(-300, 300)))
    case 'bool': return current !== true
    case 'string': return stringValue(r, current)
    case 'bytes': return bytesValue(r, current as Uint8Array)
    default: return current
  }
}

/** A repeated field's elements at its limit, or one past it (distinct where the rules ask for it). */
function atLimit (r: FuzzRng, f: RuleField, xs: unknown[]): unknown[] | null {
  const max = f.maxCount
  if (max === undefined || max > 70_000 || xs.length === 0) return null
  const n = max + r.int(0, 1)
  const out = new Array<unknown>(n)
  for (let i = 0; i < n; i++) {
    const x = xs[i % xs.length]
    if (f.type === 'string' && f.name === 'names') out[i] = i < xs.length ? x : `l-${i}`
    else if (f.type === 'string' && f.name === 'placed_at') out[i] = `dir:${i.toString(16).padStart(32, '0')}`
    else if (f.type === 'message' && typeof (x as Decoded).path === 'string') out[i] = { ...(x as Decoded), path: `${i}/${(x as Decoded).path as string}` }
    else if (f.type === 'message' && typeof (x as Decoded).entry === 'number') out[i] = { ...(x as Decoded), entry: i }
    else out[i] = x
  }
  return out
}

function repeatedValue (r: FuzzRng, f: RuleField, xs: unknown[]): unknown[] {
  const c = [...xs]
  switch (r.int(0, 5)) {
    case 0: if (c.length > 0) c.splice(r.int(0, c.length - 1), 1); return c
    case 1: if (c.length > 0) c.splice(r.int(0, c.length), 0, c[r.int(0, c.length - 1)]); return c
    case 2: if (c.length > 1) { const i = r.int(0, c.length - 1); const j = r.int(0, c.length - 1); [c[i], c[j]] = [c[j], c[i]] } return c
    case 3: return c.reverse()
    case 4: return (r.chance(0.02) ? atLimit(r, f, c) : null) ?? c
    default: {
      if (f.type === 'message') return c
      c.push(scalarValue(r, f, c[0]))
      return c
    }
  }
}

const NUMERIC = new Set(['uint32', 'uint64', 'fixed64'])

/** One number set next to another of the same message (floor_run vs origin_run, expires vs issued, label vs owner): where cross-field rules live. */
function neighbour (r: FuzzRng, d: Decoded, spec: RuleMessage): Decoded | null {
  const nums = spec.fields.filter(f => f.repeated !== true && NUMERIC.has(f.type))
  if (nums.length < 2) return null
  const a = r.pick(nums)
  const b = r.pick(nums.filter(f => f !== a))
  const delta = r.int(-1, 1)
  const v = d[b.name]
  const next = typeof v === 'bigint' ? v + BigInt(delta) : (v as number) + delta
  const ok = a.type === 'fixed64' ? BigInt(next) >= 0n && BigInt(next) < 2n ** 64n : Number(next) >= 0 && Number(next) <= (a.type === 'uint32' ? 2 ** 32 - 1 : Number.MAX_SAFE_INTEGER)
  if (!ok) return null
  return { ...d, [a.name]: a.type === 'fixed64' ? BigInt(next) : Number(next) }
}

/** Returns a copy of `d` with one field (possibly nested) changed. */
export function mutateValue (r: FuzzRng, d: Decoded, spec: RuleMessage): Decoded {
  if (r.chance(0.2)) {
    const n = neighbour(r, d, spec)
    if (n !== null) return n
  }
  const out: Decoded = { ...d }
  // nested messages (components, entries, exceptions) hold most of the rules: half the picks
  const nested = spec.fields.filter(x => x.type === 'message' && (d[x.name] as unknown[]).length > 0)
  const f = nested.length > 0 && r.chance(0.5) ? r.pick(nested) : r.pick(spec.fields)
  const v = out[f.name]
  if (f.repeated === true) {
    const xs = v as unknown[]
    if (f.type === 'message' && xs.length > 0 && r.chance(0.75)) {
      const i = r.int(0, xs.length - 1)
      const copy = [...xs]
      copy[i] = mutateValue(r, xs[i] as Decoded, (f.message as () => RuleMessage)())
      out[f.name] = copy
    } else if (f.type !== 'message' && xs.length > 0 && r.chance(0.5)) {
      const copy = [...xs]
      const i = r.int(0, xs.length - 1)
      copy[i] = scalarValue(r, f, xs[i])
      out[f.name] = copy
    } else {
      out[f.name] = repeatedValue(r, f, xs)
    }
  } else if (f.type !== 'message') {
    out[f.name] = scalarValue(r, f, v)
  }
  return out
}

// ---- wire --------------------------------------------------------------------------------------

interface Token { no: number, wt: number, tag: Uint8Array, body: Uint8Array /* value bytes incl. length prefix for wt 2 */, content?: Uint8Array }

function uvarint (n: number | bigint): number[] {
  let v = BigInt(n)
  const out: number[] = []
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n }
  out.push(Number(v))
  return out
}

function overlong (n: number | bigint, extra: number): number[] {
  const b = uvarint(n)
  b[b.length - 1] = (b[b.length - 1] as number) | 0x80
  for (let i = 1; i < extra; i++) b.push(0x80)
  b.push(0)
  return b
}

/** Splits bytes into top-level fields, as far as they parse. */
function tokenize (buf: Uint8Array): Token[] {
  const out: Token[] = []
  let pos = 0
  const varint = (): number | null => {
    let v = 0; let scale = 1
    for (let i = 0; i < 10 && pos < buf.length; i++) {
      const b = buf[pos++] as number
      v += (b & 0x7f) * scale; scale *= 128
      if (b < 0x80) return v
    }
    return null
  }
  while (pos < buf.length) {
    const start = pos
    const tag = varint()
    if (tag === null) break
    const tagEnd = pos
    const wt = tag % 8
    let contentStart = pos
    if (wt === 0) { if (varint() === null) break } else if (wt === 1) pos += 8
    else if (wt === 5) pos += 4
    else if (wt === 2) { const len = varint(); if (len === null) break; contentStart = pos; pos += len } else break
    if (pos > buf.length) break
    out.push({ no: Math.floor(tag / 8), wt, tag: buf.subarray(start, tagEnd), body: buf.subarray(tagEnd, pos), ...(wt === 2 ? { content: buf.subarray(contentStart, pos) } : {}) })
  }
  return out
}

function join (tokens: Token[]): Uint8Array {
  const parts: number[] = []
  for (const t of tokens) { for (const b of t.tag) parts.push(b); for (const b of t.body) parts.push(b) }
  return Uint8Array.from(parts)
}

function tagOf (no: number, wt: number): Uint8Array { return Uint8Array.from(uvarint(no * 8 + wt)) }

const HUGE: Array<number | bigint> = [2n ** 32n, 2n ** 32n + 1n, 2n ** 32n + 5n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 56n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 2n, 2n ** 35n]

function randomBody (r: FuzzRng, wt: number): Uint8Array {
  switch (wt) {
    case 0: return Uint8Array.from(uvarint(r.int(0, 300)))
    case 1: return r.bytes(8)
    case 2: { const n = r.int(0, 6); return Uint8Array.from([...uvarint(n), ...r.bytes(n)]) }
    case 5: return r.bytes(4)
    default: return r.bytes(r.int(0, 3))
  }
}

/** One structural change to the wire form of `buf`, a message of type `spec`. */
export function mutateWire (r: FuzzRng, buf: Uint8Array, spec: RuleMessage): Uint8Array {
  const tokens = tokenize(buf)
  const i = tokens.length === 0 ? -1 : r.int(0, tokens.length - 1)
  const t = tokens[i]
  switch (r.int(0, 11)) {
    case 0: if (t !== undefined) tokens.splice(i, 1); break
    case 1: if (t !== undefined) tokens.splice(r.int(0, tokens.length), 0, t); break
    case 2: if (tokens.length > 1) { const j = r.int(0, tokens.length - 1); [tokens[i], tokens[j]] = [tokens[j] as Token, t as Token] } break
    case 3: { // an unknown (or reserved, or zero) field
      const maxNo = Math.max(...spec.fields.map(f => f.no))
      const no = r.pick([0, maxNo + 1, maxNo + 2, 15, 16, 8, 9, 2 ** 29 - 1, r.int(1, 40)])
      const wt = r.pick([0, 1, 2, 5, 0, 2, 3, 4, 6, 7])
      tokens.splice(r.int(0, tokens.length), 0, { no, wt, tag: tagOf(no, wt), body: randomBody(r, wt) })
      break
    }
    case 4: if (t !== undefined) tokens[i] = { ...t, tag: tagOf(t.no, r.pick([0, 1, 2, 5, 3, 4, 6, 7].filter(w => w !== t.wt))) }; break
    case 5: if (t !== undefined) tokens[i] = { ...t, tag: Uint8Array.from(overlong(t.no * 8 + t.wt, r.int(1, 5))) }; break
    case 6: { // a varint value: overlong, huge, negative as uint64
      const v = tokens.filter(x => x.wt === 0)
      const x = v.length === 0 ? undefined : r.pick(v)
      if (x === undefined) break
      const val = Number(readVarintLoose(x.body))
      const body = r.pick([
        () => overlong(val, r.int(1, 5)),
        () => uvarint(r.pick(HUGE)),
        () => uvarint(BigInt.asUintN(64, BigInt(-r.int(1, 3)))),
        () => uvarint(BigInt(val) + 2n ** 32n),
        () => [...overlong(val, 9 - uvarint(val).length)],
        () => [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
      ])()
      tokens[tokens.indexOf(x)] = { ...x, body: Uint8Array.from(body) }
      break
    }
    case 7: { // a lying length on a length-delimited field
      const v = tokens.filter(x => x.wt === 2 && x.content !== undefined)
      const x = v.length === 0 ? undefined : r.pick(v)
      if (x === undefined) break
      const len = (x.content as Uint8Array).length
      const lie = r.pick([len + 1, len + 2, Math.max(0, len - 1), 0, 2 ** 31, 2 ** 32 - 1, len + 2 ** 32])
      tokens[tokens.indexOf(x)] = { ...x, body: Uint8Array.from([...(r.chance(0.3) ? overlong(lie, 1) : uvarint(lie)), ...(x.content as Uint8Array)]) }
      break
    }
    case 8: { // recurse into a nested message, then fix its length (mostly)
      const nested = tokens.filter(x => x.wt === 2 && spec.fields.some(f => f.no === x.no && f.type === 'message'))
      const x = nested.length === 0 ? undefined : r.pick(nested)
      if (x === undefined) break
      const f = spec.fields.find(ff => ff.no === x.no) as RuleField
      const inner = mutateWire(r, x.content as Uint8Array, (f.message as () => RuleMessage)())
      const len = r.chance(0.85) ? inner.length : inner.length + r.pick([-1, 1, 2])
      tokens[tokens.indexOf(x)] = { ...x, body: Uint8Array.from([...uvarint(Math.max(0, len)), ...inner]), content: inner }
      break
    }
    case 9: { // repeated uint32 written packed (protons writes them unpacked)
      const f = spec.fields.find(ff => ff.repeated === true && ff.type === 'uint32')
      if (f === undefined) break
      const elems = tokens.filter(x => x.no === f.no && x.wt === 0)
      const packed = elems.flatMap(e => [...e.body])
      const rest = tokens.filter(x => !(x.no === f.no && x.wt === 0))
      rest.splice(r.int(0, rest.length), 0, { no: f.no, wt: 2, tag: tagOf(f.no, 2), body: Uint8Array.from([...uvarint(packed.length), ...packed]) })
      return join(rest)
    }
    case 10: { // cut the message inside a field
      const whole = join(tokens)
      return whole.subarray(0, r.int(0, Math.max(0, whole.length - 1)))
    }
    default: if (t !== undefined) tokens.push(t); break
  }
  return join(tokens)
}

function readVarintLoose (b: Uint8Array): bigint {
  let v = 0n
  for (let i = 0; i < b.length; i++) {
    v |= BigInt((b[i] as number) & 0x7f) << BigInt(7 * i)
    if (((b[i] as number) & 0x80) === 0) break
  }
  return v
}

// ---- bytes -------------------------------------------------------------------------------------

export function mutateBytes (r: FuzzRng, buf: Uint8Array): Uint8Array {
  const c = [...buf]
  const n = r.int(1, 4)
  for (let k = 0; k < n; k++) {
    switch (r.int(0, 4)) {
      case 0: if (c.length > 0) { const i = r.int(0, c.length - 1); c[i] = (c[i] as number) ^ (1 << r.int(0, 7)) } break
      case 1: if (c.length > 0) c[r.int(0, c.length - 1)] = r.pick([0x00, 0x7f, 0x80, 0xff, r.int(0, 255)]); break
      case 2: c.splice(r.int(0, c.length), 0, ...r.bytes(r.int(1, 3))); break
      case 3: if (c.length > 0) c.splice(r.int(0, c.length - 1), r.int(1, 3)); break
      default: c.length = r.int(0, c.length); break
    }
  }
  return Uint8Array.from(c)
}

export function randomBytes (r: FuzzRng): Uint8Array {
  return r.bytes(r.chance(0.8) ? r.int(0, 64) : r.int(0, 2048))
}

/**
 * A repeated field with a large limit (components, need, failures) filled to the limit or one
 * past it with minimal elements, appended at the wire level (values 0, 1, 2.. for a uint32, an
 * empty message otherwise). Costs up to ~2 MB and a few hundred ms: the fuzzer uses it rarely.
 */
export function oversize (r: FuzzRng, buf: Uint8Array, spec: RuleMessage): Uint8Array {
  const big = spec.fields.filter(f => f.repeated === true && (f.maxCount ?? 0) > 70_000)
  if (big.length === 0) return buf
  const f = r.pick(big)
  const n = (f.maxCount as number) + r.int(0, 1)
  const tag = uvarint(f.no * 8 + (f.type === 'uint32' ? 0 : 2))
  const rest = tokenize(buf).filter(t => t.no !== f.no)
  const before = join(rest.filter(t => t.no < f.no))
  const after = join(rest.filter(t => t.no > f.no))
  const out = new Uint8Array(before.length + n * (tag.length + 3) + after.length)
  out.set(before, 0)
  let pos = before.length
  for (let i = 0; i < n; i++) {
    for (const b of tag) out[pos++] = b
    if (f.type !== 'uint32') { out[pos++] = 0; continue }
    let v = i
    while (v >= 0x80) { out[pos++] = (v & 0x7f) | 0x80; v >>>= 7 }
    out[pos++] = v
  }
  out.set(after, pos)
  return out.subarray(0, pos + after.length)
}
