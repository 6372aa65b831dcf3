/**
 * Ed25519 signing and verification. This directory is the only importer of @noble/ed25519,
 * so a library upgrade touches it alone. SHA-512 inside ed25519 runs on node:crypto, which is
 * several times faster than the pure-JS hash for the large payloads an assertion can have.
 */
import { createHash } from 'node:crypto'
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
