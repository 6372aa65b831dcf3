/**
 * Pushing a volume to another cairn node over `/cairn/push/2.0.0`, as a `push` run whose
 * destination is the peer's node id:
 *
 *  1. take the snapshot (present files and origin maxima) before any transfer;
 *  2. offer it; send the plan; stream the bytes of the entries the peer lacks (1 MiB frames,
 *     a deadline per frame, back-pressure from the stream);
 *  3. accept the peer's receipt: signed by the peer, for this run, a new sequence; it is the
 *     peer's whole set of claims and replaces what the peer asserted before (source = the
 *     peer, so revoking the peer drops it); record per path what the peer accepted (the
 *     placement the gate checks against the peer's custody);
 *  4. the run is `success` only after the receipt is recorded and the peer's custody covers
 *     every planned file.
 */
import { interruptName } from '../interrupt.js'
import type { Libp2p } from '@libp2p/interface'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { VolumeConfig } from '../config/types.js'
import { CairnError, PeerStatusError } from '../errors.js'
import type { NodeId } from '../identity/node-id.js'
import type { Logger } from '../logger.js'
import { openPeerStream } from '../p2p/dial.js'
import { describeExchangeFailure } from '../p2p/dial-failure.js'
import { framed } from '../p2p/frames.js'
import { PUSH_PROTOCOL } from '../protocol/ids.js'
import { MAX_DATA_FRAME_BYTES, MAX_FRAME_BYTES, MAX_PLAN_CHUNK_ENTRIES, PUSH_FINISH_DEADLINE_MS, PUSH_FRAME_DEADLINE_MS } from '../protocol/limits.js'
import { FailureReason, Status, statusName, type FailureReasonCode, type PlanEntry } from '../protocol/messages.js'
import { decodePlanReply, decodePushResult, encodePlanChunk, encodePushOffer } from '../protocol/wire.js'
import { claimCovers } from '../evidence/claims.js'
import { scopeAssertion, scopeFilter, storeOwnerLookup } from '../evidence/scope.js'
import { recordAssertion, verifyAssertion } from '../pull/accept.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'
import { PEER_SHA256 } from '../verify-method.js'
// a volume file is never read through a symlink swapped in after the index
import { READ_NO_FOLLOW } from '../index/hash-file.js'
import { finishPushRun, newPushReport, type PushFailure, type PushProgress, type PushReport } from './push-report.js'

export interface PeerPushHooks {
  afterSnapshot?: () => Promise<void> | void
  /** Replaces the bytes sent for an entry (tests: a pusher lying about a hash). */
  tamper?: (path: string, chunk: Uint8Array) => Uint8Array
}

export interface PeerPushInit {
  store: Store
  volume: VolumeConfig
  peer: NodeRow
  host: Libp2p
  logger: Logger
  hooks?: PeerPushHooks
  onProgress?: (p: PushProgress) => void
  frameDeadlineMs?: number
  finishDeadlineMs?: number
  /** Interrupt (SIGINT/SIGTERM): the stream is reset at once (the receiver keeps what it committed), the run `aborted`. */
  signal?: AbortSignal
}

