/**
 * A direct encoder of Assertion payloads: the bytes protons' generated encoder writes (field
 * order, omitted defaults, varints, little-endian fixed64), computed in one pass for the size
 * and one pass that writes into a single buffer. The generated encoder builds a wire object
 * and a linked list of write operations per field; for an assertion of 100,000 components
 * that was most of a seal's time and memory (bench/README.md, assertion-seal-open).
 *
 * It takes the wire-shaped numbers wire.ts computes (dictionary indexes, method codes) and
 * answers null for any value it does not write exactly as protons would (a negative or
 * non-integer number, a string with a lone surrogate): the caller then uses the generated
 * encoder. test/protocol/assertion-encoder.test.ts holds the two to the same bytes.
 */

/** One component as the wire carries it (pb.Component's fields, verified_at as a number). */
export interface WireComponent {
  destination: number
  originNode: number
  originRun: number
  verifyMethod: number
  /** 0 = absent. */
  verifiedAtNs: number
  exceptions: ReadonlyArray<{ path: string, run: number }>
  floorRun: number
  label: number
  owner: number
}

export interface WireAssertion {
  signer: string
  volume: string
  issuedAtNs: number
  receiptFor: number
  names: readonly string[]
  components: readonly WireComponent[]
  epoch: Uint8Array
  counter: number
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u
const WORD = 2 ** 32
const encoder = new TextEncoder()

function varintSize (n: number): number {
  let size = 1
  let v = n
  while (v >= 0x80) {
    v = Math.floor(v / 0x80)
    size++
  }
  return size
}

/** A value protons writes as a plain unsigned varint: a safe, non-negative integer. */
function plain (n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

/** A fixed64 this encoder writes exactly as BigInt(n) would be: a non-negative integer below 2^64. */
function plainFixed64 (n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < 2 ** 64
}

function uint32Ok (n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < WORD
}

function stringOk (s: string): boolean {
  return !LONE_SURROGATE.test(s)
}

function exceptionSize (pathBytes: number, run: number): number {
  return (pathBytes === 0 ? 0 : 1 + varintSize(pathBytes) + pathBytes) + (run === 0 ? 0 : 1 + varintSize(run))
}

function componentSize (c: WireComponent, exceptionBytes: readonly number[] | null): number {
  let size = 0
  if (c.destination !== 0) size += 1 + varintSize(c.destination)
  if (c.originNode !== 0) size += 1 + varintSize(c.originNode)
  if (c.originRun !== 0) size += 1 + varintSize(c.originRun)
  if (c.verifyMethod !== 0) size += 1 + varintSize(c.verifyMethod)
  if (c.verifiedAtNs !== 0) size += 9
  for (let k = 0; k < c.exceptions.length; k++) {
    const e = exceptionSize((exceptionBytes as number[])[k] as number, (c.exceptions[k] as { run: number }).run)
    size += 1 + varintSize(e) + e
  }
  if (c.floorRun !== 0) size += 1 + varintSize(c.floorRun)
  if (c.label !== 0) size += 1 + varintSize(c.label)
  if (c.owner !== 0) size += 1 + varintSize(c.owner)
  return size
}

class Out {
  readonly buf: Uint8Array
  pos = 0
  constructor (size: number) {
    this.buf = new Uint8Array(size)
  }

  varint (n: number): void {
    let v = n
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
  }

  fixed64 (n: number): void {
    const lo = n % WORD
    const hi = Math.floor(n / WORD)
    const b = this.buf
    let p = this.pos
    b[p++] = lo & 0xff; b[p++] = (lo >>> 8) & 0xff; b[p++] = (lo >>> 16) & 0xff; b[p++] = (lo >>> 24) & 0xff
    b[p++] = hi & 0xff; b[p++] = (hi >>> 8) & 0xff; b[p++] = (hi >>> 16) & 0xff; b[p++] = (hi >>> 24) & 0xff
    this.pos = p
  }

  bytes (tag: number, data: Uint8Array): void {
    this.buf[this.pos++] = tag
    this.varint(data.length)
    this.buf.set(data, this.pos)
    this.pos += data.length
  }

  /** A string field whose UTF-8 length is known. */
  string (tag: number, s: string, length: number): void {
    this.buf[this.pos++] = tag
    this.varint(length)
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + length))
    this.pos += written
  }
}

function utf8Length (s: string): number {
  // ASCII (every name and most paths): the length itself
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8')
  return s.length
}

