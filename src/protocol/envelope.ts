/**
 * Signed envelopes (libp2p RFC 0002 style). The signature covers a domain-separated buffer:
 *
 *     uvarint(len(domain)) ‖ domain ‖ uvarint(len(payload_type)) ‖ payload_type ‖ uvarint(len(payload)) ‖ payload
 *
 * with domain "cairn-assertion-v2". `openAssertion` verifies the signature over the payload
 * bytes exactly as received (never a re-encoding), then decodes and validates the payload, and
 * checks that the payload's signer is the key that signed it.
 */
import { createHash } from 'node:crypto'
import type { Uint8ArrayList } from 'uint8arraylist'
import { InvalidMessageError, InvalidSignatureError, UnknownPayloadTypeError } from '../errors.js'
import { nodeIdFromPublicKey, type NodeId } from '../identity/node-id.js'
import type { NodeKey } from '../identity/node-key.js'
import { ED25519_SIGNATURE_BYTES, verifySignatureParts } from '../identity/signing.js'
import type { Assertion, EnvelopeParts } from './messages.js'
import { uvarint } from './varint.js'
import { decodeAssertionFiltered, decodeEnvelope, encodeAssertion, encodeEnvelope, type ComponentFilter, type FilteredComponents } from './wire.js'

export const ASSERTION_DOMAIN = 'cairn-assertion-v2'
export const ASSERTION_PAYLOAD_TYPE = '/cairn/assertion/2'

const encoder = new TextEncoder()
const DOMAIN_BYTES = encoder.encode(ASSERTION_DOMAIN)
const PAYLOAD_TYPE_BYTES = encoder.encode(ASSERTION_PAYLOAD_TYPE)

/** The exact bytes an envelope signature covers. */
export function signingBuffer (domain: Uint8Array, payloadType: Uint8Array, payload: Uint8Array): Uint8Array {
  const parts = [uvarint(domain.length), domain, uvarint(payloadType.length), payloadType, uvarint(payload.length), payload]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** Encodes, signs and wraps an assertion; returns the envelope bytes to send and store. */
export function sealAssertion (key: NodeKey, assertion: Assertion): Uint8Array {
  if (assertion.signer !== key.nodeId) throw new Error(`refusing to seal an assertion for ${assertion.signer} with the key of ${key.nodeId}`)
  const payload = encodeAssertion(assertion)
  const signature = key.sign(signingBuffer(DOMAIN_BYTES, PAYLOAD_TYPE_BYTES, payload))
  return encodeEnvelope({ publicKey: key.publicKey, payloadType: PAYLOAD_TYPE_BYTES, payload, signature })
}

export interface OpenedAssertion {
  signer: NodeId
  /** The components the opener's filter kept (all of them without a filter). */
  assertion: Assertion
  /** What the filter dropped while decoding: a count and the first few (never built otherwise). */
  filtered: FilteredComponents<string>
  /** The payload bytes the signature covers, as received. */
  payloadBytes: Uint8Array
  /** The whole envelope, as received: what gets stored as proof. */
  envelopeBytes: Uint8Array
  envelopeSha256: Uint8Array
}

/**
 * The steps every signed envelope shares (assertions, holds): decode with canonical framing,
 * check the payload type, the key and signature sizes, and the signature over the received
 * payload bytes under `domain`. Returns the parts and the signer's node id.
 */
export function openSignedEnvelope (envelopeBytes: Uint8Array, domain: Uint8Array, payloadType: Uint8Array): { parts: EnvelopeParts, signer: NodeId } {
  const parts = decodeEnvelope(envelopeBytes)
  if (!Buffer.from(parts.payloadType).equals(payloadType)) throw new UnknownPayloadTypeError(new TextDecoder().decode(parts.payloadType))
  if (parts.publicKey.length !== 32) throw new InvalidMessageError('public_key', `expected 32 bytes, got ${parts.publicKey.length}`)
  if (parts.signature.length !== ED25519_SIGNATURE_BYTES) throw new InvalidMessageError('signature', `expected ${ED25519_SIGNATURE_BYTES} bytes, got ${parts.signature.length}`)
  let signer: NodeId
  try {
    signer = nodeIdFromPublicKey(parts.publicKey)
  } catch (err) {
    throw new InvalidMessageError('public_key', err instanceof Error ? err.message : String(err))
  }
  // the signing buffer's parts, hashed in place: a large payload is never copied to verify it
  const signed = [uvarint(domain.length), domain, uvarint(parts.payloadType.length), parts.payloadType, uvarint(parts.payload.length), parts.payload]
  if (!verifySignatureParts(parts.publicKey, signed, parts.signature)) {
    throw new InvalidSignatureError(signer)
  }
  return { parts, signer }
}

/** Dropped components an opened assertion keeps as examples for a report. */
export const MAX_FILTERED_SAMPLES = 16

/**
 * Opens an envelope: checks its type, verifies the signature over the received payload
 * bytes, then decodes and validates the assertion — building only the components `filter`
 * keeps (every component is validated either way) — and checks the signer field names the
 * signing key. Throws only typed errors: UnknownPayloadTypeError, InvalidSignatureError,
 * InvalidMessageError (with the field), OversizeMessageError.
 */
export function openAssertion (data: Uint8Array | Uint8ArrayList, filter: ComponentFilter<string> | null = null): OpenedAssertion {
  const envelopeBytes = data instanceof Uint8Array ? data : data.subarray()
  const { parts, signer } = openSignedEnvelope(envelopeBytes, DOMAIN_BYTES, PAYLOAD_TYPE_BYTES)
  // nothing in the payload is read before the signature over its exact bytes verified
  const { assertion, filtered } = decodeAssertionFiltered(parts.payload, filter, MAX_FILTERED_SAMPLES)
  if (assertion.signer !== signer) throw new InvalidMessageError('signer', `names ${assertion.signer}, but the envelope is signed by ${signer}`)
  return {
    signer,
    assertion,
    filtered,
    payloadBytes: parts.payload,
    envelopeBytes,
    envelopeSha256: new Uint8Array(createHash('sha256').update(envelopeBytes).digest())
  }
}
