/**
 * Signed holds (DESIGN invariant 29): the same envelope as an assertion, with its own payload
 * type and domain, so a hold's signature can never be read as an assertion's or the reverse:
 *
 *     signature = ed25519(uvarint(len(D)) ‖ D ‖ uvarint(len(T)) ‖ T ‖ uvarint(len(P)) ‖ P)
 *     D = "cairn-hold-v1", T = "/cairn/hold/1", P = an encoded Hold
 *
 * `openHold` verifies the signature over the payload bytes as received, then decodes and
 * validates the Hold and checks that its signer is the signing key. What the hold means (who
 * it is for, which entries, how long) is the requester's check, in src/hold/client.ts.
 */
import { InvalidMessageError, InvalidSignatureError, UnknownPayloadTypeError } from '../errors.js'
import { nodeIdFromPublicKey, type NodeId } from '../identity/node-id.js'
import type { NodeKey } from '../identity/node-key.js'
import { ED25519_SIGNATURE_BYTES, verifySignature } from '../identity/signing.js'
import { signingBuffer } from './envelope.js'
import type { Hold } from './messages.js'
import { decodeEnvelope, decodeHold, encodeEnvelope, encodeHold } from './wire.js'

export const HOLD_DOMAIN = 'cairn-hold-v1'
export const HOLD_PAYLOAD_TYPE = '/cairn/hold/1'

const encoder = new TextEncoder()
const DOMAIN_BYTES = encoder.encode(HOLD_DOMAIN)
const PAYLOAD_TYPE_BYTES = encoder.encode(HOLD_PAYLOAD_TYPE)

/** Encodes, signs and wraps a hold; returns the envelope bytes to send. */
export function sealHold (key: NodeKey, hold: Hold): Uint8Array {
  if (hold.signer !== key.nodeId) throw new Error(`refusing to seal a hold for ${hold.signer} with the key of ${key.nodeId}`)
  const payload = encodeHold(hold)
  const signature = key.sign(signingBuffer(DOMAIN_BYTES, PAYLOAD_TYPE_BYTES, payload))
  return encodeEnvelope({ publicKey: key.publicKey, payloadType: PAYLOAD_TYPE_BYTES, payload, signature })
}

/**
 * Opens a hold envelope. Throws only typed errors: UnknownPayloadTypeError,
 * InvalidSignatureError, InvalidMessageError (with the field), OversizeMessageError.
 */
export function openHold (envelopeBytes: Uint8Array): { signer: NodeId, hold: Hold } {
  const parts = decodeEnvelope(envelopeBytes)
  if (!Buffer.from(parts.payloadType).equals(PAYLOAD_TYPE_BYTES)) throw new UnknownPayloadTypeError(new TextDecoder().decode(parts.payloadType))
  if (parts.publicKey.length !== 32) throw new InvalidMessageError('public_key', `expected 32 bytes, got ${parts.publicKey.length}`)
  if (parts.signature.length !== ED25519_SIGNATURE_BYTES) throw new InvalidMessageError('signature', `expected ${ED25519_SIGNATURE_BYTES} bytes, got ${parts.signature.length}`)
  let signer: NodeId
  try {
    signer = nodeIdFromPublicKey(parts.publicKey)
  } catch (err) {
    throw new InvalidMessageError('public_key', err instanceof Error ? err.message : String(err))
  }
  if (!verifySignature(parts.publicKey, signingBuffer(DOMAIN_BYTES, parts.payloadType, parts.payload), parts.signature)) {
    throw new InvalidSignatureError(signer)
  }
  const hold = decodeHold(parts.payload)
  if (hold.signer !== signer) throw new InvalidMessageError('signer', `names ${hold.signer}, but the envelope is signed by ${signer}`)
  return { signer, hold }
}
