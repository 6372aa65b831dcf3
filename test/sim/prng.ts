/** A small seeded PRNG (mulberry32) and the picks the simulator needs. Deterministic per seed. */
export class Prng {
  #s: number
  constructor (seed: number) { this.#s = (seed ^ 0x9e3779b9) >>> 0 }

  /** Uniform in [0, 1). */
  next (): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0
    let t = this.#s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [lo, hi]. */
  int (lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list')
    return xs[Math.floor(this.next() * xs.length)] as T
  }

  /** A key drawn with the given non-negative weights (at least one positive). */
  weighted<K extends string> (weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>
    const total = entries.reduce((s, [, w]) => s + w, 0)
    let r = this.next() * total
    for (const [k, w] of entries) {
      r -= w
      if (r < 0) return k
    }
    return (entries.find(([, w]) => w > 0) ?? entries[0] as [K, number])[0]
  }

  hex (bytes: number): string {
    let s = ''
    for (let i = 0; i < bytes; i++) s += this.int(0, 255).toString(16).padStart(2, '0')
    return s
  }
}
