/**
 * `cairn restore VOLUME [PATH...] --from DEST|PEER[/NAME] [--to DIR] [--dry-run]`: copies
 * offloaded files back from a source (src/offload/restore-source.ts: a directory destination
 * after checking its identity marker, read-only; or a peer over `/cairn/fetch/1.0.0`, from its
 * copy of the volume or from a directory it writes), verifies every byte against the indexed
 * content, and records it present under a new origin (this node, the restore run). The gate
 * judges it again from scratch: it passes a target only where that version is placed (the
 * directory it came back from still holds it) and, for peers, only once a push placed it there.
 *
 * A restore never replaces anything: the copy is committed create-exclusively into a name that
 * must be free (a file that appeared there meanwhile is refused and kept, DESIGN invariant 25),
 * and a restored file is recorded present only after its directories are fsynced. Bytes that do
 * not hash to the recorded content are never committed: nothing is written at the final path.
 *
 * `--to DIR` commits the same verified bytes under DIR instead (created as needed) and changes
 * nothing in the volume or its rows: the run is recorded (kind restore, detail `to`), no file is
 * marked present, no claim is settled. `--dry-run` records nothing and writes nothing: it lists
 * which file would come from which source.
 */
import { join } from 'node:path'
import type { DirectoryDestinationConfig, VolumeConfig } from '../config/types.js'
import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'
import { nodeDirectoryFs, type DirectoryFs } from '../push/directory-fs.js'
import { treeWriter } from '../push/place-file.js'
import { CommitConflictError, SelectorMatchesNothingError } from '../errors.js'
import { crashPoint } from '../crash-point.js'
import { closestPaths, parseSelectors, unmatchedSelector } from './selectors.js'
import { volumeIdentityRefusal } from '../push/volume-marker.js'
import { settleClaims } from '../evidence/settle.js'
import { directorySource, type RestoreSource } from './restore-source.js'

export interface RestoreReport {
  runId: number | null
  volume: string
  from: string
  /** Where the files went: the volume root, or `--to DIR`. */
  to: string
  dryRun: boolean
  status: 'success' | 'partial' | 'failed'
  restored: number
  failed: number
  problems: Array<{ path: string, reason: string }>
  /** `--dry-run`: each file that would be restored and the source it would come from. */
  planned: Array<{ path: string, size: number, source: string }>
}

export interface RestoreInit {
  store: Store
  volume: VolumeConfig
  /** A source, or a directory destination of this node (read through `directorySource`). */
  from: RestoreSource | DirectoryDestinationConfig
  selectors: string[]
  logger: Logger
  /** Write under this directory instead of the volume, changing nothing in the volume or its rows. */
  to?: string
  dryRun?: boolean
  fs?: DirectoryFs
}

/** Whether every directory from the root to the file is a real directory (no symlink leads elsewhere). */
async function noLinkOnTheWay (fs: DirectoryFs, root: string, rel: string): Promise<boolean> {
  let current = root
  for (const segment of rel.split('/').slice(0, -1)) {
    current = join(current, segment)
    if ((await fs.lstat(current))?.kind !== 'dir') return false
  }
  return true
}

