/**
 * Asks a peer to hold files over `/cairn/hold/1.0.0` before this node offloads its own copy
 * (DESIGN invariant 29). Files go in requests of at most MAX_HOLD_ENTRIES entries and
 * MAX_HOLD_REQUEST_BYTES; each exchange has a deadline. Nothing the peer answers is trusted
 * before its signed Hold is checked: signed by that peer, made to this node, for this volume
 * and this request's nonce, covering exactly the entries not refused (count and digest), and
 * no longer than asked. The hold's end is then measured on this node's clock — the request's
 * start plus the promised span — so a peer's clock skew can only shorten it.
 *
 * Every failure is an outcome, never a throw: a peer that cannot be reached refuses all with
 * `unreachable`, a malformed or forged answer with `invalid-response`, a refused request with
 * `refused`. Only verified holds are recorded, as `taken` rows of the offload run.
 */
import { requestBatches } from '../p2p/request-batches.js'
import { randomBytes } from 'node:crypto'
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from '../logger.js'
import { openPeerStream } from '../p2p/dial.js'
import { framed } from '../p2p/frames.js'
import { openHold } from '../protocol/hold-envelope.js'
import { HOLD_PROTOCOL } from '../protocol/ids.js'
import { HOLD_DEADLINE_MS, MAX_FRAME_BYTES, MAX_HOLD_DURATION_MS, MAX_HOLD_ENTRIES, MAX_HOLD_REQUEST_BYTES } from '../protocol/limits.js'
import { HOLD_NONCE_BYTES, HoldRefusalReason, Status, statusName, type HoldEntry, type HoldRefusalReasonCode, type HoldResponse } from '../protocol/messages.js'
import { decodeHoldResponse, encodeHoldRequest, holdEntriesDigest } from '../protocol/wire.js'
import type { HeldFile } from '../store/holds.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'

/** Why a file is not held: the peer's own reasons, then this side's. */
export type HoldRefusedReason = 'offloading' | 'not-present' | 'changed' | 'not-placed' | 'unreachable' | 'invalid-response' | 'refused'

export interface HoldOutcome {
  granted: Set<string>
  refused: Map<string, HoldRefusedReason>
  /** When the earliest granted hold ends, on this node's clock; null when nothing is held. */
  expiresAtNs: number | null
}

/** Where verified holds are recorded: the offload run they were taken for. */
export interface HoldRecord {
  store: Store
  volumeId: number
  runId: number
  logger: Logger
}

/** Bytes an entry adds to a request beyond its path: the hash and protobuf framing. */
const ENTRY_OVERHEAD_BYTES = 32 + 16
/** Room for the volume, duration, nonce and the frame itself. */
const REQUEST_OVERHEAD_BYTES = 1024

const REASONS: Record<HoldRefusalReasonCode, HoldRefusedReason> = {
  [HoldRefusalReason.OFFLOADING]: 'offloading',
  [HoldRefusalReason.NOT_PRESENT]: 'not-present',
  [HoldRefusalReason.CHANGED]: 'changed',
  [HoldRefusalReason.NOT_PLACED]: 'not-placed'
}

/** Splits files into requests that each fit the count and frame limits. */
export function holdBatches (files: readonly HeldFile[]): HeldFile[][] {
  return requestBatches(files, { maxEntries: MAX_HOLD_ENTRIES, maxRequestBytes: MAX_HOLD_REQUEST_BYTES, entryOverheadBytes: ENTRY_OVERHEAD_BYTES, requestOverheadBytes: REQUEST_OVERHEAD_BYTES })
}

/**
 * `placedAt`: the holder's names of directories this node relies on through it (`PEER/NAME`);
 * the holder holds a file only if it is placed and read back at each of them now.
 */
export async function requestHold (host: Libp2p | undefined, peer: NodeRow, volume: string, files: readonly HeldFile[], durationMs: number, deadlineMs: number = HOLD_DEADLINE_MS, record: HoldRecord, placedAt: readonly string[] = []): Promise<HoldOutcome> {
  const out: HoldOutcome = { granted: new Set(), refused: new Map(), expiresAtNs: null }
  const span = Math.min(durationMs, MAX_HOLD_DURATION_MS)
  for (const batch of holdBatches(files)) {
    const startNs = record.store.clock.nowNs()
    const result = host === undefined ? { refusedAll: 'unreachable' as const } : await exchange(host, peer, volume, batch, span, deadlineMs, record, placedAt)
    if ('refusedAll' in result) {
      for (const f of batch) out.refused.set(f.path, result.refusedAll)
      continue
    }
    // the promised span, counted from before the request left this node
    const expiresAtNs = startNs + result.spanNs
    const held = batch.filter(f => !result.refused.has(f.path))
    record.store.holds.recordTaken(record.volumeId, peer.id, record.runId, held, expiresAtNs)
    for (const f of held) out.granted.add(f.path)
    for (const [path, reason] of result.refused) out.refused.set(path, reason)
    out.expiresAtNs = out.expiresAtNs === null ? expiresAtNs : Math.min(out.expiresAtNs, expiresAtNs)
  }
  return out
}

