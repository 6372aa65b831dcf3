/**
 * `cairn verify VOLUME --at DEST [--sample N]`: re-reads and re-hashes every file placed at the
 * directory destination — each live file (present or offloaded) whose placement there has its
 * content —, or N of them drawn at random weighted by bytes, as a `verify` run.
 *
 * A file found intact refreshes its placement's last read (now). A file missing or damaged
 * fails the run (exit 1) with an alarm event, and its placement is forgotten: the claim about
 * the destination comes down at once (retracted, audited — invariant 21) and the gate refuses
 * the file until a push places it again, whatever verify runs next. Verify never claims a file
 * it did not read.
 */
import { join } from 'node:path'
import type { DirectoryDestinationConfig, VolumeConfig } from '../config/types.js'
import { CairnError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'
import { settleClaims } from '../evidence/settle.js'
import { SHA256_READBACK } from '../verify-method.js'
import { nodeDirectoryFs, type DirectoryFs } from './directory-fs.js'
import { ensureDestinationIdentity } from './destination-marker.js'
import { weightedSample } from '../verify/weighted-sample.js'

export interface VerifyReport {
  runId: number
  volume: string
  destination: string
  status: 'success' | 'failed' | 'refused' | 'aborted'
  error: string | null
  checked: number
  mismatched: number
  missing: number
  /** Up to 100 problem paths. */
  problems: Array<{ path: string, problem: 'mismatched' | 'missing' }>
  reconfirmed: number
  refusal?: CairnError
}

export interface VerifyInit {
  store: Store
  volume: VolumeConfig
  destination: DirectoryDestinationConfig
  logger: Logger
  fs?: DirectoryFs
  onProgress?: (done: number, total: number) => void
  /** Re-read only this many placed files, drawn at random weighted by bytes (undefined or 0: all). */
  sample?: number
  /** Uniform in [0, 1) (tests fix it). */
  random?: () => number
}

export async function verifyDirectory (init: VerifyInit): Promise<VerifyReport> {
  const { store, volume, destination } = init
  const fs = init.fs ?? nodeDirectoryFs
  const volRow = store.volumes.ensure(volume.name, volume.path)
  const run = store.runs.begin({ kind: 'verify', volumeId: volRow.id, destination: destination.name, ...(init.sample === undefined || init.sample === 0 ? {} : { detail: { sample: init.sample } }) })
  const report: VerifyReport = { runId: run.id, volume: volume.name, destination: destination.name, status: 'failed', error: null, checked: 0, mismatched: 0, missing: 0, problems: [], reconfirmed: 0 }
  const finish = (status: VerifyReport['status'], error: string | null): VerifyReport => {
    report.status = status
    report.error = error
    store.runs.finish(run.id, status, { error, fileCount: report.checked, detail: { checked: report.checked, mismatched: report.mismatched, missing: report.missing, reconfirmed: report.reconfirmed } })
    return report
  }
  // the destination's store key: its marker (DESIGN "Destination identity")
  let key: string
  try {
    key = (await ensureDestinationIdentity(store, fs, destination.name, destination.path)).key
  } catch (err) {
    if (err instanceof CairnError) {
      report.refusal = err
      return finish('refused', err.hint === undefined ? err.message : `${err.message} (${err.hint})`)
    }
    throw err
  }

  const placed = store.placements.forVolume(key, volRow.id)
  const placedHere = store.files.listLive(volRow.id).filter(f => {
    if (f.status !== 'present' && f.status !== 'offloaded') return false
    return placed.get(f.path)?.contentId === f.contentId
  })
  // a sample refreshes only what it re-read: each placement keeps its own last read
  const claimed = init.sample === undefined || init.sample === 0 ? placedHere : weightedSample(placedHere, init.sample, init.random ?? Math.random)
  for (const f of claimed) {
    const at = join(destination.path, volume.name, f.path)
    const info = await fs.lstat(at)
    let problem: 'mismatched' | 'missing' | null = null
    if (info === undefined) problem = 'missing'
    else if (info.kind !== 'file') problem = 'mismatched'
    else {
      const back = await fs.hash(at).catch(() => undefined)
      if (back === undefined || !back.hash.equals(f.hash) || back.size !== f.size) problem = 'mismatched'
    }
    report.checked++
    init.onProgress?.(report.checked, claimed.length)
    if (problem === null) {
      store.placements.refreshRead(key, volRow.id, f.path, f.contentId, store.clock.nowNs(), SHA256_READBACK)
      report.reconfirmed++
      continue
    }
    if (problem === 'missing') report.missing++
    else report.mismatched++
    if (report.problems.length < 100) report.problems.push({ path: f.path, problem })
    store.runs.note(run.id, 'alarm', `${f.path}: ${problem} at ${destination.name}`)
    store.placements.forget(key, volRow.id, f.path)
  }
  settleClaims(store, volRow.id, run.id, `verify of ${destination.name}`)

  if (report.missing + report.mismatched > 0) {
    init.logger.info('verify found files missing or changed at the destination; their evidence is retracted', { volume: volume.name, destination: destination.name, missing: report.missing, mismatched: report.mismatched })
    return finish('failed', `${report.missing} missing and ${report.mismatched} mismatched file(s) at ${destination.name}; their evidence is retracted until a push places them again`)
  }
  return finish('success', null)
}
