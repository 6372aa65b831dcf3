/**
 * `cairn verify VOLUME --at DEST`: re-reads and re-hashes every file the evidence says the
 * directory destination holds — each live file (present or offloaded) whose content's origin
 * run is covered by the destination's component and that was pushed (not re-acquired after
 * the last successful push) — as a `verify` run.
 *
 * A clean pass re-confirms the components it checked (a local write at the same run: instant
 * now, source local). Any mismatch or missing file fails the run (exit 1) with an alarm event
 * per file, leaves the evidence exactly as it was, and drops those files' placement cache rows
 * so the next push rewrites them; the offload gate refuses the destination until a push
 * succeeds after the failed verify. Verify never advances a component.
 */
import { join } from 'node:path'
import type { DirectoryDestinationConfig, VolumeConfig } from '../config/types.js'
import { CairnError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'
import { SHA256_READBACK } from '../verify-method.js'
import { nodeDirectoryFs, type DirectoryFs } from './directory-fs.js'
import { ensureDestinationIdentity } from './destination-marker.js'

export interface VerifyReport {
  runId: number
  volume: string
  destination: string
  status: 'success' | 'failed' | 'refused'
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
}

export async function verifyDirectory (init: VerifyInit): Promise<VerifyReport> {
  const { store, volume, destination } = init
  const fs = init.fs ?? nodeDirectoryFs
  const volRow = store.volumes.ensure(volume.name, volume.path)
  const run = store.runs.begin({ kind: 'verify', volumeId: volRow.id, destination: destination.name })
  const report: VerifyReport = { runId: run.id, volume: volume.name, destination: destination.name, status: 'failed', error: null, checked: 0, mismatched: 0, missing: 0, problems: [], reconfirmed: 0 }
  const finish = (status: VerifyReport['status'], error: string | null): VerifyReport => {
    report.status = status
    report.error = error
    store.runs.finish(run.id, status, { error, fileCount: report.checked, detail: { checked: report.checked, mismatched: report.mismatched, missing: report.missing, reconfirmed: report.reconfirmed } })
    return report
  }
  try {
    await ensureDestinationIdentity(store, fs, destination.name, destination.path)
  } catch (err) {
    if (err instanceof CairnError) {
      report.refusal = err
      return finish('refused', err.hint === undefined ? err.message : `${err.message} (${err.hint})`)
    }
    throw err
  }

  const components = new Map(store.vector.list(volRow.id).filter(c => c.destination === destination.name).map(c => [c.originNodeId, c]))
  const lastPush = store.runs.lastSuccess('push', volRow.id, destination.name)
  const claimed = store.files.listLive(volRow.id).filter(f => {
    if (f.status !== 'present' && f.status !== 'offloaded') return false
    const c = components.get(f.originNodeId)
    if (c === undefined || f.originRunId > c.originRunId) return false
    return lastPush === undefined || f.status === 'offloaded' || f.statusChangedRunId <= lastPush.id
  })
  const verifiedOrigins = new Set<number>()
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
      verifiedOrigins.add(f.originNodeId)
      continue
    }
    if (problem === 'missing') report.missing++
    else report.mismatched++
    if (report.problems.length < 100) report.problems.push({ path: f.path, problem })
    store.runs.note(run.id, 'alarm', `${f.path}: ${problem} at ${destination.name}`)
    store.placements.forget(destination.name, volRow.id, f.path)
  }

  if (report.missing + report.mismatched > 0) {
    init.logger.info('verify found files missing or changed at the destination; evidence left as it was', { volume: volume.name, destination: destination.name, missing: report.missing, mismatched: report.mismatched })
    return finish('failed', `${report.missing} missing and ${report.mismatched} mismatched file(s) at ${destination.name}; evidence left as it was, the offload gate refuses ${destination.name} until a push succeeds`)
  }
  const reconfirm = [...components.values()].filter(c => verifiedOrigins.has(c.originNodeId)).map(c => ({ originNodeId: c.originNodeId, originRunId: c.originRunId }))
  report.reconfirmed = store.vector.reconfirmLocal(volRow.id, destination.name, SHA256_READBACK, reconfirm, run.id).applied
  return finish('success', null)
}
