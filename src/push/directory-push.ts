/**
 * Pushing a volume to a directory destination, as a `push` run:
 *
 *  1. check the destination's identity marker (a missing or different one refuses the run);
 *  2. take the snapshot of the present files before any transfer;
 *  3. copy what the destination lacks (temp + fsync + a create-exclusive link to the final
 *     name, so a file someone else put there is refused, never replaced; this node's own prior
 *     bytes to history first);
 *  4. read every written file back from the destination and hash it (`sha256-readback`), or,
 *     under --shallow, check presence and size only (`presence+size`), recording each
 *     verified file as a placement with the instant of that read, once every directory the
 *     commits linked into or created is fsynced;
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

export const PUSH_CONCURRENCY = 4

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
  // placements of files this push wrote are recorded only once their directories are fsynced
  const written: Array<{ path: string, placement: Parameters<Store['placements']['record']>[3] }> = []
  const placements = store.placements.forVolume(key, volRow.id)
  const rereadBeforeNs = volume.offloadMaxEvidenceAgeMs === undefined ? undefined : store.clock.nowNs() - volume.offloadMaxEvidenceAgeMs * 1e6 / 2
  const progress: PushProgress = { filesDone: 0, filesTotal: snapshot.files.length, bytesSent: 0, bytesTotal: snapshot.totalBytes }

  const pushOne = async (file: SnapshotFile): Promise<void> => {
    const collision = collisions.get(file.path)
    if (collision !== undefined) {
      // never written; a placement from before may be of the bytes its twin then replaced
      store.placements.forget(key, volRow.id, file.path)
      report.failures.push({ path: file.path, reason: collision, code: 'path-collision' })
      return
    }
    const destPath = join(tree, file.path)
    const placed = placements.get(file.path)
    if (placed !== undefined && placed.contentId === file.contentId && (METHOD_STRENGTH[placed.verifyMethod] ?? 0) >= (METHOD_STRENGTH[method] ?? 0)) {
      const there = await fs.lstat(destPath)
      if (there?.kind === 'file' && there.size === placed.size && there.mtimeNs === placed.mtimeNs) {
        const tooOld = rereadBeforeNs !== undefined && placed.verifiedAtNs < rereadBeforeNs && method === SHA256_READBACK
        if (!tooOld) {
          report.filesSkipped++
          if (placed.originNodeId !== file.originNodeId || placed.originRunId !== file.originRunId) {
            store.placements.record(key, volRow.id, file.path, { ...placed, originNodeId: file.originNodeId, originRunId: file.originRunId })
          }
          return
        }
        // the last real read is too old: read it again where it is
        const back = await fs.hash(destPath).catch(() => undefined)
        if (back !== undefined && back.hash.equals(file.hash) && back.size === file.size) {
          report.filesSkipped++
          store.placements.record(key, volRow.id, file.path, { ...placed, runId: run.id, verifiedAtNs: store.clock.nowNs(), originNodeId: file.originNodeId, originRunId: file.originRunId })
          return
        }
        store.placements.forget(key, volRow.id, file.path)
      }
    }
    try {
      const staged = await writer.stagingPath()
      await fs.copyFile(join(volume.path, file.path), staged)
      await fs.syncFile(staged)
      await writer.commit(staged, file.path, file.mtimeNs)
      report.filesSent++
      report.bytesSent += file.size
      progress.bytesSent += file.size
      // read-back: what is at the destination now must be exactly the snapshot's content
      if (method === SHA256_READBACK) {
        const back = await fs.hash(destPath)
        if (!back.hash.equals(file.hash) || back.size !== file.size) {
          store.placements.forget(key, volRow.id, file.path)
          report.failures.push({ path: file.path, reason: 'read-back hash differs from the indexed content (changed since indexing, or corrupted on the way)', code: 'readback-mismatch' })
          return
        }
      } else {
        const there = await fs.lstat(destPath)
        if (there?.kind !== 'file' || there.size !== file.size) {
          store.placements.forget(key, volRow.id, file.path)
          report.failures.push({ path: file.path, reason: 'size at the destination differs', code: 'readback-mismatch' })
          return
        }
      }
      const there = await fs.lstat(destPath)
      if (there !== undefined) written.push({ path: file.path, placement: { contentId: file.contentId, size: there.size, mtimeNs: there.mtimeNs, verifyMethod: method, runId: run.id, verifiedAtNs: store.clock.nowNs(), originNodeId: file.originNodeId, originRunId: file.originRunId } })
    } catch (err) {
      // whatever was placed there before may have moved to history: it is evidence no more
      store.placements.forget(key, volRow.id, file.path)
      // a name someone else took meanwhile is refused, never replaced (invariant 25)
      report.failures.push({ path: file.path, reason: err instanceof Error ? err.message : String(err), code: err instanceof CommitConflictError ? 'refused' : 'error' })
    } finally {
      progress.filesDone++
      init.onProgress?.(progress)
    }
  }

  const queue = [...snapshot.files]
  const workers = Array.from({ length: Math.min(PUSH_CONCURRENCY, queue.length) }, async () => {
    for (let f = queue.shift(); f !== undefined && init.signal?.aborted !== true; f = queue.shift()) await pushOne(f)
  })
  await Promise.all(workers)
  try {
    await writer.syncDirs()
    crashPoint('push-dir:record-placements')
    store.db.transaction(() => { for (const w of written) store.placements.record(key, volRow.id, w.path, w.placement) }).immediate()
  } catch (err) {
    // nothing written this run is evidence until its directory entries are durable
    for (const w of written) store.placements.forget(key, volRow.id, w.path)
    report.failures.push({ path: '(directories)', reason: `could not sync the destination's directories: ${err instanceof Error ? err.message : String(err)}`, code: 'error' })
  }
  await writer.cleanup().catch((err: unknown) => { init.logger.warn('could not clean the staging directory', { error: err instanceof Error ? err.message : String(err) }) })

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
