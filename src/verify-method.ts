/**
 * How a piece of evidence was verified. Only methods that re-hashed the bytes at the
 * destination are content-verified, and only those open the offload gate (DESIGN invariant 12).
 */
export const VERIFY_METHODS = ['sha256-readback', 'peer-sha256', 'presence+size'] as const
export type VerifyMethod = typeof VERIFY_METHODS[number]

/** Bytes re-read from a directory destination after writing and re-hashed with SHA-256. */
export const SHA256_READBACK: VerifyMethod = 'sha256-readback'
/** A receiving peer re-hashed every byte it received and signed a receipt. */
export const PEER_SHA256: VerifyMethod = 'peer-sha256'
/** Only existence and size were checked (`push --shallow`). Never opens the gate. */
export const PRESENCE_SIZE: VerifyMethod = 'presence+size'

const CONTENT_VERIFIED: ReadonlySet<string> = new Set<string>([SHA256_READBACK, PEER_SHA256])

export function isVerifyMethod (value: string): value is VerifyMethod {
  return (VERIFY_METHODS as readonly string[]).includes(value)
}

/** NULL, unknown and presence-only methods are not content-verified. */
export function isContentVerified (method: string | null): boolean {
  return method !== null && CONTENT_VERIFIED.has(method)
}