export async function pushToPeer (init: PeerPushInit): Promise<PushReport> {
  const { store, volume, peer } = init
  const frameMs = init.frameDeadlineMs ?? PUSH_FRAME_DEADLINE_MS
  const label = peer.name ?? peer.nodeId
  const volRow = store.volumes.ensure(volume.name, volume.path)
  const run = store.runs.begin({ kind: 'push', volumeId: volRow.id, destination: peer.nodeId, peerNodeId: peer.id, detail: { method: PEER_SHA256 } })
  const report = newPushReport(run.id, volume.name, label, PEER_SHA256)
  const finish = (status: PushReport['status'], error: string | null): PushReport => finishPushRun(store, report, status, error)

  const snapshot = store.files.snapshot(volRow.id)
  await init.hooks?.afterSnapshot?.()
  const originIds: NodeId[] = []
  const originIndex = new Map<number, number>()
  for (const f of snapshot.files) {
    if (!originIndex.has(f.originNodeId)) {
      const node = store.nodes.byRowId(f.originNodeId)
      if (node === undefined) throw new Error(`origin node row ${f.originNodeId} vanished`)
      originIndex.set(f.originNodeId, originIds.length)
      originIds.push(node.nodeId)
    }
  }
  // what each version replaced here, so the receiver can tell our edit of its version from an unrelated one
  const replaced = store.files.previousContents(volRow.id, new Map(snapshot.files.map(f => [f.path, f.contentId])))
  const plan: PlanEntry[] = snapshot.files.map(f => ({
    path: f.path, hash: f.hash, size: f.size, mtimeNs: f.mtimeNs, originIndex: originIndex.get(f.originNodeId) ?? 0, originRun: f.originRunId, replaces: replaced.get(f.path) ?? null
  }))
  const progress: PushProgress = { filesDone: 0, filesTotal: plan.length, bytesSent: 0, bytesTotal: 0 }

  let receiptBytes: Uint8Array | null
  let resultStatus: number
  const failedEntries: number[] = []
  try {
    const stream = await openPeerStream(init.host, peer, PUSH_PROTOCOL, AbortSignal.timeout(frameMs))
    const io = framed(stream, MAX_FRAME_BYTES)
    const onInterrupt = (): void => { stream.abort(new Error(`interrupted (${interruptName(init.signal)})`)) }
    if (init.signal?.aborted === true) onInterrupt()
    init.signal?.addEventListener('abort', onInterrupt, { once: true })
    try {
      await io.write(encodePushOffer({ volume: volume.name, pusherRun: run.id, entries: plan.length, totalBytes: snapshot.totalBytes, origins: originIds }), frameMs)
      const answer = decodePlanReply(await io.read('the answer to the offer', MAX_FRAME_BYTES, frameMs), 0)
      if (answer.status !== Status.OK) throw new PeerStatusError(label, statusName(answer.status), answer.message)
      for (let i = 0; i < plan.length || i === 0; i += MAX_PLAN_CHUNK_ENTRIES) {
        const entries = plan.slice(i, i + MAX_PLAN_CHUNK_ENTRIES)
        await io.write(encodePlanChunk({ entries, last: i + MAX_PLAN_CHUNK_ENTRIES >= plan.length }), frameMs)
      }
      const reply = decodePlanReply(await io.read('the plan reply', MAX_FRAME_BYTES, frameMs), plan.length)
      if (reply.status !== Status.OK) throw new PeerStatusError(label, statusName(reply.status), reply.message)
      report.filesSkipped = plan.length - reply.need.length
      progress.bytesTotal = reply.need.reduce((n, i) => n + (plan[i]?.size ?? 0), 0)
      // small files are read ahead while earlier ones are on the wire
      const ahead = new Map<number, Promise<Buffer>>()
      const readAhead = (from: number): void => {
        for (let k = from; k < reply.need.length && ahead.size < READ_AHEAD_FILES; k++) {
          const index = reply.need[k] as number
          const e = plan[index] as PlanEntry
          if (ahead.has(index) || e.size > SMALL_FILE_BYTES) continue
          const p = readWhole(join(volume.path, e.path), e)
          p.catch(() => {})
          ahead.set(index, p)
        }
      }
      for (let k = 0; k < reply.need.length; k++) {
        const index = reply.need[k] as number
        const e = plan[index] as PlanEntry
        readAhead(k)
        const prefetched = ahead.get(index)
        ahead.delete(index)
        const count = (n: number): void => {
          report.bytesSent += n
          progress.bytesSent += n
          init.onProgress?.(progress)
        }
        if (prefetched !== undefined) {
          const data = await prefetched
          if (data.length > 0) await io.write(init.hooks?.tamper === undefined ? data : init.hooks.tamper(e.path, data), frameMs)
          count(data.length)
        } else {
          await sendFile(io, join(volume.path, e.path), e, frameMs, init.hooks?.tamper, count)
        }
        report.filesSent++
        progress.filesDone++
      }
      const result = decodePushResult(await io.read('the push result', MAX_FRAME_BYTES, init.finishDeadlineMs ?? PUSH_FINISH_DEADLINE_MS), plan.length)
      resultStatus = result.status
      receiptBytes = result.receipt
      for (const f of result.failures) {
        failedEntries.push(f.entry)
        report.failures.push({ path: plan[f.entry]?.path ?? `#${f.entry}`, ...failureOf(f.reason, label) })
      }
      if (result.status !== Status.OK && result.status !== Status.PARTIAL) throw new PeerStatusError(label, statusName(result.status), result.message)
    } finally {
      init.signal?.removeEventListener('abort', onInterrupt)
      await stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { stream.abort(new Error('closing')) })
    }
  } catch (err) {
    if (init.signal?.aborted === true) {
      init.logger.warn('push to peer interrupted', { peer: label, volume: volume.name, run: run.id, sent: report.filesSent })
      return finish('aborted', `interrupted (${interruptName(init.signal)}) after ${report.filesSent} file(s) sent; ${label} keeps what it committed, the next push sends the rest`)
    }
    const message = describeExchangeFailure(err, label)
    init.logger.info('push to peer did not complete', { peer: label, volume: volume.name, error: message })
    const refused = err instanceof PeerStatusError && ['UNKNOWN_VOLUME', 'REFUSED', 'TOO_LARGE', 'INVALID_REQUEST'].includes(err.status)
    return finish(refused ? 'refused' : 'failed', message)
  }

  if (receiptBytes === null) return finish('failed', `${label} sent no receipt`)
  try {
    const ownerOf = storeOwnerLookup(store)
    const verified = verifyAssertion(store, receiptBytes, { expectedSigner: peer.nodeId, volume: volume.name, receiptFor: run.id, filter: scopeFilter(volume, peer, ownerOf, true) })
    const scoped = scopeAssertion(volume, peer, verified.opened.assertion.components, ownerOf, true)
    const recorded = recordAssertion(store, verified, { volumeId: volRow.id, runId: run.id, components: scoped.kept })
    // per path: what the peer accepted (its custody is about exactly these versions)
    const custody = new Map(scoped.kept.filter(c => c.key === peer.nodeId).map(c => [c.originNode, c]))
    const failed = new Set(failedEntries)
    let covered = 0
    const placed = snapshot.files.map((f, i) => ({ f, i, origin: originIds[originIndex.get(f.originNodeId) ?? -1] }))
    store.db.transaction(() => {
      for (const { f, i, origin } of placed) {
        if (failed.has(i)) {
          store.placements.forget(peer.nodeId, volRow.id, f.path)
          continue
        }
        store.placements.record(peer.nodeId, volRow.id, f.path, { contentId: f.contentId, size: f.size, mtimeNs: f.mtimeNs, verifyMethod: PEER_SHA256, runId: run.id, originNodeId: f.originNodeId, originRunId: f.originRunId })
        const claim = origin === undefined ? undefined : custody.get(origin)
        if (claim !== undefined && claim.verifyMethod === PEER_SHA256 && claimCovers({ originRunId: claim.originRun, floorRunId: claim.floorRun, exceptions: claim.exceptions }, f.path, f.originRunId)) covered++
      }
    }).immediate()
    report.advanced = [...custody.values()].map(c => ({ originNodeId: store.nodes.byNodeId(c.originNode)?.id ?? 0, originRunId: c.originRun }))
    if (resultStatus !== Status.OK || covered < snapshot.files.length || report.failures.length > 0) {
      return finish('partial', `${report.failures.length} file(s) failed at ${label}; its custody covers ${covered} of ${snapshot.files.length} planned file(s)`)
    }
    void recorded
    init.logger.info('pushed volume to peer', { volume: volume.name, peer: label, run: run.id, sent: report.filesSent, skipped: report.filesSkipped })
    return finish('success', null)
  } catch (err) {
    if (!(err instanceof CairnError)) throw err
    init.logger.warn('refused a push receipt; nothing was recorded', { peer: label, code: err.name, error: err.message })
    report.advanced = []
    return finish('refused', `${err.name}: ${err.message}`)
  }
}

