/**
 * The reference verdict for a byte string: accept, refuse (with the rule that refused it) or
 * indeterminate (lenient mode only: see wire-reader.ts). Signatures are checked with
 * node:crypto's ed25519, not the code under test's @noble/ed25519.
 */
import { createPublicKey, verify } from 'node:crypto'
import { isNodeIdRef, nodeIdOfKeyRef } from './rules.js'
import { checkRules, ENVELOPE, type Ctx, type TopMessage } from './tables.js'
import { Indeterminate, readMessage, Refuse, type Decoded } from './wire-reader.js'

export type Verdict = { verdict: 'accept', value: Decoded } | { verdict: 'refuse' | 'indeterminate', reason: string }

export interface ReferenceOptions {
  /** Canonical everywhere: every protobuf table is canonical already, so this adds strict base64url for invites (INVITE_CANONICAL). */
  canonicalAll: boolean
}

export function protoVerdict (spec: TopMessage, bytes: Uint8Array, ctx: Ctx, opts: ReferenceOptions): Verdict {
  let d: Decoded
  try {
    d = readMessage(bytes, spec, opts.canonicalAll || spec.canonical)
  } catch (err) {
    if (err instanceof Refuse) return { verdict: 'refuse', reason: err.reason }
    if (err instanceof Indeterminate) return { verdict: 'indeterminate', reason: err.reason }
    throw err
  }
  const problem = checkRules(d, spec, ctx)
  return problem === null ? { verdict: 'accept', value: d } : { verdict: 'refuse', reason: problem }
}

function uvarint (n: number): number[] {
  const out: number[] = []
  let v = n
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80) }
  out.push(v)
  return out
}

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
const enc = new TextEncoder()

function signatureVerifies (publicKey: Uint8Array, domain: string, type: Uint8Array, payload: Uint8Array, signature: Uint8Array): boolean {
  const d = enc.encode(domain)
  const msg = Buffer.from([...uvarint(d.length), ...d, ...uvarint(type.length), ...type, ...uvarint(payload.length), ...payload])
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' })
    return verify(null, msg, key, signature)
  } catch {
    return false
  }
}

/** A signed envelope of `payloadSpec` under domain/type: canonical framing, type, sizes, signature, payload rules, signer = key. */
export function envelopeVerdict (bytes: Uint8Array, domain: string, type: string, payloadSpec: TopMessage, ctx: Ctx, opts: ReferenceOptions): Verdict {
  const env = protoVerdict(ENVELOPE, bytes, ctx, opts)
  if (env.verdict !== 'accept') return env
  const e = env.value as { public_key: Uint8Array, payload_type: Uint8Array, payload: Uint8Array, signature: Uint8Array }
  if (Buffer.from(e.payload_type).toString('latin1') !== type || e.payload_type.length !== type.length) return { verdict: 'refuse', reason: 'payload type' }
  if (e.public_key.length !== 32) return { verdict: 'refuse', reason: 'public key size' }
  if (e.signature.length !== 64) return { verdict: 'refuse', reason: 'signature size' }
  if (!signatureVerifies(e.public_key, domain, e.payload_type, e.payload, e.signature)) return { verdict: 'refuse', reason: 'signature' }
  const payload = protoVerdict(payloadSpec, e.payload, ctx, opts)
  if (payload.verdict !== 'accept') return payload
  const signer = payload.value.signer as string
  if (!isNodeIdRef(signer) || signer !== nodeIdOfKeyRef(e.public_key)) return { verdict: 'refuse', reason: 'signer is not the signing key' }
  return payload
}