type Exchange = { refusedAll: HoldRefusedReason } | { refused: Map<string, HoldRefusedReason>, spanNs: number }

async function exchange (host: Libp2p, peer: NodeRow, volume: string, batch: HeldFile[], durationMs: number, deadlineMs: number, record: HoldRecord, placedAt: readonly string[]): Promise<Exchange> {
  const label = peer.name ?? peer.nodeId
  const nonce = new Uint8Array(randomBytes(HOLD_NONCE_BYTES))
  const entries: HoldEntry[] = batch.map(f => ({ path: f.path, hash: f.hash }))
  let response: HoldResponse
  try {
    const stream = await openPeerStream(host, peer, HOLD_PROTOCOL, AbortSignal.timeout(deadlineMs))
    try {
      const io = framed(stream, MAX_FRAME_BYTES)
      await io.write(encodeHoldRequest({ volume, durationMs, nonce, entries, placedAt: [...placedAt] }), deadlineMs)
      const bytes = await io.read('a hold response', MAX_FRAME_BYTES, deadlineMs)
      try {
        response = decodeHoldResponse(bytes, entries.length)
      } catch (err) {
        record.logger.warn('refused a malformed hold response; nothing is held', { peer: label, volume, error: err instanceof Error ? err.message : String(err) })
        return { refusedAll: 'invalid-response' }
      }
    } finally {
      await stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { stream.abort(new Error('closing')) })
    }
  } catch (err) {
    record.logger.info('could not reach a peer for a hold', { peer: label, volume, error: err instanceof Error ? err.message : String(err) })
    return { refusedAll: 'unreachable' }
  }

  const refused = new Map<string, HoldRefusedReason>()
  for (const r of response.refused) refused.set((entries[r.entry] as HoldEntry).path, REASONS[r.reason])
  if (response.status === Status.REFUSED && response.envelope === null) {
    for (const e of entries) if (!refused.has(e.path)) refused.set(e.path, 'refused')
    return { refused, spanNs: 0 }
  }
  if (response.status !== Status.OK && response.status !== Status.PARTIAL) {
    record.logger.info('a peer refused a hold request', { peer: label, volume, status: statusName(response.status), message: response.message })
    return { refusedAll: 'refused' }
  }
  const problem = checkHold(response, peer, volume, nonce, entries, refused, durationMs, record.store.nodes.self().nodeId)
  if (problem !== null) {
    record.logger.warn('refused a hold that does not verify; nothing is held', { peer: label, volume, problem })
    return { refusedAll: 'invalid-response' }
  }
  const { hold } = openHold(response.envelope as Uint8Array)
  return { refused, spanNs: hold.expiresAtNs - hold.issuedAtNs }
}

/** Why a hold answer cannot be trusted, or null. */
function checkHold (response: HoldResponse, peer: NodeRow, volume: string, nonce: Uint8Array, entries: HoldEntry[], refused: Map<string, HoldRefusedReason>, durationMs: number, self: string): string | null {
  if (response.envelope === null) return 'no signed hold'
  if (response.status === Status.OK && refused.size > 0) return 'status OK with refused entries'
  let opened
  try {
    opened = openHold(response.envelope)
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  }
  const { hold } = opened
  if (hold.signer !== peer.nodeId) return `signed by ${hold.signer}, not by ${peer.nodeId}`
  if (hold.holder !== self) return `made to ${hold.holder}, not to this node`
  if (hold.volume !== volume) return `for volume ${hold.volume}, not ${volume}`
  if (!Buffer.from(hold.nonce).equals(Buffer.from(nonce))) return 'for another request (nonce)'
  const held = entries.filter(e => !refused.has(e.path))
  if (hold.granted !== held.length) return `covers ${hold.granted} entries, the answer holds ${held.length}`
  if (!Buffer.from(hold.grantedSha256).equals(Buffer.from(holdEntriesDigest(held)))) return 'covers other entries than the answer holds'
  if (hold.expiresAtNs - hold.issuedAtNs > durationMs * 1e6) return 'longer than asked'
  return null
}