/** The payload bytes protons would write for `a`, or null when a value needs the generated encoder. */
export function encodeWireAssertion (a: WireAssertion): Uint8Array | null {
  if (!stringOk(a.signer) || !stringOk(a.volume) || !plainFixed64(a.issuedAtNs) || !plain(a.receiptFor) || !plain(a.counter)) return null
  const signerBytes = utf8Length(a.signer)
  const volumeBytes = utf8Length(a.volume)
  const nameBytes: number[] = []
  let size = 0
  if (signerBytes > 0) size += 1 + varintSize(signerBytes) + signerBytes
  if (volumeBytes > 0) size += 1 + varintSize(volumeBytes) + volumeBytes
  if (a.issuedAtNs !== 0) size += 9
  if (a.receiptFor !== 0) size += 1 + varintSize(a.receiptFor)
  for (const name of a.names) {
    if (!stringOk(name)) return null
    const n = utf8Length(name)
    nameBytes.push(n)
    size += 1 + varintSize(n) + n
  }
  // per component its size; per exception its path's UTF-8 length (null: no exceptions)
  const sizes = new Float64Array(a.components.length)
  const exceptionBytes: Array<number[] | null> = new Array<number[] | null>(a.components.length).fill(null)
  for (let i = 0; i < a.components.length; i++) {
    const c = a.components[i] as WireComponent
    if (!uint32Ok(c.destination) || !uint32Ok(c.originNode) || !plain(c.originRun) || !uint32Ok(c.verifyMethod) ||
      !plainFixed64(c.verifiedAtNs) || !plain(c.floorRun) || !uint32Ok(c.label) || !uint32Ok(c.owner)) return null
    if (c.exceptions.length > 0) {
      const lengths: number[] = []
      for (const e of c.exceptions) {
        if (!stringOk(e.path) || !plain(e.run)) return null
        lengths.push(utf8Length(e.path))
      }
      exceptionBytes[i] = lengths
    }
    const s = componentSize(c, exceptionBytes[i] ?? null)
    sizes[i] = s
    size += 1 + varintSize(s) + s
  }
  if (a.epoch.byteLength > 0) size += 1 + varintSize(a.epoch.byteLength) + a.epoch.byteLength
  if (a.counter !== 0) size += 1 + varintSize(a.counter)

  const out = new Out(size)
  if (signerBytes > 0) out.string(10, a.signer, signerBytes)
  if (volumeBytes > 0) out.string(18, a.volume, volumeBytes)
  if (a.issuedAtNs !== 0) {
    out.buf[out.pos++] = 33
    out.fixed64(a.issuedAtNs)
  }
  if (a.receiptFor !== 0) {
    out.buf[out.pos++] = 40
    out.varint(a.receiptFor)
  }
  for (let k = 0; k < a.names.length; k++) out.string(50, a.names[k] as string, nameBytes[k] as number)
  for (let i = 0; i < a.components.length; i++) {
    const c = a.components[i] as WireComponent
    out.buf[out.pos++] = 58
    out.varint(sizes[i] as number)
    if (c.destination !== 0) { out.buf[out.pos++] = 8; out.varint(c.destination) }
    if (c.originNode !== 0) { out.buf[out.pos++] = 16; out.varint(c.originNode) }
    if (c.originRun !== 0) { out.buf[out.pos++] = 24; out.varint(c.originRun) }
    if (c.verifyMethod !== 0) { out.buf[out.pos++] = 32; out.varint(c.verifyMethod) }
    if (c.verifiedAtNs !== 0) { out.buf[out.pos++] = 41; out.fixed64(c.verifiedAtNs) }
    const lengths = exceptionBytes[i]
    for (let k = 0; k < c.exceptions.length; k++) {
      const e = c.exceptions[k] as { path: string, run: number }
      const pathBytes = (lengths as number[])[k] as number
      out.buf[out.pos++] = 50
      out.varint(exceptionSize(pathBytes, e.run))
      if (pathBytes > 0) out.string(10, e.path, pathBytes)
      if (e.run !== 0) { out.buf[out.pos++] = 16; out.varint(e.run) }
    }
    if (c.floorRun !== 0) { out.buf[out.pos++] = 56; out.varint(c.floorRun) }
    if (c.label !== 0) { out.buf[out.pos++] = 64; out.varint(c.label) }
    if (c.owner !== 0) { out.buf[out.pos++] = 72; out.varint(c.owner) }
  }
  if (a.epoch.byteLength > 0) out.bytes(82, a.epoch)
  if (a.counter !== 0) {
    out.buf[out.pos++] = 88
    out.varint(a.counter)
  }
  if (out.pos !== size) throw new Error(`assertion encoder wrote ${out.pos} of ${size} bytes`)
  return out.buf
}
