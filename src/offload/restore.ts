/**
 * `cairn restore VOLUME [PATH...] --from DEST`: copies offloaded files back from a directory
 * destination (after checking its identity marker, read-only), verifies every byte against the
 * indexed content, and records it present under a new origin (this node, the restore run). The
 * gate judges it again from scratch: it passes a target only where that version is placed (the
 * directory it came back from still holds it) and, for peers, only once a push placed it there. Restoring from a peer is not supported yet: pull the
 * bytes through a directory destination the peer pushes to.
 *
 * A restore never replaces anything: the copy is committed create-exclusively into a name that
 * must be free (a file that appeared there meanwhile is refused and kept, DESIGN invariant 25),
 * and a restored file is recorded present only after its directories are fsynced.
 */
import { join } from 'node:path'
import type { DirectoryDestinationConfig, VolumeConfig } from '../config/types.js'
import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'
import { nodeDirectoryFs, type DirectoryFs } from '../push/directory-fs.js'
import { checkDestinationIdentity } from '../push/destination-marker.js'
import { treeWriter } from '../push/place-file.js'
import { CommitConflictError } from '../errors.js'
import { crashPoint } from '../crash-point.js'
import { parseSelectors } from './selectors.js'
import { volumeIdentityRefusal } from '../push/volume-marker.js'
import { settleClaims } from '../evidence/settle.js'

export interface RestoreReport {
  runId: number
  volume: string
  from: string
  status: 'success' | 'partial' | 'failed'
  restored: number
  failed: number
  problems: Array<{ path: string, reason: string }>
}

export interface RestoreInit {
  store: Store
  volume: VolumeConfig
  from: DirectoryDestinationConfig
  selectors: string[]
  logger: Logger
  fs?: DirectoryFs
}

/** The destination must be the one the evidence is about; restore never writes to it. */
async function checkIdentity (store: Store, fs: DirectoryFs, dest: DirectoryDestinationConfig): Promise<void> {
  await checkDestinationIdentity(store, fs, dest.name, dest.path)
}

/** Whether every directory from the volume root to the file is a real directory (no symlink leads elsewhere). */
async function noLinkOnTheWay (fs: DirectoryFs, root: string, rel: string): Promise<boolean> {
  let current = root
  for (const segment of rel.split('/').slice(0, -1)) {
    current = join(current, segment)
    if ((await fs.lstat(current))?.kind !== 'dir') return false
  }
  return true
}

export async function restoreFiles (init: RestoreInit): Promise<RestoreReport> {
  const { store, volume, from } = init
  const fs = init.fs ?? nodeDirectoryFs
  const selection = parseSelectors(init.selectors.length === 0 ? ['.'] : init.selectors, undefined, store.clock.nowNs())
  const volRow = store.volumes.ensure(volume.name, volume.path)
  await checkIdentity(store, fs, from)
  // the volume root must be the volume's disk: never restore into a bare mount point
  const notItsDisk = await volumeIdentityRefusal(store, fs, volume.name, volume.path, { needRecorded: true })
  if (notItsDisk !== undefined) {
    init.logger.warn('refused to restore: the volume root is not its disk', { volume: volume.name, error: notItsDisk.name, reason: notItsDisk.message })
    throw notItsDisk
  }
  const run = store.runs.begin({ kind: 'restore', volumeId: volRow.id, destination: from.name })
  const report: RestoreReport = { runId: run.id, volume: volume.name, from: from.name, status: 'success', restored: 0, failed: 0, problems: [] }
  const writer = treeWriter(fs, volume.path, run.id, store.nodes.self().nodeId, 'volume', 'restore')
  const landed: Array<{ path: string, hash: Buffer, size: number, mtimeNs: number }> = []
  const self = store.nodes.self()
  const fail = (path: string, reason: string): void => {
    report.failed++
    if (report.problems.length < 100) report.problems.push({ path, reason })
    store.runs.note(run.id, 'file-failed', `${path}: ${reason}`)
  }
  try {
    const candidates = [...store.files.iterateOffloaded(volRow.id)].filter(f => selection.matches(f.path))
    for (const f of candidates) {
      const source = join(from.path, volume.name, f.path)
      const there = await fs.lstat(source)
      if (there?.kind !== 'file') { fail(f.path, `not at ${from.name} (${source})`); continue }
      const here = await fs.lstat(join(volume.path, f.path))
      if (here !== undefined) {
        // exactly the offloaded bytes already there (a restore killed after its commit, or the
        // user copied them back): restored, nothing to copy; anything else is never replaced
        if (here.kind === 'file' && here.size === f.size && await noLinkOnTheWay(fs, volume.path, f.path) && (await fs.hash(join(volume.path, f.path))).hash.equals(f.hash)) {
          writer.noteDirty(join(volume.path, f.path))
          landed.push({ path: f.path, hash: f.hash, size: f.size, mtimeNs: here.mtimeNs })
          continue
        }
        fail(f.path, 'something is at that path in the volume already; index the volume first')
        continue
      }
      const staged = await writer.stagingPath()
      try {
        await fs.copyFile(source, staged)
        await fs.syncFile(staged)
        const back = await fs.hash(staged)
        if (!back.hash.equals(f.hash) || back.size !== f.size) {
          await fs.removeStaging(staged)
          fail(f.path, `the copy at ${from.name} does not hash to the indexed content`)
          continue
        }
        await writer.commit(staged, f.path, f.mtimeNs, { kind: 'absent' })
      } catch (err) {
        await fs.removeStaging(staged).catch(() => {})
        if (err instanceof CommitConflictError) fail(f.path, 'a file appeared at that path in the volume during the restore; it is kept as it is (index the volume, then restore again if it should go)')
        else fail(f.path, err instanceof Error ? err.message : String(err))
        continue
      }
      const info = await fs.lstat(join(volume.path, f.path))
      landed.push({ path: f.path, hash: f.hash, size: f.size, mtimeNs: info?.mtimeNs ?? f.mtimeNs })
    }
    await writer.syncDirs()
    // a restored file is a new origin here (DESIGN "Re-entry is a new origin — locally"): no
    // claim made while it was away covers it; recorded once its directory entries are durable
    crashPoint('restore:record-present')
    if (landed.length > 0) store.files.recordObserved(volRow.id, run.id, landed.map(l => ({ ...l, originNodeId: self.id, originRunId: run.id })), 'local')
    report.restored = landed.length
  } catch (err) {
    report.status = 'failed'
    store.runs.finish(run.id, 'failed', { error: err instanceof Error ? err.message : String(err), fileCount: report.restored })
    throw err
  } finally {
    await writer.cleanup().catch(() => {})
  }
  settleClaims(store, volRow.id, run.id, 'restore')
  report.status = report.failed > 0 ? 'partial' : 'success'
  store.runs.finish(run.id, report.status, { error: report.failed > 0 ? `${report.failed} file(s) not restored` : null, fileCount: report.restored, detail: { restored: report.restored, failed: report.failed } })
  init.logger.info('restore finished', { volume: volume.name, from: from.name, restored: report.restored, failed: report.failed })
  return report
}
