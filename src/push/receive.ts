/**
 * The receiving side of `/cairn/push/2.0.0`: a peer pushes its copy of a volume this node
 * declares. Every input is bounded and validated before anything is written; every byte is
 * hashed against the plan before it is committed with the directory-destination write rules
 * (create-exclusive: a name someone else holds is never replaced) and fsynced; a path where
 * taking the pusher's version would destroy what this node does not own is a conflict
 * (src/push/receive-judge.ts): kept, reported, recorded, a hole in the receipt; received files
 * are indexed with their origin preserved;
 * and the answer is a receipt: this node's whole set of claims, settled from what it now holds. A transfer that dies midway commits nothing unverified and sends no receipt.
 */
import { createHash } from 'node:crypto'
import { open, rm, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config, VolumeConfig } from '../config/types.js'
import { CairnError, CommitConflictError, InvalidMessageError, RunConflictError } from '../errors.js'
import type { NodeKey } from '../identity/node-key.js'
import type { NodeId } from '../identity/node-id.js'
import type { Logger } from '../logger.js'
import type { Framed } from '../p2p/frames.js'
import { crashPoint } from '../crash-point.js'
import { eachLimit } from './each-limit.js'
import { holdGuard } from '../hold/guard.js'
import { currentClaims, settleClaims } from '../evidence/settle.js'
import { settleUnclaimed, settleVolumeUnclaimed } from '../evidence/unclaimed.js'
import { sealAssertion } from '../protocol/envelope.js'
import { buildLocalAssertion } from '../pull/local-assertion.js'
import { MAX_DATA_FRAME_BYTES, MAX_FRAME_BYTES, MAX_PLAN_ENTRIES, PUSH_FRAME_DEADLINE_MS } from '../protocol/limits.js'
import { FailureReason, Status, type FailureReasonCode, type FileFailure, type PlanEntry, type PushOffer, type StatusCode } from '../protocol/messages.js'
import { decodePlanChunk, decodePushOffer, encodePlanReply, encodePushResult } from '../protocol/wire.js'
import type { ConflictInput } from '../store/conflicts.js'
import type { LiveFile } from '../store/files.js'
import type { Store } from '../store/store.js'
import { nodeDirectoryFs, type DirectoryFs } from './directory-fs.js'
import { treeWriter, type CommitExpectation, type TreeWriter } from './place-file.js'
import { HASH_IN_DOUBT_MAX_BYTES, judgeEntry } from './receive-judge.js'
import { foldProbe } from './fold-probe.js'
import { findPathCollisions } from './path-collisions.js'
import { destinationAbove, ensureVolumeIdentity, volumeIdentityRefusal } from './volume-marker.js'

/** Largest PushOffer frame: 1024 origins of ~55 bytes and framing. */
export const MAX_OFFER_BYTES = 128 * 1024
/** Verified files committed (write, fsync, rename) at once while more bytes arrive. */
export const RECEIVE_COMMIT_CONCURRENCY = 8
/** Positional writes of one large file in flight at once. */
export const WRITES_IN_FLIGHT = 4
/** Files up to this size are verified in memory and written whole by the commit pool. */
export const SMALL_FILE_BYTES = 1024 * 1024

/** Small files made durable together at most (docs/durability.md) ... */
export const DURABLE_BATCH_FILES = 2048
/** ... or about this many of their bytes. */
export const DURABLE_BATCH_BYTES = 256 * 1024 * 1024
/** fsyncs and commits of one batch in flight at once. */
export const SYNC_CONCURRENCY = 16

/** Local paths holding a needed content that are checked as a copy source before asking the pusher. */
export const COPY_SOURCES_TRIED = 4

/** Free space kept on the receiving disk beyond what a push needs. */
export const FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024

export interface ReceiveComponents {
  store: Store
  key: NodeKey
  config: () => Config
  logger: Logger
  fs?: DirectoryFs
  frameDeadlineMs?: number
}

/** A plan that exceeds its offer's byte total (invariant 25): answered TOO_LARGE. */
class PlanBoundsError extends Error {}

class Refusal extends Error {
  constructor (readonly status: StatusCode, readonly reason: string) {
    super(reason)
  }
}

interface Outcome {
  entry: number
  ok: boolean
}