/** What a receiver's per-file failure code means, for the push report. */
function failureOf (reason: FailureReasonCode, label: string): Omit<PushFailure, 'path'> {
  switch (reason) {
    case FailureReason.HASH_MISMATCH: return { code: 'hash-mismatch', reason: 'the bytes received do not hash to the planned hash' }
    case FailureReason.READBACK_MISMATCH: return { code: 'readback-mismatch', reason: 'read-back at the peer differs' }
    case FailureReason.PATH_COLLISION: return { code: 'path-collision', reason: `case-or-normalization collision: another path would be the same file at ${label}` }
    case FailureReason.CONFLICT: return { code: 'conflict', reason: `conflict: ${label} keeps its own version of this path (edited there, or not the version this one replaces); it is reported at every push until one side resolves it` }
    default: return { code: 'write-failed', reason: 'the peer could not write it' }
  }
}

/** Small files are read whole, this many ahead of the one being sent. */
const READ_AHEAD_FILES = 8
const SMALL_FILE_BYTES = 1024 * 1024

async function readWhole (path: string, e: PlanEntry): Promise<Buffer> {
  const fh = await open(path, READ_NO_FOLLOW)
  try {
    const data = Buffer.allocUnsafe(e.size)
    const { bytesRead } = e.size === 0 ? { bytesRead: 0 } : await fh.read(data, 0, e.size, 0)
    if (bytesRead !== e.size) throw new CairnFileShrankError(e.path, e.size, bytesRead)
    return data
  } finally {
    await fh.close()
  }
}

async function sendFile (io: ReturnType<typeof framed>, path: string, e: PlanEntry, frameMs: number, tamper: PeerPushHooks['tamper'], sent: (n: number) => void): Promise<void> {
  if (e.size === 0) return
  const fh = await open(path, READ_NO_FOLLOW)
  try {
    const readAt = async (offset: number): Promise<Buffer> => {
      const chunk = Buffer.allocUnsafe(Math.min(MAX_DATA_FRAME_BYTES, e.size - offset))
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, offset)
      if (bytesRead !== chunk.length) throw new CairnFileShrankError(e.path, e.size, offset + bytesRead)
      return chunk
    }
    // the next chunk is read while the current one is written
    let offset = 0
    let next: Promise<Buffer> | undefined = readAt(0)
    while (next !== undefined) {
      const chunk: Buffer = await next
      const following: number = offset + chunk.length
      next = following < e.size ? readAt(following) : undefined
      next?.catch(() => {})
      await io.write(tamper === undefined ? chunk : tamper(e.path, chunk), frameMs)
      sent(chunk.length)
      offset = following
    }
  } finally {
    await fh.close()
  }
}

class CairnFileShrankError extends CairnError {
  override name = 'CairnFileShrankError' as const
  constructor (readonly path: string, readonly planned: number, readonly found: number) {
    super(`${path} shrank since it was indexed (${planned} bytes planned, ${found} found); index the volume again`)
  }
}
