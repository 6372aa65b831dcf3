/**
 * The fuzzer's seeded PRNG (sfc32). An input is a pure function of (seed, index): the stream
 * for input `index` is seeded from both through a 32-bit mix, so any finding replays alone.
 */
function mix (h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

export class FuzzRng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor (seed: number, index: number) {
    this.#a = mix(seed ^ 0x9e3779b9)
    this.#b = mix(index ^ 0x243f6a88)
    this.#c = mix((seed + Math.imul(index, 0x632be5ab)) ^ 0xb7e15162)
    this.#d = mix(index + 0x13198a2e) ^ 1
    for (let i = 0; i < 12; i++) this.u32()
  }

  u32 (): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t
  }

  /** Uniform in [0, 1). */
  next (): number { return this.u32() / 4294967296 }
  /** Integer in [lo, hi]. */
  int (lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list')
    return xs[Math.floor(this.next() * xs.length)] as T
  }

  bytes (n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }

  /** A small count, biased to 0..3 with a tail. */
  small (max: number): number {
    const r = this.next()
    const n = r < 0.5 ? this.int(0, 1) : r < 0.85 ? this.int(0, 3) : this.int(0, max)
    return Math.min(n, max)
  }
}