export async function receivePush (c: ReceiveComponents, io: Framed, remoteNodeId: string): Promise<void> {
  const { store, logger } = c
  const fs = c.fs ?? nodeDirectoryFs
  const frameMs = c.frameDeadlineMs ?? PUSH_FRAME_DEADLINE_MS
  const peer = store.nodes.byNodeId(remoteNodeId)

  // ---- the offer ----------------------------------------------------------------------------
  let offer: PushOffer
  let volume: VolumeConfig
  let volumeId: number
  let runId: number
  try {
    if (peer === undefined || !store.nodes.isLivePeer(remoteNodeId)) throw new Refusal(Status.REFUSED, 'not an enrolled peer')
    try {
      offer = decodePushOffer(await io.read('a push offer', MAX_OFFER_BYTES, frameMs))
    } catch (err) {
      if (err instanceof InvalidMessageError) throw new Refusal(Status.INVALID_REQUEST, `invalid offer: ${err.field}`)
      throw err
    }
    const declared = c.config().volumes.get(offer.volume)
    if (declared === undefined) throw new Refusal(Status.UNKNOWN_VOLUME, `no volume ${offer.volume} here`)
    volume = declared
    if (offer.entries > MAX_PLAN_ENTRIES) throw new Refusal(Status.TOO_LARGE, `more than ${MAX_PLAN_ENTRIES} files`)
    const root = await stat(volume.path).catch(() => undefined)
    if (root?.isDirectory() !== true) throw new Refusal(Status.REFUSED, 'the volume directory is not available here')
    // a volume inside a destination's tree is that destination's owner's to write (invariant 24)
    const outer = await destinationAbove(fs, volume.path)
    if (outer !== undefined) throw new Refusal(Status.REFUSED, 'the volume directory lies inside a directory destination here (see its log)')
    // the volume root must be this volume's disk: a missing or changed marker (an unmounted or
    // swapped disk), or an empty unmarked root (maybe a bare mount point), writes nothing
    const identity = await volumeIdentityRefusal(store, fs, volume.name, volume.path)
    if (identity !== undefined) {
      logger.warn('refused a push: the volume root is not this volume\'s disk', { peer: remoteNodeId, volume: volume.name, error: identity.name, reason: identity.message, hint: identity.hint })
      throw new Refusal(Status.REFUSED, identity.name === 'VolumeRootEmptyError'
        ? 'the volume directory here is empty and has no identity marker (its disk may not be mounted; its operator runs `cairn volume init`)'
        : 'the volume directory here is not the volume\'s disk: its identity marker is missing or changed (see its log)')
    }
    const space = await statfs(volume.path)
    const free = Number(space.bavail) * Number(space.bsize)
    if (offer.totalBytes + FREE_SPACE_MARGIN_BYTES > free) throw new Refusal(Status.TOO_LARGE, `not enough free space (${free} bytes free)`)
    try {
      volumeId = store.volumes.ensure(volume.name, volume.path).id
      runId = store.runs.begin({ kind: 'receive', volumeId, peerNodeId: peer.id, detail: { pusher_run: offer.pusherRun, entries: offer.entries, total_bytes: offer.totalBytes } }).id
    } catch (err) {
      if (err instanceof RunConflictError) throw new Refusal(Status.BUSY, 'the volume is busy here; try again later')
      if (err instanceof CairnError) throw new Refusal(Status.REFUSED, 'this node refuses the volume (see its log)')
      throw err
    }
  } catch (err) {
    if (err instanceof Refusal) {
      logger.info('refused a push offer', { peer: remoteNodeId, status: err.status, reason: err.reason })
      await io.write(encodePlanReply({ status: err.status, need: [], message: err.reason }), frameMs).catch(() => {})
      return
    }
    throw err
  }
  await io.write(encodePlanReply({ status: Status.OK, need: [], message: '' }), frameMs)

  // ---- from here on, the receive run must be finished ---------------------------------------
  const writer = treeWriter(fs, volume.path, runId, c.key.nodeId, 'volume', 'receive')
  const committed: Array<{ entry: PlanEntry, mtimeNs: number }> = []
  const plan: PlanEntry[] = []
  let stage = 'plan'
  // commits run in a small pool while more bytes arrive; a failure waits for every commit still
  // running before it records, settles or cleans up anything
  const pool = commitPool(RECEIVE_COMMIT_CONCURRENCY)
  // an origin's node row, if this node knows it (judging writes nothing; recording creates it)
  const knownOrigin = new Map<number, number>()
  const selfRow = store.nodes.self().id
  const knownOriginOf = (index: number): number => {
    let row = knownOrigin.get(index)
    if (row === undefined) {
      row = store.nodes.byNodeId(originAt(offer, index))?.id ?? -1
      knownOrigin.set(index, row)
    }
    return row
  }
  // the pusher's versions this node keeps out (invariant 25), by plan entry; `judged` once
  // every entry was decided, so the pusher's recorded set can be replaced by this one
  const conflicts = new Map<number, { kind: ConflictInput['kind'], localFileId: number | null }>()
  let judged = false
  const conflictAt = (index: number, kind: ConflictInput['kind'], localFileId: number | null): void => { conflicts.set(index, { kind, localFileId }) }
  const recordConflicts = (): void => {
    const rows: ConflictInput[] = [...conflicts].map(([index, k]) => {
      const e = plan[index] as PlanEntry
      return { path: e.path, hash: Buffer.from(e.hash), originNodeId: store.nodes.ensureOrigin(originAt(offer, e.originIndex)).id, originRunId: e.originRun, ...k }
    })
    store.conflicts.replaceFromPusher(volumeId, peer.id, runId, rows)
  }
  try {
    // the plan
    // bounded by the offer while the chunks arrive: before any byte is written or any space
    // reserved, a plan whose sizes exceed the offer's total_bytes is refused (invariant 25)
    let plannedBytes = 0
    while (plan.length < offer.entries || plan.length === 0) {
      const chunk = decodePlanChunk(await io.read('a plan chunk', MAX_FRAME_BYTES, frameMs), offer.origins.length)
      for (const e of chunk.entries) {
        if (e.size > offer.totalBytes) throw new PlanBoundsError(`an entry of ${e.size} bytes is larger than the offer's total of ${offer.totalBytes} bytes`)
        plannedBytes += e.size
        if (plannedBytes > offer.totalBytes) throw new PlanBoundsError(`the plan's sizes exceed the offer's total of ${offer.totalBytes} bytes`)
      }
      plan.push(...chunk.entries)
      if (plan.length > offer.entries) throw new InvalidMessageError('entries', 'more plan entries than offered')
      if (chunk.last) break
    }
    if (plan.length !== offer.entries) throw new InvalidMessageError('entries', `${plan.length} plan entries, ${offer.entries} offered`)
    const paths = new Set<string>()
    plan.forEach((e, i) => {
      if (paths.has(e.path)) throw new InvalidMessageError(`entries[${i}].path`, 'planned twice')
      paths.add(e.path)
    })

    // what this node lacks
    stage = 'need'
    const live = store.files.live(volumeId)
    const damaged = store.conflicts.damageMarked(volumeId)
    const held: number[] = []
    const copies: Array<{ index: number, from: string, early: boolean }> = []
    const need: number[] = []
    const heldForPeer = holdGuard(store, volumeId, logger)
    const kept: number[] = []

    // paths this volume's directories would store as one file are refused (invariant 26)
    const collisions = await findPathCollisions(foldProbe(fs, { logger }), volume.path, plan.map(e => e.path), [...live.values()].filter(r => r.status === 'present').map(r => r.path), `volume ${volume.name} here`)
    const collided: number[] = []
    // per entry: what to commit it against (nothing there, or the checked file it replaces)
    const expects = new Map<number, CommitExpectation>()
    // held entries found by hashing the disk just now: their observed mtime, a fresh read
    const reread = new Map<string, number>()
    for (let i = 0; i < plan.length; i++) {
      const e = plan[i] as PlanEntry
      if (collisions.has(e.path)) { collided.push(i); continue }
      const here = live.get(e.path)
      const originRow = knownOriginOf(e.originIndex)
      const verdict = await judgeEntry({
        fs, abs: join(volume.path, e.path), entry: e, entryOriginNodeId: originRow, here,
        ...(here !== undefined && damaged.has(here.id) ? { damaged: true } : {}),
        ...(originRow === selfRow ? { ownVersionRecorded: () => store.files.hasRecorded(volumeId, e.path, Buffer.from(e.hash), selfRow, e.originRun) } : {})
      })
      if (verdict.kind === 'held') {
        held.push(i)
        if (verdict.reread || here?.status !== 'present' || !here.hash.equals(e.hash)) reread.set(e.path, verdict.mtimeNs)
        continue
      }
      if (verdict.kind === 'conflict') {
        conflictAt(i, verdict.conflict, verdict.localFileId)
        continue
      }
      if (heldForPeer(e.path, e.hash)) { kept.push(i); continue }
      expects.set(i, verdict.expect)
      const content = store.files.contentByHash(Buffer.from(e.hash))
      const local = content === undefined ? undefined : await usableCopySource(fs, store, content.id, e.size)
      if (local !== undefined) copies.push({ index: i, from: local.abs, early: local.volumeId === volumeId && paths.has(local.path) })
      else need.push(i)
    }
    judged = true
    await io.write(encodePlanReply({ status: Status.OK, need, message: '' }), frameMs)

    // a local copy whose source path this very push replaces is read and verified into
    // staging before the push commits anything, so it can never copy the new bytes (the
    // others are made after the transfer, as before, so the pusher never waits on them)
    const outcomes: Outcome[] = held.map(entry => ({ entry, ok: true }))
    const failures: FileFailure[] = []
    const stageCopy = async (index: number, from: string): Promise<string | undefined> => {
      const e = plan[index] as PlanEntry
      const staged = await writer.stagingPath()
      let ok = false
      try {
        await fs.copyFile(from, staged)
        await fs.syncFile(staged)
        const back = await fs.hash(staged)
        ok = back.hash.equals(e.hash)
      } catch (err) {
        logger.info('a local copy for a push failed', { path: e.path, error: err instanceof Error ? err.message : String(err) })
      }
      if (!ok) {
        await rm(staged, { force: true })
        failures.push({ entry: index, reason: FailureReason.WRITE_FAILED })
        outcomes.push({ entry: index, ok: false })
        return undefined
      }
      return staged
    }
    stage = 'early copies'
    const stagedEarly: Array<{ index: number, staged: string }> = []
    for (const { index, from } of copies.filter(x => x.early)) {
      const staged = await stageCopy(index, from)
      if (staged !== undefined) stagedEarly.push({ index, staged })
    }

    // the bytes: received in stream order into staging files and hashed on the way; each
    // verified file is then committed (fsync, rename into place) by a small pool, so disk
    // syncs overlap with the network instead of stalling it
    stage = 'data'
    // the volume root says whose copy it is before the first byte lands (no other node's
    // directory push may write into it): its marker, checked at the offer, is re-read here, or
    // written over a root that holds something (docs/volumes.md)
    await ensureVolumeIdentity(store, fs, volume.name, volume.path, { refuseEmpty: true })
    // a file this node holds for a peer is not replaced (DESIGN invariant 29)
    for (const entry of kept) { failures.push({ entry, reason: FailureReason.WRITE_FAILED }); outcomes.push({ entry, ok: false }) }
    for (const entry of collided) {
      logger.info('refused a pushed file', { peer: remoteNodeId, reason: collisions.get((plan[entry] as PlanEntry).path) })
      failures.push({ entry, reason: FailureReason.PATH_COLLISION })
      outcomes.push({ entry, ok: false })
    }
    // a conflict keeps this node's file untouched and is reported (invariant 25)
    if (conflicts.size > 0) logger.info('kept this node\'s own files: conflicts with the pushed versions', { peer: remoteNodeId, volume: volume.name, conflicts: conflicts.size, first: [...conflicts].slice(0, 20).map(([entry, k]) => `${(plan[entry] as PlanEntry).path} (${k.kind})`) })
    for (const [entry] of conflicts) {
      failures.push({ entry, reason: FailureReason.CONFLICT })
      outcomes.push({ entry, ok: false })
    }
    // a file this push replaces stops counting as held before its bytes move to history: from
    // that move until the new version is recorded, no claim (and no crash in between) may cover
    // a version that is no longer at its path (invariant 19). At the end the receive unmarks the
    // rows it superseded and those still in place; a killed receive's marks stay (holes) until
    // an index records what is there.
    const replacing = [...expects].flatMap(([index, x]) => {
      if (x.kind !== 'file') return []
      const here = live.get((plan[index] as PlanEntry).path)
      return here?.status === 'present' ? [here.id] : []
    })
    if (replacing.length > 0) {
      crashPoint('receive:unclaim-replaced')
      store.db.transaction(() => {
        store.conflicts.markReplacing(volumeId, runId, replacing)
        store.vector.settleLocal(volumeId, currentClaims(store, volumeId), runId, 'files a push replaces')
      }).immediate()
    }
    // a commit that finds its path taken or changed is a conflict too (never a replace)
    const commit = async (index: number, staged: string): Promise<boolean> => {
      const e = plan[index] as PlanEntry
      const r = await commitVerified(fs, writer, e, staged, committed, expects.get(index) ?? { kind: 'absent' })
      if (r === 'ok') return true
      if (r instanceof CommitConflictError && r.found === 'occupied' && await holdsPlanned(fs, r.path, e)) {
        // what is in the way is exactly the planned version (this node's own commit before a
        // crash, or another pusher's identical bytes): it is held, nothing to replace
        const info = await fs.lstat(r.path)
        committed.push({ entry: e, mtimeNs: info?.mtimeNs ?? e.mtimeNs })
        return true
      }
      if (r instanceof CommitConflictError) {
        const here = live.get(e.path)
        conflictAt(index, r.found === 'changed' && here?.status === 'present' ? 'local-edit' : 'occupied', r.found === 'changed' && here?.status === 'present' ? here.id : null)
        logger.info('kept a file that is in the way: a conflict with the pushed version', { peer: remoteNodeId, volume: volume.name, path: e.path, found: r.found, kept_at: r.keptAt })
        failures.push({ entry: index, reason: FailureReason.CONFLICT })
      } else {
        failures.push({ entry: index, reason: r })
      }
      return false
    }
    // small files are written to staging, then made durable together: one syncfs, then each
    // file's own fsync (which reports its own write errors), then each commit
    const durable = durableBatch(DURABLE_BATCH_FILES, DURABLE_BATCH_BYTES)
    const flushDurable = async (items: StagedSmall[]): Promise<void> => {
      if (items.length === 0) return
      await fs.syncFilesystem(volume.path)
      await eachLimit(items, SYNC_CONCURRENCY, async ({ index, staged }) => {
        try {
          crashPoint('receive:stage-sync')
          await fs.syncFile(staged)
        } catch (err) {
          logger.info('a received file could not be made durable', { path: (plan[index] as PlanEntry).path, error: err instanceof Error ? err.message : String(err) })
          await rm(staged, { force: true }).catch(() => {})
          failures.push({ entry: index, reason: FailureReason.WRITE_FAILED })
          outcomes.push({ entry: index, ok: false })
          return
        }
        outcomes.push({ entry: index, ok: await commit(index, staged) })
      })
    }
    let bytesWritten = 0
    for (const index of need) {
      const e = plan[index] as PlanEntry
      if (e.size <= SMALL_FILE_BYTES) {
        // a small file is verified in memory and written entirely by the pool
        const chunks: Uint8Array[] = []
        const h = createHash('sha256')
        let got = 0
        while (got < e.size) {
          const frame = await io.readChunks(`data of ${e.path}`, MAX_DATA_FRAME_BYTES, frameMs)
          const length = frame.reduce((n, ch) => n + ch.byteLength, 0)
          if (length === 0 || got + length > e.size) throw new InvalidMessageError('data', `frames for ${e.path} exceed its planned size`)
          for (const ch of frame) { h.update(ch); chunks.push(ch) }
          got += length
        }
        bytesWritten += got
        if (!h.digest().equals(e.hash)) {
          failures.push({ entry: index, reason: FailureReason.HASH_MISMATCH })
          outcomes.push({ entry: index, ok: false })
          continue
        }
        await pool.add(async () => {
          const staged = await writer.stagingPath()
          crashPoint('receive:stage-open')
          const fh = await open(staged, 'wx', 0o644)
          try {
            crashPoint('receive:stage-write')
            await fh.writev(chunks)
          } finally {
            await fh.close()
          }
          // made durable and committed with its batch (docs/durability.md)
          const full = durable.add({ index, staged, size: e.size })
          if (full !== undefined) await flushDurable(full)
        })
        continue
      }
      const staged = await writer.stagingPath()
      crashPoint('receive:stage-open-large')
      const fh = await open(staged, 'wx', 0o644)
      const h = createHash('sha256')
      let got = 0
      // positional writes overlap with reading the next frames; all settle before the fsync
      const writes = new Set<Promise<unknown>>()
      try {
        while (got < e.size) {
          const chunks = await io.readChunks(`data of ${e.path}`, MAX_DATA_FRAME_BYTES, frameMs)
          const length = chunks.reduce((n, ch) => n + ch.byteLength, 0)
          if (length === 0 || got + length > e.size) throw new InvalidMessageError('data', `frames for ${e.path} exceed its planned size`)
          for (const ch of chunks) h.update(ch)
          while (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes)
          crashPoint('receive:stage-write-large')
          const w = fh.writev(chunks, got)
          writes.add(w)
          void w.finally(() => writes.delete(w)).catch(() => {})
          got += length
        }
        await Promise.all(writes)
      } catch (err) {
        await Promise.allSettled(writes)
        await fh.close()
        throw err
      }
      bytesWritten += got
      if (!h.digest().equals(e.hash)) {
        await fh.close()
        await rm(staged, { force: true })
        failures.push({ entry: index, reason: FailureReason.HASH_MISMATCH })
        outcomes.push({ entry: index, ok: false })
        continue
      }
      await pool.add(async () => {
        // fsync through the handle that wrote it, then move it into place
        try {
          crashPoint('receive:stage-sync-large')
          await fh.sync()
        } finally {
          await fh.close()
        }
        outcomes.push({ entry: index, ok: await commit(index, staged) })
      })
    }
    await pool.drain()
    await flushDurable(durable.take())
    stage = 'copies'
    for (const { index, staged } of stagedEarly) {
      outcomes.push({ entry: index, ok: await commit(index, staged) })
    }
    for (const { index, from } of copies.filter(x => !x.early)) {
      const staged = await stageCopy(index, from)
      if (staged !== undefined) outcomes.push({ entry: index, ok: await commit(index, staged) })
    }

    // every rename is durable before anything claims these files
    await writer.syncDirs()

    // index what is now here, with the origin the pusher gave it; a held file keeps the
    // instant of its last real read (invariant 22)
    stage = 'index'
    const okEntries = outcomes.filter(o => o.ok).map(o => plan[o.entry] as PlanEntry)
    const mtimes = new Map([...reread, ...committed.map(x => [x.entry.path, x.mtimeNs] as const)])
    const heldPaths = new Set(held.map(i => (plan[i] as PlanEntry).path).filter(p => !reread.has(p)))
    recordReceived(store, volumeId, runId, offer, okEntries, mtimes, live, heldPaths)
    await settleUnclaimed(store, volume.path, runId)
    // marks an earlier run left (a re-hash that found a file damaged, killed before moving it)
    // are settled where this push put the recorded bytes back
    await settleVolumeUnclaimed(store, volume.path, volumeId)
    // the pusher's conflicts are now exactly this plan's: the others were resolved
    crashPoint('receive:record-conflicts')
    recordConflicts()

    // the receipt: this node's whole set of claims, settled from everything it now holds
    stage = 'receipt'
    settleClaims(store, volumeId, runId, 'received a push')
    const receiptAssertion = buildLocalAssertion(store, c.key.nodeId, volume.name, logger, { receiptFor: offer.pusherRun })
    const receipt = sealAssertion(c.key, receiptAssertion)
    const covered = receiptAssertion.components.filter(x => x.destination === c.key.nodeId)
    const status = failures.length === 0 ? Status.OK : Status.PARTIAL
    await writer.cleanup()
    crashPoint('receive:send-receipt')
    await io.write(encodePushResult({ status, receipt, failures, message: failures.length === 0 ? '' : `${failures.length} file(s) failed`, filesWritten: committed.length, bytesWritten }), frameMs)
    store.runs.finish(runId, failures.length === 0 ? 'success' : 'partial', {
      error: failures.length === 0 ? null : `${failures.length} file(s) failed`,
      fileCount: committed.length,
      byteCount: bytesWritten,
      detail: { held: held.length, copied: copies.length, received: need.length, failures: failures.length, conflicts: conflicts.size, receipt_origins: covered.length }
    })
    logger.info('received a push', { peer: remoteNodeId, volume: volume.name, run: runId, files: committed.length, failures: failures.length, conflicts: conflicts.size })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (err instanceof PlanBoundsError) {
      // refused while the plan arrived: nothing was written, no space reserved (invariant 16)
      logger.info('refused a push plan', { peer: remoteNodeId, volume: volume.name, status: Status.TOO_LARGE, reason: err.message })
      await io.write(encodePlanReply({ status: Status.TOO_LARGE, need: [], message: err.message }), frameMs).catch(() => {})
      store.runs.finish(runId, 'refused', { error: `refused the plan: ${err.message}`, fileCount: 0 })
      return
    }
    logger.warn('a push stopped before its receipt; nothing unverified was committed', { peer: remoteNodeId, volume: volume.name, stage, error: message })
    // no commit may still be moving or linking files while this records and settles
    await pool.settle()
    if (err instanceof InvalidMessageError) {
      await io.write(encodePushResult({ status: Status.INVALID_REQUEST, receipt: null, failures: [], message: 'invalid request', filesWritten: 0, bytesWritten: 0 }), frameMs).catch(() => {})
    }
    // files that were fully received and verified before the failure are real: index them
    try {
      // only after the directories they went into are durable (a power cut must not undo a
      // file this node then claims); a commit still in flight is left to the next index
      const done = committed.slice()
      if (done.length > 0) {
        await writer.syncDirs()
        recordReceived(store, volumeId, runId, offer, done.map(x => x.entry), new Map(done.map(x => [x.entry.path, x.mtimeNs])), store.files.live(volumeId))
      }
    } catch (indexErr) {
      logger.error('could not index files committed before the failure', { error: indexErr instanceof Error ? indexErr.message : String(indexErr) })
    }
    try {
      await settleUnclaimed(store, volume.path, runId)
    } catch (unmarkErr) {
      logger.error('could not settle the files a failed receive was replacing (they stay unclaimed until an index)', { error: unmarkErr instanceof Error ? unmarkErr.message : String(unmarkErr) })
    }
    try {
      // every entry was decided: the conflicts found are the pusher's set now
      if (judged) recordConflicts()
    } catch (conflictErr) {
      logger.error('could not record the conflicts of a failed receive', { error: conflictErr instanceof Error ? conflictErr.message : String(conflictErr) })
    }
    try {
      // what this node holds changed (files committed, or replaced): its claims follow
      settleClaims(store, volumeId, runId, 'a push stopped midway')
    } catch (settleErr) {
      logger.error('could not settle claims after a failed receive', { error: settleErr instanceof Error ? settleErr.message : String(settleErr) })
    }
    store.runs.finish(runId, 'failed', { error: `stopped during ${stage}: ${message}`, fileCount: committed.length })
  } finally {
    await writer.cleanup().catch(() => {})
  }
}

