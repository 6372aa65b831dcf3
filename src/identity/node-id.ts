/**
 * Node ids are libp2p peer ids of ed25519 keys. An ed25519 peer id embeds the public key
 * (identity multihash), so a node id alone is enough to verify that node's signatures.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { InvalidNodeIdError } from '../errors.js'

/** A libp2p peer id string of an ed25519 key. Branded so it never mixes with a name. */
export type NodeId = string & { readonly __brand: 'NodeId' }

export const ED25519_PUBLIC_KEY_BYTES = 32
/** Peer ids of ed25519 keys are 52 characters in base58btc; the bound leaves headroom. */
export const MAX_NODE_ID_CHARS = 128

export function nodeIdFromPublicKey (publicKey: Uint8Array): NodeId {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new InvalidNodeIdError(Buffer.from(publicKey).toString('hex'), `an ed25519 public key has ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`)
  }
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString() as NodeId
}

export interface ParsedNodeId {
  nodeId: NodeId
  publicKey: Uint8Array
}

/**
 * Node ids already found valid, with their public keys: parsing is a pure function of the
 * string, and a fleet decodes the same hundred origin ids in every assertion it pulls (the
 * base58 decode and the canonical re-encode were a tenth of fleet-16's CPU). Only valid ids
 * are kept, at most MAX_PARSED_NODE_IDS, so a hostile peer cannot grow it.
 */
const MAX_PARSED_NODE_IDS = 4096
const parsed = new Map<string, Uint8Array>()

/** Validates a node id string and extracts its ed25519 public key; throws InvalidNodeIdError. */
export function parseNodeId (value: string): ParsedNodeId {
  const known = parsed.get(value)
  if (known !== undefined) return { nodeId: value as NodeId, publicKey: known.slice() }
  const result = parseNodeIdUncached(value)
  if (parsed.size >= MAX_PARSED_NODE_IDS) parsed.clear()
  parsed.set(value, result.publicKey.slice())
  return result
}

function parseNodeIdUncached (value: string): ParsedNodeId {
  if (value.length === 0 || value.length > MAX_NODE_ID_CHARS) {
    throw new InvalidNodeIdError(value, `expected 1-${MAX_NODE_ID_CHARS} characters`)
  }
  let peerId
  try {
    peerId = peerIdFromString(value)
  } catch {
    // the library's words (multibase decoders, CIDs) mean nothing to an operator
    throw new InvalidNodeIdError(value, 'expected a node id such as 12D3KooW… (the node_id that `cairn id` prints on that node), or an invite')
  }
  if (peerId.type !== 'Ed25519' || peerId.publicKey === undefined) {
    throw new InvalidNodeIdError(value, `expected an Ed25519 peer id, got ${peerId.type}`)
  }
  // Derived from the key, not echoed from the input: libp2p's toString() returns the multihash
  // it was given, so a key protobuf with its fields swapped ({data, type}) would otherwise be a
  // second, accepted node id for the same key.
  const canonical = peerIdFromPublicKey(peerId.publicKey).toString()
  if (canonical !== value) {
    throw new InvalidNodeIdError(value, `not in canonical form (expected ${canonical})`)
  }
  return { nodeId: canonical as NodeId, publicKey: peerId.publicKey.raw }
}

export function isNodeId (value: string): value is NodeId {
  try {
    parseNodeId(value)
    return true
  } catch {
    return false
  }
}
