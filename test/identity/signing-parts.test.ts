import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { publicKeyFromSeed, signWithSeed, verifySignature, verifySignatureParts } from '../../src/identity/signing.js'

const L = 0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3edn
const bytes = (seed: string, n: number): Uint8Array => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 32) out.set(createHash('sha256').update(`${seed}:${i}`).digest().subarray(0, Math.min(32, n - i)), i)
  return out
}
const le = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))
const numberLE = (b: Uint8Array): bigint => BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'))

describe('streamed signature verification', () => {
  it('gives verifySignature\'s verdict on valid, tampered, non-canonical and small-order inputs, however the message is split', () => {
    // small-order points and non-canonical encodings (y >= p) the strict verify refuses
    const identity = le(1n)
    const nonCanonicalY = le((1n << 255n) - 19n + 1n)
    let valid = 0
    for (let c = 0; c < 120; c++) {
      const seed = bytes(`seed${c}`, 32)
      const pk = publicKeyFromSeed(seed)
      const msg = bytes(`msg${c}`, c * 37)
      const sig = signWithSeed(seed, msg)
      const s = numberLE(sig.subarray(32))
      const variants: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
        [pk, msg, sig],
        [pk, msg, Uint8Array.from([...sig.subarray(0, 32), ...le(s + L)])], // S not reduced
        [pk, msg, Uint8Array.from(sig.map((b, i) => i === c % 64 ? b ^ 1 : b))],
        [Uint8Array.from(pk.map((b, i) => i === c % 32 ? b ^ 4 : b)), msg, sig],
        [pk, Uint8Array.from([...msg, 0]), sig],
        [identity, msg, sig],
        [pk, msg, Uint8Array.from([...identity, ...sig.subarray(32)])],
        [nonCanonicalY, msg, sig],
        [pk, msg, Uint8Array.from([...nonCanonicalY, ...sig.subarray(32)])]
      ]
      for (const [k, m, g] of variants) {
        const want = verifySignature(k, m, g)
        if (want) valid++
        const cut = Math.floor(m.length / 3)
        for (const parts of [[m], [m.subarray(0, cut), m.subarray(cut)], [new Uint8Array(0), m.subarray(0, 1), m.subarray(1)]]) {
          expect(verifySignatureParts(k, parts, g), `case ${c}`).toBe(want)
        }
      }
    }
    expect(valid).toBe(120)
  })
})
