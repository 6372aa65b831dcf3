/**
 * Valid messages, built with cairn's own encoders from a seeded stream: the starting points
 * the mutators bend. Keys are fixed (four seeds) so node ids repeat across inputs and
 * dictionaries share entries the way real fleets do.
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { nodeKeyFromSeed, type NodeKey } from '../../src/identity/node-key.js'
import type { NodeId } from '../../src/identity/node-id.js'
import type { FetchFile, FetchRequest, VerifyProblem, VerifyReply, VerifyRequest } from '../../src/protocol/messages.js'
import type { AssertedComponent, Assertion, Hold, HoldRequest, HoldResponse, PlanChunk, PlanEntry, PushOffer, PushResult, Tombstone } from '../../src/protocol/messages.js'
import { ASSERTION_DOMAIN, ASSERTION_PAYLOAD_TYPE, signingBuffer } from '../../src/protocol/envelope.js'
import { encodeAssertion, encodeEnvelope } from '../../src/protocol/wire.js'
import { VERIFY_METHODS } from '../../src/verify-method.js'
import type { FuzzRng } from './prng.js'
import { base58Encode, MAX_TIME, MIN_TIME } from './reference/rules.js'

export interface FuzzKey {
  node: NodeKey
  /** The same seed as a node:crypto key: re-signing a mutated payload costs microseconds. */
  fast: KeyObject
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')

export const KEYS: readonly FuzzKey[] = [1, 2, 3, 4].map(i => {
  const seed = new Uint8Array(32).fill(i * 17)
  return { node: nodeKeyFromSeed(seed), fast: createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' }) }
})

/** Node ids of keys nobody holds (valid ids: the prefix and 32 arbitrary key bytes). */
export function randomNodeId (r: FuzzRng): NodeId {
  return base58Encode(Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...r.bytes(32)])) as NodeId
}