/**
 * Moves a staged file whose bytes already hashed to the plan (and were fsynced) into place.
 * There is no second read-back: it would read the page cache this process just filled, which
 * proves nothing the hash over the received bytes did not.
 */
async function commitVerified (fs: DirectoryFs, writer: TreeWriter, e: PlanEntry, staged: string, committed: Array<{ entry: PlanEntry, mtimeNs: number }>, expect: CommitExpectation): Promise<'ok' | CommitConflictError | FailureReasonCode> {
  try {
    const { destPath } = await writer.commit(staged, e.path, e.mtimeNs, expect)
    const info = await fs.lstat(destPath)
    if (info?.kind !== 'file' || info.size !== e.size) return FailureReason.READBACK_MISMATCH
    committed.push({ entry: e, mtimeNs: info.mtimeNs })
    return 'ok'
  } catch (err) {
    await rm(staged, { force: true }).catch(() => {})
    return err instanceof CommitConflictError ? err : FailureReason.WRITE_FAILED
  }
}

/** Whether the file at `abs` is exactly the entry's version (size, then hash; bounded like the judge). */
async function holdsPlanned (fs: DirectoryFs, abs: string, e: PlanEntry): Promise<boolean> {
  const info = await fs.lstat(abs)
  if (info?.kind !== 'file' || info.size !== e.size || info.size > HASH_IN_DOUBT_MAX_BYTES) return false
  const back = await fs.hash(abs).catch(() => undefined)
  return back !== undefined && back.hash.equals(e.hash)
}

