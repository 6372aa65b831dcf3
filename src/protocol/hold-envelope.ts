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
import { InvalidMessageError } from '../errors.js'
import type { NodeId } from '../identity/node-id.js'
import type { NodeKey } from '../identity/node-key.js'
import { openSignedEnvelope, signingBuffer } from './envelope.js'
import type { Hold } from './messages.js'
import { decodeHold, encodeEnvelope, encodeHold } from './wire.js'

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
  const { parts, signer } = openSignedEnvelope(envelopeBytes, DOMAIN_BYTES, PAYLOAD_TYPE_BYTES)
  const hold = decodeHold(parts.payload)
  if (hold.signer !== signer) throw new InvalidMessageError('signer', `names ${hold.signer}, but the envelope is signed by ${signer}`)
  return { signer, hold }
}