export function nodeId (r: FuzzRng): NodeId {
  return r.chance(0.7) ? r.pick(KEYS).node.nodeId : randomNodeId(r)
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789._-'
export function name (r: FuzzRng, max = 64): string {
  const len = r.chance(0.1) ? max : r.int(1, Math.min(12, max))
  let s = r.pick([...'abcdefghijklmnopqrstuvwxyz0123456789'])
  while (s.length < len) s += NAME_CHARS[r.int(0, NAME_CHARS.length - 1)] as string
  return s
}

export const dirKey = (r: FuzzRng): string => `dir:${Buffer.from(r.bytes(16)).toString('hex')}`

const SEGMENTS = ['a', 'photos', '2024', 'IMG_0001.JPG', 'é', '日本語', '📷 album', 'with space', '.hidden', 'x.cairn', 'cairn', '-', '~', 'a..b', '...', 'Ω', 'CON']
export function path (r: FuzzRng): string {
  const n = r.int(1, 4)
  const segs: string[] = []
  for (let i = 0; i < n; i++) segs.push(r.chance(0.2) ? name(r, 255) : r.pick(SEGMENTS))
  return segs.join('/')
}

export function run (r: FuzzRng): number {
  return r.chance(0.1) ? r.pick([1, 2, 127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) : r.int(1, 100_000)
}

export function count (r: FuzzRng): number {
  return r.chance(0.1) ? r.pick([0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) : r.int(0, 1 << 30)
}

export function time (r: FuzzRng): number {
  if (r.chance(0.05)) return Number(MIN_TIME)
  return Number(MIN_TIME) + Math.floor(r.next() * Number(MAX_TIME - MIN_TIME - 1_000_000n))
}

export function bytes (r: FuzzRng, n: number): Uint8Array { return r.bytes(n) }

export function assertion (r: FuzzRng, key: FuzzKey = r.pick(KEYS)): Assertion {
  const signer = key.node.nodeId
  const origins = [signer, ...Array.from({ length: r.small(4) }, () => nodeId(r))]
  const pairs = new Set<string>()
  const components: AssertedComponent[] = []
  const tombstones: Tombstone[] = []
  const labels = new Map<string, string>()
  const n = r.small(8)
  for (let i = 0; i < n; i++) {
    const directory = r.chance(0.35)
    const destination = directory ? (r.chance(0.5) && labels.size > 0 ? r.pick([...labels.keys()]) : dirKey(r)) : (r.chance(0.9) ? signer : nodeId(r))
    const originNode = r.pick(origins)
    if (pairs.has(`${destination}/${originNode}`)) continue
    pairs.add(`${destination}/${originNode}`)
    if (r.chance(0.1)) { tombstones.push({ destination, originNode }); continue }
    const originRun = run(r)
    const c: AssertedComponent = {
      destination,
      originNode,
      originRun,
      verifyMethod: r.chance(0.1) ? null : r.pick(VERIFY_METHODS),
      verifiedAtNs: r.chance(0.2) ? null : time(r),
      exceptions: Array.from({ length: r.small(4) }, () => ({ path: path(r), run: r.int(1, originRun) }))
    }
    if (r.chance(0.3)) c.floorRun = r.int(1, originRun)
    if (directory) {
      let label = labels.get(destination)
      if (label === undefined) { label = name(r); labels.set(destination, label) }
      c.label = label
      c.owner = signer
    }
    components.push(c)
  }
  return { signer, volume: name(r), epoch: Buffer.from(r.bytes(8)).toString('hex'), counter: run(r), issuedAtNs: time(r), receiptFor: r.chance(0.5) ? null : run(r), components, tombstones }
}

/** A signed envelope of `payload` under `domain`/`type`, signed with the fast key. */
export function seal (key: FuzzKey, domain: string, type: string, payload: Uint8Array): Uint8Array {
  const enc = new TextEncoder()
  const t = enc.encode(type)
  const signature = new Uint8Array(cryptoSign(null, signingBuffer(enc.encode(domain), t, payload), key.fast))
  return encodeEnvelope({ publicKey: key.node.publicKey, payloadType: t, payload, signature })
}

export function pushOffer (r: FuzzRng): PushOffer {
  return { volume: name(r), pusherRun: run(r), entries: r.chance(0.1) ? r.pick([0, 1_000_000]) : r.int(0, 5000), totalBytes: count(r), origins: Array.from({ length: r.small(5) }, () => nodeId(r)) }
}

export function planEntry (r: FuzzRng, originCount: number): PlanEntry {
  return { path: path(r), hash: r.bytes(32), size: count(r), mtimeNs: r.chance(0.1) ? 0 : time(r), originIndex: r.int(0, Math.max(0, originCount - 1)), originRun: run(r), replaces: r.chance(0.5) ? null : r.bytes(32) }
}

export function planChunk (r: FuzzRng, originCount: number): PlanChunk {
  return { entries: originCount === 0 ? [] : Array.from({ length: r.small(6) }, () => planEntry(r, originCount)), last: r.chance(0.5) }
}

export const status = (r: FuzzRng): 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 => r.int(1, 9) as 1

export function message (r: FuzzRng): string {
  return r.pick(['', 'ok', 'busy', 'x'.repeat(256), 'y'.repeat(257), 'é'.repeat(200), '📷'.repeat(130)])
}

export function increasing (r: FuzzRng, below: number, max: number): number[] {
  const out: number[] = []
  let next = 0
  const n = r.small(max)
  while (out.length < n && next < below) {
    next += r.int(0, 3)
    if (next < below) out.push(next)
    next++
  }
  return out
}

export function pushResult (r: FuzzRng, planEntries: number): PushResult {
  return {
    status: status(r),
    receipt: r.chance(0.5) ? null : r.bytes(r.int(1, 40)),
    failures: planEntries === 0 ? [] : Array.from({ length: r.small(5) }, () => ({ entry: r.int(0, planEntries - 1), reason: r.int(1, 5) as 1 })),
    message: message(r),
    filesWritten: r.chance(0.1) ? 2 ** 32 - 1 : r.int(0, 5000),
    bytesWritten: count(r)
  }
}

export function holdRequest (r: FuzzRng): HoldRequest {
  const paths = new Set<string>()
  const n = r.int(1, 5)
  for (let i = 0; i < n; i++) paths.add(path(r))
  return {
    volume: name(r),
    durationMs: r.chance(0.1) ? r.pick([1, 600_000]) : r.int(1, 600_000),
    nonce: r.bytes(16),
    entries: [...paths].map(p => ({ path: p, hash: r.bytes(32) })),
    placedAt: [...new Set(Array.from({ length: r.small(3) }, () => dirKey(r)))]
  }
}

export function holdResponse (r: FuzzRng, requested: number): HoldResponse {
  return { status: status(r), envelope: r.chance(0.5) ? null : r.bytes(r.int(1, 40)), refused: increasing(r, requested, 6).map(entry => ({ entry, reason: r.int(1, 4) as 1 })), message: message(r) }
}

export function hold (r: FuzzRng, key: FuzzKey = r.pick(KEYS)): Hold {
  const issuedAtNs = time(r)
  const span = r.pick([1, 255, 256, 1000, 1e9, 600e9])
  return {
    signer: key.node.nodeId,
    holder: nodeId(r),
    volume: name(r),
    issuedAtNs,
    expiresAtNs: issuedAtNs + span,
    nonce: r.bytes(16),
    granted: r.chance(0.1) ? r.pick([1, 65_536]) : r.int(1, 100),
    grantedSha256: r.bytes(32)
  }
}

export function fetchRequest (r: FuzzRng): FetchRequest {
  const paths = new Set<string>()
  const n = r.int(1, 5)
  for (let i = 0; i < n; i++) paths.add(path(r))
  return { volume: name(r), directory: r.chance(0.5) ? '' : name(r), entries: [...paths].map(p => ({ path: p, hash: r.bytes(32) })) }
}

export function fetchFile (r: FuzzRng, expected: number): FetchFile {
  const found = r.chance(0.7)
  return { entry: expected, status: found ? 1 : 2, size: found ? count(r) : 0 }
}

export function verifyRequest (r: FuzzRng): VerifyRequest {
  return { volume: name(r), sample: r.chance(0.3) ? 0 : r.chance(0.1) ? r.pick([1, 9_999, 10_000]) : r.int(1, 10_000) }
}

/** A progress frame: `done` false, only the counts. */
export function verifyProgress (r: FuzzRng): VerifyReply {
  return { done: false, status: 0, message: '', checked: count(r), bytesChecked: count(r), mismatched: 0, missing: 0, problems: [], envelope: null, run: 0 }
}

/** The statuses a final verify frame carries: the two answers, the refusals the server sends, and the other known codes. */
const VERIFY_FINAL_STATUSES = [1, 9, 1, 9, 7, 2, 3, 5, 6, 4, 8] as const

/**
 * A final frame of any status: OK and PARTIAL with an envelope (a real signed assertion, or
 * arbitrary bytes: the decoder does not open it) and a run; a refusal with neither. Counts are
 * small or at the edges; problems never outnumber mismatched + missing.
 */
export function verifyFinal (r: FuzzRng, status: number = r.pick(VERIFY_FINAL_STATUSES)): VerifyReply {
  const answered = status === 1 || status === 9
  // OK means nothing was found: its counts are zero
  const mismatched = status === 1 || r.chance(0.4) ? 0 : r.chance(0.1) ? count(r) : r.small(6)
  const missing = status === 1 || r.chance(0.4) ? 0 : r.chance(0.1) ? count(r) : r.small(6)
  const room = Math.min(mismatched + missing, 100)
  const n = r.chance(0.02) ? room : Math.min(room, r.small(6))
  const problems: VerifyProblem[] = Array.from({ length: n }, () => ({ path: path(r), kind: r.int(1, 2) as 1 }))
  let envelope: Uint8Array | null = null
  if (answered) {
    const key = r.pick(KEYS)
    envelope = r.chance(0.7) ? seal(key, ASSERTION_DOMAIN, ASSERTION_PAYLOAD_TYPE, encodeAssertion(assertion(r, key))) : r.bytes(r.int(1, 80))
  }
  return { done: true, status: status as 1, message: message(r), checked: count(r), bytesChecked: count(r), mismatched, missing, problems, envelope, run: answered ? run(r) : 0 }
}

export function verifyReply (r: FuzzRng): VerifyReply {
  return r.chance(0.4) ? verifyProgress(r) : verifyFinal(r)
}
