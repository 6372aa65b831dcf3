/**
 * Pushing a volume to a directory destination, as a `push` run:
 *
 *  1. check the destination's identity marker (a missing or different one refuses the run);
 *  2. take the snapshot of the present files before any transfer;
 *  3. copy what the destination lacks, in batches made durable together (temp, fsync, a
 *     create-exclusive link to the final name, so a file someone else put there is refused,
 *     never replaced; this node's own prior bytes to history first; see `sendBatch`);
 *  4. read every written file back from the destination and hash it (`sha256-readback`), or,
 *     under --shallow, check presence and size only (`presence+size`), recording each
 *     verified file as a placement with the instant of that read, once every directory the
 *     batch's commits linked into or created is fsynced;
 *  5. settle this node's claims from everything present and placed (src/evidence/): the
 *     claim about the destination covers exactly what is placed there, so a partial push
 *     counts for what it placed. The run is `success` only without failures.
 *
 * A file the destination already holds (same content, verified with an equal or stronger
 * method, unchanged size and mtime there since) is not copied again, and its placement keeps
 * the instant of its last real read (invariant 22). Under `offload_max_evidence_age`, a
 * skipped file whose last read is older than half the limit is re-read at the destination,
 * so a regular push keeps honest evidence fresh.
 */
import { interruptName } from '../interrupt.js'
import { cleanStaleStagingIn } from './staging-cleanup.js'
import { join } from 'node:path'
import type { DirectoryDestinationConfig, VolumeConfig } from '../config/types.js'
import { CairnError, CommitConflictError, DestinationPathError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { SnapshotFile } from '../store/files.js'
import type { Store } from '../store/store.js'
import { PRESENCE_SIZE, SHA256_READBACK, type VerifyMethod } from '../verify-method.js'
import { nodeDirectoryFs, type DirectoryFs } from './directory-fs.js'
import { ensureDestinationIdentity } from './destination-marker.js'
import { treeWriter } from './place-file.js'
import { foldProbe } from './fold-probe.js'
import { findPathCollisions } from './path-collisions.js'
import { finishPushRun, newPushReport, type PushProgress, type PushReport } from './push-report.js'
import { settleClaims } from '../evidence/settle.js'
import { crashPoint } from '../crash-point.js'
import { eachLimit } from './each-limit.js'

/** Files copied or committed at once. */
export const PUSH_CONCURRENCY = 8
/** fsyncs and read-backs in flight at once (each a trip through the thread pool). */
export const SYNC_CONCURRENCY = 16
/** A batch made durable together: at most this many files ... */
export const BATCH_FILES = 2048
/** ... or about this many bytes (the dirty data one flush waits for). */
export const BATCH_BYTES = 256 * 1024 * 1024

export interface DirectoryPushHooks {
  /** After the snapshot, before any transfer (tests inject concurrent index writes here). */
  afterSnapshot?: () => Promise<void> | void
}

export interface DirectoryPushInit {
  store: Store
  volume: VolumeConfig
  destination: DirectoryDestinationConfig
  shallow: boolean
  logger: Logger
  fs?: DirectoryFs
  hooks?: DirectoryPushHooks
  /**
   * Whether a destination name is in the config now: a marker recorded under a name that is not
   * (the operator renamed the destination) moves to this destination's name. Default: every
   * name is configured, so a marker under another name refuses.
   */
  configured?: (name: string) => boolean
  onProgress?: (p: PushProgress) => void
  /** Interrupt (SIGINT/SIGTERM): no new file starts; what was placed is recorded, staging removed, the run `aborted`. */
  signal?: AbortSignal
}

const METHOD_STRENGTH: Record<string, number> = { [PRESENCE_SIZE]: 1, [SHA256_READBACK]: 2 }

export async function pushToDirectory (init: DirectoryPushInit): Promise<PushReport> {
  const { store, volume, destination } = init
  const fs = init.fs ?? nodeDirectoryFs
  const method: VerifyMethod = init.shallow ? PRESENCE_SIZE : SHA256_READBACK
  const volRow = store.volumes.ensure(volume.name, volume.path)
  const run = store.runs.begin({ kind: 'push', volumeId: volRow.id, destination: destination.name, detail: { method } })
  const report = newPushReport(run.id, volume.name, destination.name, method)
  const finish = (status: PushReport['status'], error: string | null): PushReport => finishPushRun(store, report, status, error)

  const tree = join(destination.path, volume.name)
  // the destination's store key: its marker (DESIGN "Destination identity")
  let key: string
  try {
    key = (await ensureDestinationIdentity(store, fs, destination.name, destination.path, init.configured)).key
    const info = await fs.lstat(tree)
    if (info === undefined) await fs.mkdirp(tree)
    else if (info.kind !== 'dir') throw new DestinationPathError(tree, 'the volume directory at the destination is not a directory')
  } catch (err) {
    if (err instanceof CairnError) {
      report.refusal = err
      return finish('refused', err.hint === undefined ? err.message : `${err.message} (${err.hint})`)
    }
    finish('failed', err instanceof Error ? err.message : String(err))
    throw err
  }

  // staging a killed push to this directory left behind (its run is reaped by now)
  await cleanStaleStagingIn(store, tree, init.logger).catch((err: unknown) => { init.logger.warn('could not remove stale staging', { tree, error: err instanceof Error ? err.message : String(err) }) })
  const snapshot = store.files.snapshot(volRow.id)
  await init.hooks?.afterSnapshot?.()
  // paths this destination would store as one file are refused before any transfer (invariant 26)
  const collisions = await findPathCollisions(foldProbe(fs, { logger: init.logger }), tree, snapshot.files.map(f => f.path), [], destination.name)

  const writer = treeWriter(fs, tree, run.id, store.nodes.self().nodeId, 'destination', 'push-dir')
  const placements = store.placements.forVolume(key, volRow.id)
  const rereadBeforeNs = volume.offloadMaxEvidenceAgeMs === undefined ? undefined : store.clock.nowNs() - volume.offloadMaxEvidenceAgeMs * 1e6 / 2
  const progress: PushProgress = { filesDone: 0, filesTotal: snapshot.files.length, bytesSent: 0, bytesTotal: snapshot.totalBytes }

  const forgetFailed = (file: SnapshotFile, reason: string, code: PushReport['failures'][number]['code']): void => {
    // whatever was placed there before may have moved to history: it is evidence no more
    store.placements.forget(key, volRow.id, file.path)
    report.failures.push({ path: file.path, reason, code })
  }
  const fileDone = (): void => {
    progress.filesDone++
    init.onProgress?.(progress)
  }

  /** Whether the destination still holds this file as placed (then it is not copied again). */
  const holds = async (file: SnapshotFile): Promise<boolean> => {
    const collision = collisions.get(file.path)
    if (collision !== undefined) {
      // never written; a placement from before may be of the bytes its twin then replaced
      forgetFailed(file, collision, 'path-collision')
      return true
    }
    const placed = placements.get(file.path)
    if (placed === undefined || placed.contentId !== file.contentId || (METHOD_STRENGTH[placed.verifyMethod] ?? 0) < (METHOD_STRENGTH[method] ?? 0)) return false
    const destPath = join(tree, file.path)
    const there = await fs.lstat(destPath)
    if (there?.kind !== 'file' || there.size !== placed.size || there.mtimeNs !== placed.mtimeNs) return false
    const tooOld = rereadBeforeNs !== undefined && placed.verifiedAtNs < rereadBeforeNs && method === SHA256_READBACK
    if (!tooOld) {
      report.filesSkipped++
      if (placed.originNodeId !== file.originNodeId || placed.originRunId !== file.originRunId) {
        store.placements.record(key, volRow.id, file.path, { ...placed, originNodeId: file.originNodeId, originRunId: file.originRunId })
      }
      return true
    }
    // the last real read is too old: read it again where it is
    const back = await fs.hash(destPath).catch(() => undefined)
    if (back !== undefined && back.hash.equals(file.hash) && back.size === file.size) {
      report.filesSkipped++
      store.placements.record(key, volRow.id, file.path, { ...placed, runId: run.id, verifiedAtNs: store.clock.nowNs(), originNodeId: file.originNodeId, originRunId: file.originRunId })
      return true
    }
    store.placements.forget(key, volRow.id, file.path)
    return false
  }

  /**
   * A batch of files is copied, made durable, committed and verified together (docs/durability.md):
   *  1. each is copied to a staging file;
   *  2. one syncfs of the destination, then each staging file's own fsync (which finds nothing
   *     left to commit, and reports that file's write errors): its bytes are on stable storage
   *     before its name appears;
   *  3. each is committed create-exclusively to its name (history first for this node's own prior bytes);
   *  4. one syncfs, then every directory the commits touched is fsynced;
   *  5. each is read back (or, under --shallow, checked for presence and size); only then is
   *     its placement recorded, with the instant of that read.
   * placeBatch does steps 1–3, verifyBatch 4–5.
   */
  const placeBatch = async (files: SnapshotFile[]): Promise<SnapshotFile[]> => {
    const staged: Array<{ file: SnapshotFile, path: string }> = []
    await eachLimit(files, PUSH_CONCURRENCY, async (file) => {
      if (init.signal?.aborted === true) return
      try {
        const path = await writer.stagingPath()
        await fs.copyFile(join(volume.path, file.path), path)
        staged.push({ file, path })
      } catch (err) {
        forgetFailed(file, messageOf(err), 'error')
        fileDone()
      }
    })
    await fs.syncFilesystem(tree)
    const durable: typeof staged = []
    await eachLimit(staged, SYNC_CONCURRENCY, async (s) => {
      try {
        await fs.syncFile(s.path)
        durable.push(s)
      } catch (err) {
        forgetFailed(s.file, messageOf(err), 'error')
        fileDone()
      }
    })
    const committed: SnapshotFile[] = []
    await eachLimit(durable, PUSH_CONCURRENCY, async ({ file, path }) => {
      // an interrupt commits nothing more: the staged copy is removed with the staging directory
      if (init.signal?.aborted === true) { fileDone(); return }
      try {
        await writer.commit(path, file.path, file.mtimeNs)
        report.filesSent++
        report.bytesSent += file.size
        progress.bytesSent += file.size
        committed.push(file)
      } catch (err) {
        // a name someone else took meanwhile is refused, never replaced (invariant 25)
        forgetFailed(file, messageOf(err), err instanceof CommitConflictError ? 'refused' : 'error')
        fileDone()
      }
    })
    return committed
  }

  /** Steps 4–5 of a batch (they run while the next batch is copied). */
  const verifyBatch = async (committed: SnapshotFile[]): Promise<void> => {
    if (committed.length === 0) return
    // read-back: what is at the destination now must be exactly the snapshot's content
    const verified: Array<{ path: string, placement: Parameters<Store['placements']['record']>[3] }> = []
    await eachLimit(committed, SYNC_CONCURRENCY, async (file) => {
      const destPath = join(tree, file.path)
      try {
        let read: { size: number, mtimeNs?: number } | undefined
        if (method === SHA256_READBACK) {
          const back = await fs.hash(destPath)
          if (!back.hash.equals(file.hash) || back.size !== file.size) {
            forgetFailed(file, 'read-back hash differs from the indexed content (changed since indexing, or corrupted on the way)', 'readback-mismatch')
            return
          }
          read = back
        }
        // the read-back's own handle says the size and mtime (and that the path still names it)
        const info = read?.mtimeNs !== undefined ? { kind: 'file', size: read.size, mtimeNs: read.mtimeNs } : await fs.lstat(destPath)
        if (info?.kind !== 'file' || info.size !== file.size) {
          forgetFailed(file, 'size at the destination differs', 'readback-mismatch')
          return
        }
        verified.push({ path: file.path, placement: { contentId: file.contentId, size: info.size, mtimeNs: info.mtimeNs, verifyMethod: method, runId: run.id, verifiedAtNs: store.clock.nowNs(), originNodeId: file.originNodeId, originRunId: file.originRunId } })
      } catch (err) {
        forgetFailed(file, messageOf(err), 'error')
      } finally {
        fileDone()
      }
    })
    try {
      await fs.syncFilesystem(tree)
      await writer.syncDirs()
      crashPoint('push-dir:record-placements')
      store.db.transaction(() => { for (const w of verified) store.placements.record(key, volRow.id, w.path, w.placement) }).immediate()
    } catch (err) {
      // nothing written by this batch is evidence until its directory entries are durable
      for (const w of verified) store.placements.forget(key, volRow.id, w.path)
      report.failures.push({ path: '(directories)', reason: `could not sync the destination's directories: ${messageOf(err)}`, code: 'error' })
    }
  }

  // one batch is read back and recorded while the next is copied
  let verifying: Promise<void> = Promise.resolve()
  const sendBatch = async (files: SnapshotFile[]): Promise<void> => {
    const committed = await placeBatch(files)
    await verifying
    verifying = verifyBatch(committed)
  }
  let batch: SnapshotFile[] = []
  let batchBytes = 0
  const files = snapshot.files
  for (let i = 0; i < files.length && init.signal?.aborted !== true; i += PUSH_CONCURRENCY * 16) {
    const slice = files.slice(i, i + PUSH_CONCURRENCY * 16)
    const decided = await Promise.all(slice.map(async f => await holds(f)))
    slice.forEach((file, k) => {
      if (decided[k] === true) { fileDone(); return }
      batch.push(file)
      batchBytes += file.size
    })
    if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
      await sendBatch(batch)
      batch = []
      batchBytes = 0
    }
  }
  if (batch.length > 0 && init.signal?.aborted !== true) await sendBatch(batch)
  await verifying
  await writer.cleanup().catch((err: unknown) => { init.logger.warn('could not clean the staging directory', { error: messageOf(err) }) })

  // the claims follow from everything present and placed, whatever this push managed
  settleClaims(store, volRow.id, run.id, `push to ${destination.name}`)
  report.advanced = store.vector.list(volRow.id).filter(c => c.destination === key && c.sourceNodeId === null)
    .map(c => ({ originNodeId: c.originNodeId, originRunId: c.originRunId }))
  if (init.signal?.aborted === true) {
    init.logger.warn('push interrupted; the claim covers what was placed', { volume: volume.name, destination: destination.name, run: run.id, sent: report.filesSent, of: snapshot.files.length })
    return finish('aborted', `interrupted (${interruptName(init.signal)}) after ${progress.filesDone} of ${snapshot.files.length} file(s); what was placed is recorded, the next push sends the rest`)
  }
  if (report.failures.length > 0) {
    init.logger.info('push incomplete; the claim covers what was placed', { volume: volume.name, destination: destination.name, failures: report.failures.length })
    return finish('partial', `${report.failures.length} file(s) failed; the evidence covers only what was placed`)
  }
  init.logger.info('pushed volume', { volume: volume.name, destination: destination.name, run: run.id, sent: report.filesSent, skipped: report.filesSkipped })
  return finish('success', null)
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