/**
 * A present path holding this content whose file still looks as indexed (size and mtime), to
 * copy from locally; a drifted one is never used (its copy would fail at every push).
 */
async function usableCopySource (fs: DirectoryFs, store: Store, contentId: number, size: number): Promise<{ volumeId: number, path: string, abs: string } | undefined> {
  const volumes = new Map(store.volumes.list().map(v => [v.id, v.path]))
  for (const p of store.files.presentPathsOf(contentId).slice(0, COPY_SOURCES_TRIED)) {
    const root = volumes.get(p.volumeId)
    if (root === undefined) continue
    const abs = join(root, p.path)
    const info = await fs.lstat(abs)
    if (info?.kind === 'file' && info.size === size && info.mtimeNs === p.mtimeNs) return { volumeId: p.volumeId, path: p.path, abs }
  }
  return undefined
}

/**
 * A bounded pool: `add` waits while `size` jobs run; `drain` waits for all and rethrows the
 * first failure (a job that throws stops the push; per-file problems are outcomes, not throws).
 */
function commitPool (size: number): { add: (job: () => Promise<void>) => Promise<void>, drain: () => Promise<void>, settle: () => Promise<void> } {
  const running = new Set<Promise<void>>()
  let failure: unknown
  return {
    add: async (job) => {
      if (failure !== undefined) throw failure
      while (running.size >= size) await Promise.race(running)
      const p = job().catch((err: unknown) => { failure ??= err })
      running.add(p)
      void p.finally(() => running.delete(p))
    },
    drain: async () => {
      await Promise.all(running)
      if (failure !== undefined) throw failure
    },
    /** Waits until no job runs, whatever they end with (the failure path). */
    settle: async () => {
      while (running.size > 0) await Promise.allSettled([...running])
    }
  }
}

