import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { seedSigner, signWithSeed, verifySignature, publicKeyFromSeed } from '../../src/identity/signing.js'

describe('seedSigner (node:crypto)', () => {
  it('makes exactly the signature of the pure-JS signer, for any seed and message', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 4096 }), (seed, message) => {
      const signature = seedSigner(seed)(message)
      expect(Buffer.from(signature).toString('hex')).toBe(Buffer.from(signWithSeed(seed, message)).toString('hex'))
      expect(verifySignature(publicKeyFromSeed(seed), message, signature)).toBe(true)
    }), { numRuns: 200 })
  })

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => seedSigner(new Uint8Array(31))).toThrow(RangeError)
  })
})
