/**
 * Ed25519 signing and verification. This directory is the only importer of @noble/ed25519,
 * so a library upgrade touches it alone. SHA-512 inside ed25519 runs on node:crypto, which is
 * several times faster than the pure-JS hash for the large payloads an assertion can have.
 */
import { createHash, createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto'
import * as ed from '@noble/ed25519'

ed.hashes.sha512 = (message: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(createHash('sha512').update(message).digest())

export const ED25519_SEED_BYTES = 32
export const ED25519_SIGNATURE_BYTES = 64

export function publicKeyFromSeed (seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed)
}

export function signWithSeed (seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed.sign(message, seed)
}

/** The PKCS#8 DER prefix of a raw ed25519 seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/**
 * A signer for one seed on node:crypto (OpenSSL): the same RFC 8032 signatures as signWithSeed
 * (ed25519 is deterministic; the golden vectors and a test hold the two equal), without the
 * pure-JS library's copies of the message: a 100,000-component assertion signs in a few ms.
 */
export function seedSigner (seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  if (seed.length !== ED25519_SEED_BYTES) throw new RangeError(`an ed25519 seed has ${ED25519_SEED_BYTES} bytes, got ${seed.length}`)
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed])
  // built at the first signature: a node key that never signs costs nothing more
  let key: KeyObject | undefined
  return (message) => {
    key ??= createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    return new Uint8Array(nodeSign(null, message, key))
  }
}

/**
 * Strict RFC 8032 verification (non-canonical encodings are refused). Returns false for any
 * malformed input rather than throwing: a bad signature from a peer is an expected outcome.
 */
export function verifySignature (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== ED25519_SIGNATURE_BYTES) return false
  try {
    return ed.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

/** The order of the ed25519 base point (L in RFC 8032). */
const GROUP_ORDER = 0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3edn

function numberLE (bytes: Uint8Array): bigint {
  return BigInt('0x' + (Buffer.from(bytes).reverse().toString('hex') || '0'))
}

/**
 * verifySignature over the concatenation of `parts`, without building it: the SHA-512 of
 * R ‖ A ‖ M streams over the parts, so a 32 MiB assertion is not copied three times (the
 * library's verify takes one contiguous message and concatenates it twice more). Every other
 * step is @noble/ed25519's strict verify (`zip215: false`), call for call: canonical A and R,
 * 0 ≤ S < L, small-order keys refused, the cofactored group equation. A test holds it equal
 * to verifySignature.
 */
export function verifySignatureParts (publicKey: Uint8Array, parts: readonly Uint8Array[], signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== ED25519_SIGNATURE_BYTES) return false
  try {
    const r = signature.subarray(0, 32)
    const s = numberLE(signature.subarray(32, 64))
    const A = ed.Point.fromBytes(publicKey, false)
    const R = ed.Point.fromBytes(r, false)
    const SB = ed.Point.BASE.multiply(s, false) // refuses s >= L
    if (A.isSmallOrder()) return false
    const h = createHash('sha512').update(r).update(publicKey)
    for (const p of parts) h.update(p)
    const k = ed.etc.mod(numberLE(new Uint8Array(h.digest())), GROUP_ORDER)
    return R.add(A.multiply(k, false)).subtract(SB).clearCofactor().is0()
  } catch {
    return false
  }
}
