/**
 * Invites: one copy-pasteable token that carries what `peer add` needs — the node id (which
 * pins the key), a suggested name and dialable addresses.
 *
 *     cairn1.<base64url(JSON payload)>.<8 hex digits: first 4 bytes of SHA-256(payload)>
 *
 * The payload is `{"v":1,"id":NODE_ID,"name":NAME,"addrs":[MULTIADDR...]}`. The checksum
 * catches truncated or mangled copies; it is not a signature: trust comes from the operator
 * copying the token from the other machine, and the node id inside it is then pinned.
 */
import { createHash } from 'node:crypto'
import { InvalidInviteError } from '../errors.js'
import { parseNodeId, type NodeId } from '../identity/node-id.js'
import { isValidName, NAME_RULE } from '../names.js'
import { MAX_ADDR_CHARS, multiaddrProblem } from './multiaddr-advice.js'

export const INVITE_PREFIX = 'cairn1'
export const MAX_INVITE_CHARS = 4096
export const MAX_INVITE_ADDRS = 16
export { MAX_ADDR_CHARS }

export interface Invite {
  nodeId: NodeId
  name: string
  addrs: string[]
}

function checksum (payload: Buffer): string {
  return createHash('sha256').update(payload).digest().subarray(0, 4).toString('hex')
}

export function encodeInvite (invite: Invite): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, id: invite.nodeId, name: invite.name, addrs: invite.addrs }), 'utf8')
  return `${INVITE_PREFIX}.${payload.toString('base64url')}.${checksum(payload)}`
}

export function looksLikeInvite (text: string): boolean {
  return text.startsWith(`${INVITE_PREFIX}.`)
}

/** A dialable TCP multiaddr (optionally ending in /p2p/NODE_ID), or an Error saying in plain words why not. */
export function validateAddr (addr: unknown): string {
  const problem = multiaddrProblem(addr, { allowPeerId: true })
  if (problem !== undefined) throw new Error(`${JSON.stringify(String(addr).slice(0, 80))} is not a TCP multiaddr: ${problem}`)
  return addr as string
}

export function decodeInvite (text: string): Invite {
  const token = text.trim()
  if (token.length > MAX_INVITE_CHARS) throw new InvalidInviteError(`longer than ${MAX_INVITE_CHARS} characters`)
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== INVITE_PREFIX) throw new InvalidInviteError(`expected ${INVITE_PREFIX}.<payload>.<checksum>`)
  const payload = Buffer.from(parts[1] ?? '', 'base64url')
  if (checksum(payload) !== parts[2]) throw new InvalidInviteError('the checksum does not match (the token was cut or changed while copying)')
  let doc: unknown
  try {
    doc = JSON.parse(payload.toString('utf8'))
  } catch {
    throw new InvalidInviteError('the payload is not JSON')
  }
  if (doc === null || typeof doc !== 'object') throw new InvalidInviteError('the payload is not an object')
  const { v, id, name, addrs } = doc as Record<string, unknown>
  if (v !== 1) throw new InvalidInviteError(`unsupported invite version ${String(v)}`)
  if (typeof id !== 'string') throw new InvalidInviteError('missing node id')
  let nodeId: NodeId
  try {
    nodeId = parseNodeId(id).nodeId
  } catch (err) {
    throw new InvalidInviteError(err instanceof Error ? err.message : String(err))
  }
  if (typeof name !== 'string' || !isValidName(name)) throw new InvalidInviteError(`the name must be ${NAME_RULE}`)
  if (!Array.isArray(addrs) || addrs.length > MAX_INVITE_ADDRS) throw new InvalidInviteError(`addrs must be an array of at most ${MAX_INVITE_ADDRS} multiaddrs`)
  const checked = addrs.map(a => {
    try {
      return validateAddr(a)
    } catch (err) {
      throw new InvalidInviteError(err instanceof Error ? err.message : String(err))
    }
  })
  return { nodeId, name, addrs: checked }
}