/** The origin node id a plan entry refers to (indexes were validated against the offer). */
function originAt (offer: PushOffer, index: number): NodeId {
  const id = offer.origins[index]
  if (id === undefined) throw new InvalidMessageError('origin_node', `index ${index} is outside the offer's origins`)
  return id
}

function recordReceived (store: Store, volumeId: number, runId: number, offer: PushOffer, entries: PlanEntry[], mtimes: Map<string, number>, live: ReturnType<Store['files']['live']>, heldPaths: ReadonlySet<string> = new Set()): void {
  const originRow = new Map<number, number>()
  const rowOf = (index: number): number => {
    let row = originRow.get(index)
    if (row === undefined) {
      row = store.nodes.ensureOrigin(originAt(offer, index)).id
      originRow.set(index, row)
    }
    return row
  }
  store.files.recordObserved(volumeId, runId, entries.map(e => ({
    path: e.path,
    hash: Buffer.from(e.hash),
    size: e.size,
    mtimeNs: mtimes.get(e.path) ?? live.get(e.path)?.mtimeNs ?? e.mtimeNs,
    originNodeId: rowOf(e.originIndex),
    originRunId: e.originRun,
    ...(heldPaths.has(e.path) ? heldIdentity(live.get(e.path)) : {})
  })), 'received')
}

