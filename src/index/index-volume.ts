/**
 * `cairn index`: walks a volume, hashes what changed (a quick index: files whose size, mtime,
 * ctime or inode moved since this node last hashed them, or that it never hashed; under
 * --rehash every file), and records contents and files as an `index` run. A new
 * path, changed content, and a path back after being missing get this node and this run as
 * origin, so no claim made while they were away covers them; then this node's claims are
 * settled from what it now holds. A file that vanished since the last index
 * becomes `missing` — but only after a complete walk, and never under a directory or file
 * that could not be read.
 */
import { stat } from 'node:fs/promises'
import type { VolumeConfig } from '../config/types.js'
import { CairnError, VolumeRootMissingError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { LiveFile, ObservedFile, QuickRow } from '../store/files.js'
import type { Store } from '../store/store.js'
import { FileChangedWhileHashingError, type hashFile, type HashedFile } from './hash-file.js'
import { createHashPool, createInlineHashPool, type HashPool } from './hash-pool.js'
import { quarantineDamaged } from './quarantine.js'
import { walkVolume, type OpenDir, type WalkedFile, type WalkProblem, type WalkStats } from './walk.js'
import { settleClaims } from '../evidence/settle.js'
import { nodeDirectoryFs, type DirectoryFs } from '../push/directory-fs.js'
import { settleUnclaimed, settleVolumeUnclaimed } from '../evidence/unclaimed.js'
import { ensureVolumeIdentity } from '../push/volume-marker.js'
import { interruptName } from '../interrupt.js'

export const INDEX_CONCURRENCY = 4
/**
 * Files recorded per transaction. Each commit is an fsync of the WAL (synchronous = FULL); on a
 * busy disk one costs tens of milliseconds, so 100,000 small files in batches of 2,000 spent more
 * time committing than inserting (measured: 9–22 s at 2,000, 5 s at 10,000, loaded machine).
 * A kill loses at most one batch of hashing, which the next index does again.
 */
export const INDEX_BATCH_FILES = 10_000
/** ...or this many bytes hashed, whichever comes first: a run of large files still commits every few seconds. */
export const INDEX_BATCH_BYTES = 1024 * 1024 * 1024

export interface IndexProgress {
  filesSeen: number
  filesHashed: number
  bytesHashed: number
  currentPath: string | null
}

export interface IndexReport {
  runId: number
  volume: string
  /** `aborted`: interrupted; what it hashed is recorded, nothing is marked missing. */
  status: 'success' | 'partial' | 'failed' | 'aborted'
  error: string | null
  filesSeen: number
  filesAdded: number
  filesChanged: number
  /** Paths that were missing or offloaded and are back. */
  filesReturned: number
  filesMissing: number
  /**
   * Received files found damaged (bytes changed behind an unchanged size and mtime) and moved
   * aside into history (src/index/quarantine.ts): their rows are missing, so custody of them is
   * retracted and the pusher's next push sends them again.
   */
  damaged: Array<{ path: string, movedTo: string | null }>
  /** Files whose bytes this run read (a quick index skips the unchanged ones). */
  filesHashed: number
  bytesHashed: number
  symlinksSkipped: number
  specialSkipped: number
  unreadable: WalkProblem[]
  unstable: string[]
  /** The volume root's identity marker (null: an empty, new volume, left unmarked). */
  markerId: string | null
  /** The marker was written by this index (a non-empty root that had none). */
  markerWritten: boolean
}

export interface IndexInit {
  store: Store
  volume: VolumeConfig
  /**
   * A quick index: a present file whose size, mtime, ctime and inode all equal those of this
   * node's last hash of it is not hashed again (and its read instant is not refreshed: a quick
   * index never counts as a read of the bytes). false: hash every file (`--rehash`).
   */
  quick: boolean
  logger: Logger
  onProgress?: (p: IndexProgress) => void
  concurrency?: number
  /** A peer asked for this re-read (`/cairn/verify/1.0.0`): recorded on the run. */
  requestedBy?: { peerNodeId: number, name: string }
  /** Interrupt (SIGINT/SIGTERM): the walk stops, what was hashed is recorded, nothing becomes missing, the run is `aborted`. */
  signal?: AbortSignal
  /** Hashing threads (default: min(2, cores)); 0 hashes on this thread. */
  hashThreads?: number
  /**
   * Injectable I/O (tests: unreadable files and directories, files changing while hashed). A
   * `hash` function is called on this thread, `concurrency` files at once; a `pool` is used as
   * given and not closed.
   */
  io?: { hash?: typeof hashFile, pool?: HashPool, openDir?: OpenDir, fs?: DirectoryFs }
}

export async function indexVolume (init: IndexInit): Promise<IndexReport> {
  const { store, volume } = init
  const volRow = store.volumes.ensure(volume.name, volume.path)
  const rootStat = await stat(volume.path).catch((err: NodeJS.ErrnoException) => err)
  if (rootStat instanceof Error) throw new VolumeRootMissingError(volume.name, volume.path, rootStat.code === 'ENOENT' ? 'does not exist' : `cannot be read (${rootStat.code ?? 'error'})`)
  if (!rootStat.isDirectory()) throw new VolumeRootMissingError(volume.name, volume.path, 'is not a directory')

  const run = store.runs.begin({
    kind: 'index',
    volumeId: volRow.id,
    ...(init.requestedBy === undefined ? {} : { peerNodeId: init.requestedBy.peerNodeId, detail: { requested_by: init.requestedBy.name, rehash: init.quick ? 0 : 1 } })
  })
  // the root must be this volume's disk before anything it lacks counts as missing: a missing
  // or changed marker refuses (an unmounted or swapped disk); a non-empty root with none gets one
  let identity
  try {
    identity = await ensureVolumeIdentity(store, init.io?.fs ?? nodeDirectoryFs, volume.name, volume.path)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const refused = err instanceof CairnError
    store.runs.finish(run.id, refused ? 'refused' : 'failed', { error: refused && err.hint !== undefined ? `${message} (${err.hint})` : message, detail: { error_name: err instanceof Error ? err.name : null } })
    if (refused) init.logger.warn('refused to index a volume whose root is not its disk', { volume: volume.name, run: run.id, error: (err as CairnError).name, reason: message })
    throw err
  }
  const self = store.nodes.self()
  const report: IndexReport = {
    runId: run.id, volume: volume.name, status: 'success', error: null, filesSeen: 0, filesAdded: 0, filesChanged: 0, filesReturned: 0,
    filesMissing: 0, damaged: [], filesHashed: 0, bytesHashed: 0, symlinksSkipped: 0, specialSkipped: 0, unreadable: [], unstable: [],
    markerId: identity.markerId, markerWritten: identity.written
  }
  const stats: WalkStats = { symlinks: 0, special: 0, reserved: 0, unreadableDirs: [] }
  const progress: IndexProgress = { filesSeen: 0, filesHashed: 0, bytesHashed: 0, currentPath: null }
  // a quick index loads only what it compares; a row it hashes again is read whole when its file
  // is dispatched (byId); a full re-hash needs every row whole
  const quickRows = init.quick ? store.files.liveForQuickIndex(volRow.id) : undefined
  const live = init.quick ? undefined : store.files.live(volRow.id)
  let observed: Array<ObservedFile & { readAtNs: number, originNodeId: number, originRunId: number }> = []
  let observedBytes = 0
  // present rows this run found unchanged (or damaged and left in place): seen, not rewritten
  const unchanged = new Set<number>()

  const flush = (): void => {
    if (observed.length > 0) {
      const c = store.files.recordObserved(volRow.id, run.id, observed)
      report.filesAdded += c.added
      report.filesChanged += c.changed
      report.filesReturned += c.returned
      observed = []
      observedBytes = 0
    }
  }

  const fs = init.io?.fs ?? nodeDirectoryFs
  const unreadableMarks = new Set<number>()
  // hashing runs beside the walk and the store writes: on worker threads, or (an injected hash
  // function, tests) on this one, bounded either way by the pool's room()
  const ownPool = init.io?.pool === undefined
  const pool = init.io?.pool ?? (init.io?.hash !== undefined
    ? createInlineHashPool(init.io.hash, init.concurrency ?? INDEX_CONCURRENCY)
    : createHashPool({ logger: init.logger, ...(init.hashThreads === undefined ? {} : { threads: init.hashThreads }) }))
  let outstanding = 0
  let drained: (() => void) | undefined
  let jobError: { err: unknown } | undefined
  const drain = async (): Promise<void> => {
    while (outstanding > 0) await new Promise<void>(resolve => { drained = resolve })
  }
  const settled = (): void => {
    outstanding--
    if (outstanding === 0 && drained !== undefined) { const d = drained; drained = undefined; d() }
  }
  try {
    for await (const file of walkVolume(volume.path, stats, init.io?.openDir)) {
      if (init.signal?.aborted === true) break
      if (jobError !== undefined) break
      report.filesSeen++
      progress.filesSeen++
      const quickRow = quickRows?.get(file.path)
      if (quickRow !== undefined && unchangedSinceRead(quickRow, file)) {
        unchanged.add(quickRow.id)
        continue
      }
      const known = live !== undefined ? live.get(file.path) : quickRow === undefined ? undefined : store.files.byId(quickRow.id)
      if (!pool.hasRoom()) await pool.room()
      const job = async (): Promise<void> => {
        try {
          // the read instant is taken before the first byte is read, not when the batch is recorded
          // (a batch of slow files can be recorded many seconds later), nor when a worker gets to the
          // file (earlier, never later, than the read): the racy margin is measured
          // from it, and so is the evidence age of what this read proves
          const readAtNs = store.clock.nowNs()
          const h = await pool.hash(file.absPath, { sizeHint: file.size })
          if (known !== undefined && damagedSinceRead(known, h, self.id)) {
            // the row stops counting as held before anything moves: a kill before the move leaves it
            // marked (a hole in custody until a re-hash finds the damage again and moves it), a kill
            // after it leaves a marked row whose file is gone (the next index makes it missing)
            store.db.transaction(() => { store.conflicts.markReplacing(volRow.id, run.id, [known.id]) }).immediate()
            const q = await quarantineDamaged(fs, volume.path, file.path, self.nodeId, run.id, { size: h.size, mtimeNs: h.mtimeNs, ...(h.ino === undefined ? {} : { ino: h.ino }) })
            if (q.moved) {
              store.db.transaction(() => { store.files.setStatus(known.id, 'missing', run.id) }).immediate()
              store.conflicts.clearReplacing([known.id])
            }
            // not moved: the row stays present and marked — a hole in custody, never this node's own
            // version (the pusher's next push replaces the file; the next re-hash tries the move again)
            report.damaged.push({ path: file.path, movedTo: q.moved ? q.to : null })
            store.runs.note(run.id, 'alarm', q.moved
              ? `${file.path}: damaged (its bytes changed, its size and times did not); moved to ${q.to}; the next push of it replaces it`
              : `${file.path}: damaged (its bytes changed, its size and times did not); ${q.reason}; not claimed until a push replaces it`)
            init.logger.warn('a received file is damaged: its bytes changed behind unchanged size and times', { volume: volume.name, path: file.path, moved_to: q.moved ? q.to : null, reason: q.moved ? null : q.reason })
            // still there (not moved): seen by this run, so it is not taken for missing
            if (!q.moved) unchanged.add(known.id)
            report.bytesHashed += h.size
            report.filesHashed++
            return
          }
          const o: ObservedFile & { readAtNs: number, originNodeId: number, originRunId: number } = { path: file.path, hash: h.hash, size: h.size, mtimeNs: h.mtimeNs, readAtNs, originNodeId: self.id, originRunId: run.id }
          if (h.ctimeNs !== undefined) o.ctimeNs = h.ctimeNs
          if (h.ino !== undefined) o.ino = h.ino
          observed.push(o)
          observedBytes += h.size
          report.bytesHashed += h.size
          report.filesHashed++
          progress.bytesHashed += h.size
          progress.filesHashed++
          progress.currentPath = file.path
          init.onProgress?.(progress)
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (err instanceof FileChangedWhileHashingError) {
            report.unstable.push(file.path)
          } else if (code === 'ENOENT') {
            // vanished after the listing: it is not there
          } else {
            report.unreadable.push({ path: file.path, code: code ?? (err instanceof Error ? err.name : 'EIO') })
            // bytes this node cannot read are bytes it cannot vouch for: a hole in custody until a
            // read succeeds (the row stays present: an unreadable file is not a missing one)
            if (known !== undefined && known.status === 'present') {
              store.db.transaction(() => { store.conflicts.markReplacing(volRow.id, run.id, [known.id]) }).immediate()
              unreadableMarks.add(known.id)
            }
          }
        }
      }
      outstanding++
      job().catch((err: unknown) => { jobError ??= { err } }).finally(settled)
      if (observed.length >= INDEX_BATCH_FILES || observedBytes >= INDEX_BATCH_BYTES) flush()
    }
    await drain()
    if (ownPool) await pool.close()
    if (jobError !== undefined) throw jobError.err
    flush()
    // a row this run could not read stays marked: only a later successful read settles it
    await settleUnclaimed(store, volume.path, run.id, unreadableMarks)
  } catch (err) {
    await drain()
    if (ownPool) await pool.close()
    flush()
    await settleUnclaimed(store, volume.path, run.id, unreadableMarks)
    const message = err instanceof Error ? err.message : String(err)
    report.status = 'failed'
    report.error = `the walk did not complete: ${message}`
    store.runs.finish(run.id, 'failed', { error: report.error, fileCount: report.filesSeen, byteCount: report.bytesHashed, detail: detailOf(report) })
    return report
  }

  if (init.signal?.aborted === true) {
    // an incomplete walk proves nothing missing; what it hashed is recorded, and claims follow it
    await settleVolumeUnclaimed(store, volume.path, volRow.id)
    settleClaims(store, volRow.id, run.id, 'index')
    report.status = 'aborted'
    report.error = `interrupted (${interruptName(init.signal)}) after ${report.filesSeen} file(s) seen; nothing was marked missing`
    store.runs.finish(run.id, 'aborted', { error: report.error, fileCount: report.filesSeen, byteCount: report.bytesHashed, detail: detailOf(report) })
    init.logger.warn('index interrupted', { volume: volume.name, run: run.id, ...detailOf(report) })
    return report
  }
  report.unreadable.push(...stats.unreadableDirs)
  report.symlinksSkipped = stats.symlinks
  report.specialSkipped = stats.special
  const keep = [...report.unreadable.map(u => u.path), ...report.unstable]
  report.filesMissing = store.files.markUnseenMissing(volRow.id, run.id, keep, unchanged)
  // what this node holds changed: its claims follow (a lost received file retracts custody)
  // the index recorded what is there: rows a killed receive left marked as being replaced are settled
  await settleVolumeUnclaimed(store, volume.path, volRow.id)
  settleClaims(store, volRow.id, run.id, 'index')
  if (report.unreadable.length > 0 || report.unstable.length > 0) {
    report.status = 'partial'
    report.error = `${report.unreadable.length} unreadable, ${report.unstable.length} changing while hashed`
    for (const u of report.unreadable.slice(0, 100)) store.runs.note(run.id, 'unreadable', `${u.path}: ${u.code}`)
    for (const p of report.unstable.slice(0, 100)) store.runs.note(run.id, 'unstable', p)
  }
  store.runs.finish(run.id, report.status, { error: report.error, fileCount: report.filesSeen, byteCount: report.bytesHashed, detail: detailOf(report) })
  init.logger.info('indexed volume', { volume: volume.name, run: run.id, ...detailOf(report) })
  return report
}

/**
 * Timestamps within this long before the read that recorded them are "racy" (git's term): a
 * write in the same clock tick as the read leaves size and times as they were, so such a file
 * is hashed again until a read happens comfortably after its last change.
 */
export const RACY_MARGIN_NS = 2_000_000_000

/**
 * Whether a re-hash found a received file damaged: another node's version (this node's own files
 * are the user's, and a change of them is recorded as one) whose bytes no longer hash to the row
 * while its size and mtime are what they were at the last read — and that read came comfortably
 * after the mtime (not "racy"), so no later write can have landed in the same clock tick as the
 * mtime and hidden behind it. A write(2) moves the mtime; this did not. A tool that puts the mtime back
 * after rewriting a received file (its ctime moved) is treated the same: the origin's version is
 * sent again and the rewrite is kept in history — never a rewrite spread back to the origin as
 * an edit of its file.
 */
export function damagedSinceRead (known: LiveFile, h: HashedFile, selfRowId: number): boolean {
  if (known.status !== 'present' || known.originNodeId === selfRowId || known.hash.equals(h.hash)) return false
  if (known.size !== h.size || known.mtimeNs !== h.mtimeNs || known.readAtNs === null) return false
  return known.mtimeNs < known.readAtNs - RACY_MARGIN_NS
}

/** Whether a quick index may trust the row: the same file, untouched since its bytes were hashed. */
export function unchangedSinceRead (known: QuickRow, file: WalkedFile): boolean {
  if (known.status !== 'present' || known.ctimeNs === null || known.ino === null || known.readAtNs === null) return false
  if (known.size !== file.size || known.mtimeNs !== file.mtimeNs || known.ctimeNs !== file.ctimeNs || known.ino !== file.ino) return false
  return Math.max(file.mtimeNs, file.ctimeNs) < known.readAtNs - RACY_MARGIN_NS
}

function detailOf (r: IndexReport): Record<string, unknown> {
  return {
    files_seen: r.filesSeen,
    files_added: r.filesAdded,
    files_changed: r.filesChanged,
    files_returned: r.filesReturned,
    files_missing: r.filesMissing,
    files_hashed: r.filesHashed,
    bytes_hashed: r.bytesHashed,
    symlinks_skipped: r.symlinksSkipped,
    special_skipped: r.specialSkipped,
    unreadable: r.unreadable.length,
    unstable: r.unstable.length,
    damaged: r.damaged.length,
    marker_id: r.markerId,
    marker_written: r.markerWritten
  }
}