export async function restoreFiles (init: RestoreInit): Promise<RestoreReport> {
  const { store, volume } = init
  const fs = init.fs ?? nodeDirectoryFs
  const from = 'type' in init.from ? directorySource(store, fs, init.from, volume.name) : init.from
  const selection = parseSelectors(init.selectors.length === 0 ? ['.'] : init.selectors, undefined, store.clock.nowNs())
  const volRow = init.dryRun === true ? store.volumes.check(volume.name, volume.path) : store.volumes.ensure(volume.name, volume.path)
  // a selector naming no file of the volume is a typo, never a restore of nothing
  const unmatched = unmatchedSelector(init.selectors, () => volRow === undefined ? [] : store.files.listLive(volRow.id).map(f => f.path))
  if (unmatched !== undefined) throw new SelectorMatchesNothingError(volume.name, unmatched, closestPaths(unmatched, volRow === undefined ? [] : store.files.listLive(volRow.id).map(f => f.path)))
  const candidates = volRow === undefined ? [] : [...store.files.iterateOffloaded(volRow.id)].filter(f => selection.matches(f.path))
  const root = init.to ?? volume.path
  if (init.dryRun === true) {
    return {
      runId: null, volume: volume.name, from: from.name, to: root, dryRun: true, status: 'success', restored: 0, failed: 0, problems: [],
      planned: candidates.map(f => ({ path: f.path, size: f.size, source: from.describe(f.path) }))
    }
  }
  if (volRow === undefined) throw new Error('unreachable: the volume row was just ensured')
  await from.prepare()
  if (init.to === undefined) {
    // the volume root must be the volume's disk: never restore into a bare mount point
    const notItsDisk = await volumeIdentityRefusal(store, fs, volume.name, volume.path, { needRecorded: true })
    if (notItsDisk !== undefined) {
      init.logger.warn('refused to restore: the volume root is not its disk', { volume: volume.name, error: notItsDisk.name, reason: notItsDisk.message })
      throw notItsDisk
    }
  } else {
    await fs.mkdirp(init.to)
  }
  const run = store.runs.begin({ kind: 'restore', volumeId: volRow.id, destination: from.name, detail: init.to === undefined ? undefined : { to: init.to } })
  const report: RestoreReport = { runId: run.id, volume: volume.name, from: from.name, to: root, dryRun: false, status: 'success', restored: 0, failed: 0, problems: [], planned: [] }
  const writer = treeWriter(fs, root, run.id, store.nodes.self().nodeId, 'volume', 'restore')
  const landed: Array<{ path: string, hash: Buffer, size: number, mtimeNs: number }> = []
  const self = store.nodes.self()
  const fail = (path: string, reason: string): void => {
    report.failed++
    if (report.problems.length < 100) report.problems.push({ path, reason })
    store.runs.note(run.id, 'file-failed', `${path}: ${reason}`)
  }
  try {
    const wanted: typeof candidates = []
    for (const f of candidates) {
      const here = await fs.lstat(join(root, f.path))
      if (here !== undefined) {
        // exactly the offloaded bytes already there (a restore killed after its commit, or the
        // user copied them back): restored, nothing to copy; anything else is never replaced
        if (here.kind === 'file' && here.size === f.size && await noLinkOnTheWay(fs, root, f.path) && (await fs.hash(join(root, f.path))).hash.equals(f.hash)) {
          writer.noteDirty(join(root, f.path))
          landed.push({ path: f.path, hash: f.hash, size: f.size, mtimeNs: here.mtimeNs })
          continue
        }
        fail(f.path, init.to === undefined ? 'something is at that path in the volume already; index the volume first' : `something is at that path under ${init.to} already; it is kept`)
        continue
      }
      wanted.push(f)
    }
    const byPath = new Map(wanted.map(f => [f.path, f]))
    await from.bring(wanted, async () => await writer.stagingPath(), async (w, outcome) => {
      const f = byPath.get(w.path)
      if (f === undefined) return
      if (outcome.kind === 'not-found') { fail(f.path, `not held at ${from.name}`); return }
      if (outcome.kind === 'failed') { fail(f.path, outcome.reason); return }
      const staged = outcome.staged
      try {
        // read back from this disk: only bytes that are here and hash to the record are committed
        const back = await fs.hash(staged)
        if (!back.hash.equals(f.hash) || back.size !== f.size) {
          await fs.removeStaging(staged)
          fail(f.path, `the copy from ${from.name} does not hash to the indexed content`)
          return
        }
        await writer.commit(staged, f.path, f.mtimeNs, { kind: 'absent' })
      } catch (err) {
        await fs.removeStaging(staged).catch(() => {})
        if (err instanceof CommitConflictError) fail(f.path, 'a file appeared at that path during the restore; it is kept as it is (index the volume, then restore again if it should go)')
        else fail(f.path, err instanceof Error ? err.message : String(err))
        return
      }
      const info = await fs.lstat(join(root, f.path))
      landed.push({ path: f.path, hash: f.hash, size: f.size, mtimeNs: info?.mtimeNs ?? f.mtimeNs })
    })
    await writer.syncDirs()
    // a restored file is a new origin here (DESIGN "Re-entry is a new origin — locally"): no
    // claim made while it was away covers it; recorded once its directory entries are durable.
    // `--to` changes nothing in the volume's rows.
    crashPoint('restore:record-present')
    if (landed.length > 0 && init.to === undefined) store.files.recordObserved(volRow.id, run.id, landed.map(l => ({ ...l, originNodeId: self.id, originRunId: run.id })), 'local')
    report.restored = landed.length
  } catch (err) {
    report.status = 'failed'
    store.runs.finish(run.id, 'failed', { error: err instanceof Error ? err.message : String(err), fileCount: report.restored })
    throw err
  } finally {
    await writer.cleanup().catch(() => {})
  }
  if (init.to === undefined) settleClaims(store, volRow.id, run.id, 'restore')
  report.status = report.failed > 0 ? 'partial' : 'success'
  store.runs.finish(run.id, report.status, { error: report.failed > 0 ? `${report.failed} file(s) not restored` : null, fileCount: report.restored, detail: { restored: report.restored, failed: report.failed } })
  init.logger.info('restore finished', { volume: volume.name, from: from.name, to: root, restored: report.restored, failed: report.failed })
  return report
}