/**
 * A file held without being read again keeps what its last real read recorded: the read instant
 * (a push that skips a file never makes its evidence younger, invariant 22), and the ctime and
 * inode that read saw, so a quick index still trusts it (and a full re-hash can still tell damage
 * from an edit) instead of hashing every held file again after each push.
 */
function heldIdentity (row: LiveFile | undefined): { readAtNs: number | null, ctimeNs?: number, ino?: string } {
  return {
    readAtNs: row?.readAtNs ?? null,
    ...(row?.ctimeNs === null || row?.ctimeNs === undefined ? {} : { ctimeNs: row.ctimeNs }),
    ...(row?.ino === null || row?.ino === undefined ? {} : { ino: row.ino })
  }
}

interface StagedSmall {
  index: number
  staged: string
  size: number
}

/** Staged files waiting to be made durable together; `add` returns the batch once it is full. */
function durableBatch (maxFiles: number, maxBytes: number): { add: (item: StagedSmall) => StagedSmall[] | undefined, take: () => StagedSmall[] } {
  let items: StagedSmall[] = []
  let bytes = 0
  const take = (): StagedSmall[] => {
    const out = items
    items = []
    bytes = 0
    return out
  }
  return {
    add: (item) => {
      items.push(item)
      bytes += item.size
      return items.length >= maxFiles || bytes >= maxBytes ? take() : undefined
    },
    take
  }
}
