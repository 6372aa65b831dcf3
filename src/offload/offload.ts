/**
 * `cairn offload`: delete local bytes the gate proves durable on every required target
 * (DESIGN invariant 13). Gate data is loaded once; `--dry-run` reads no file bytes and writes
 * nothing. A real offload is an `offload` run under the exclusive gate; before every unlink it
 * checks that no revoke, reset, rewind or rewinding pull was recorded since it started (those
 * take no gate, so a revocation never waits behind an offload — the offload stops instead),
 * then verifies the file from its open handle. The row is marked offloaded only after the unlink.
 * Before the first unlink, the hold phase (./hold-phase.ts, DESIGN invariant 29) records this
 * node's intents and takes a hold from every peer whose custody a required target relies on;
 * only files every custodian holds are unlinked, and only while the holds last.
 */
import { interruptName } from '../interrupt.js'
import type { Libp2p } from '@libp2p/interface'
import type { Config, VolumeConfig } from '../config/types.js'
import { CairnError, OffloadPolicyMissingError, SelectorMatchesNothingError } from '../errors.js'
import type { Logger } from '../logger.js'
import { nodeLabel } from '../naming.js'
import type { LiveFile } from '../store/files.js'
import type { Store } from '../store/store.js'
import { checkDestinationIdentity } from '../push/destination-marker.js'
import { nodeDirectoryFs, type DirectoryFs } from '../push/directory-fs.js'
import { volumeIdentityRefusal } from '../push/volume-marker.js'
import { gateFile } from './gate.js'
import { loadGatePolicy, placementKeys } from './gate-policy.js'
import { runHoldPhase } from './hold-phase.js'
import { ReportBuilder, type Group, type RefusalView, type Requirement } from './report.js'
import { closestPaths, parseSelectors, unmatchedSelector } from './selectors.js'
import { verifyAndUnlink, type UnlinkHooks } from './unlink.js'
import type { UnlinkFs } from './unlink-fs.js'
import { currentClaims, settleClaims } from '../evidence/settle.js'
import { settleUnclaimed } from '../evidence/unclaimed.js'
import { crashPoint } from '../crash-point.js'

/** Files whose custody an offload gives up at once, before it unlinks any of them. */
export const OFFLOAD_UNCLAIM_BATCH = 1024

export type FileOutcome = 'offloaded' | 'not-durable' | 'drift' | 'error'

export interface OffloadFileReport {
  path: string
  outcome: FileOutcome
  reasons: RefusalView[]
  /** For drift and error. */
  note?: string
  /** For drift: the visible name another file found at the path was kept under (its own name was taken meanwhile). */
  keptAs?: string
}

export interface OffloadReport {
  volume: string
  dryRun: boolean
  runId: number | null
  /** `aborted`: interrupted; the unlink in progress finished or was put back, the rest kept. */
  status: 'success' | 'partial' | 'failed' | 'dry-run' | 'aborted'
  selected: number
  offloaded: number
  /** Files the gate passed (in a dry run: would be offloaded). */
  durable: number
  notDurable: number
  drift: number
  errors: number
  groups: Group[]
  requirements: Requirement[]
  files: OffloadFileReport[] | undefined
  /** Drift and errors, always listed (at most 100). */
  problems: OffloadFileReport[]
  /** Set when the offload stopped early (evidence changed underneath it). */
  stopped: string | null
}

export interface OffloadInit {
  store: Store
  config: Config
  volume: VolumeConfig
  selectors: string[]
  olderThanMs?: number
  dryRun: boolean
  perFile: boolean
  logger: Logger
  hooks?: UnlinkHooks
  /** The metadata calls of the exact unlink (tests inject faults). */
  unlinkFs?: UnlinkFs
  onProgress?: (done: number, total: number) => void
  /** A started libp2p host, to ask custodian peers for holds; without one, files relying on a peer are refused (not-held). */
  host?: Libp2p
  /** The filesystem a directory destination's marker is read through (tests inject faults). */
  fs?: DirectoryFs
  /** How long to ask custodians to hold (tests shorten it); default MAX_HOLD_DURATION_MS. */
  holdDurationMs?: number
  /** Interrupt (SIGINT/SIGTERM): checked before each file; an unlink in progress always completes or is put back. */
  signal?: AbortSignal
}

/** Runs recorded after `runId` that can take evidence away. */
function evidenceChangedSince (store: Store, runId: number): string | null {
  const row = store.db.prepare(`SELECT id, kind FROM runs WHERE id > ? AND (kind IN ('revoke', 'reset', 'rewind')
                                  OR (kind = 'pull' AND json_extract(detail, '$.allow_rewind') = 1)) ORDER BY id LIMIT 1`).get(runId) as { id: number, kind: string } | undefined
  return row === undefined ? null : `a ${row.kind} (run ${row.id}) changed the evidence while the offload ran; run it again to re-check the gate`
}

export async function offloadVolume (init: OffloadInit): Promise<OffloadReport> {
  const { store, config, volume } = init
  if (volume.offloadRequires.length === 0) throw new OffloadPolicyMissingError(volume.name, config.file)
  const now = store.clock.nowNs()
  const selection = parseSelectors(init.selectors, init.olderThanMs, now)
  const volRow = init.dryRun ? store.volumes.check(volume.name, volume.path) : store.volumes.ensure(volume.name, volume.path)
  // a selector naming no file of the volume is a typo, never an offload of nothing
  const livePaths = (): string[] => volRow === undefined ? [] : store.files.listLive(volRow.id).map(f => f.path)
  const unmatched = unmatchedSelector(init.selectors, livePaths)
  if (unmatched !== undefined) throw new SelectorMatchesNothingError(volume.name, unmatched, closestPaths(unmatched, livePaths()))
  const run = init.dryRun || volRow === undefined ? undefined : store.runs.begin({ kind: 'offload', volumeId: volRow.id, detail: { selectors: init.selectors, older_than_ms: init.olderThanMs ?? null } })

  // the volume root must be the disk the evidence is about before the gate says anything: a
  // missing or changed marker (unmounted, swapped) or no recorded marker yet refuses the run
  let identity
  try {
    identity = await volumeIdentityRefusal(store, init.fs ?? nodeDirectoryFs, volume.name, volume.path, { needRecorded: true })
  } catch (err) {
    if (run !== undefined) store.runs.finish(run.id, 'failed', { error: `the volume root could not be read: ${err instanceof Error ? err.message : String(err)}` })
    throw err
  }
  if (identity !== undefined) {
    if (run !== undefined) store.runs.finish(run.id, 'refused', { error: identity.hint === undefined ? identity.message : `${identity.message} (${identity.hint})`, detail: { error_name: identity.name } })
    init.logger.warn('refused to offload: the volume root is not its disk', { volume: volume.name, run: run?.id ?? null, error: identity.name, reason: identity.message })
    throw identity
  }

  const policy = loadGatePolicy(store, config, volume, now)
  // a directory this node writes counts only while its marker says it is that directory: an
  // unmounted or swapped disk, or a directory another node took over, proves nothing now
  for (const t of policy.targets) {
    const dest = t.reach === 'pushed' && t.kind === 'directory' ? config.destinations.get(t.name) : undefined
    if (dest === undefined || t.placementKey === null || t.placementKey === undefined) continue
    try {
      await checkDestinationIdentity(store, init.fs ?? nodeDirectoryFs, dest.name, dest.path)
    } catch (err) {
      if (!(err instanceof CairnError)) throw err
      t.unverified = err.message
    }
  }
  const names = new Map<number, string>()
  const name = (rowId: number): string => {
    let n = names.get(rowId)
    if (n === undefined) {
      const node = store.nodes.byRowId(rowId)
      n = nodeLabel(node, node?.nodeId ?? `#${rowId}`)
      names.set(rowId, n)
    }
    return n
  }
  const builder = new ReportBuilder(policy, name)
  const report: OffloadReport = {
    volume: volume.name, dryRun: init.dryRun, runId: run?.id ?? null, status: init.dryRun ? 'dry-run' : 'success', selected: 0, offloaded: 0, durable: 0,
    notDurable: 0, drift: 0, errors: 0, groups: [], requirements: [], files: init.perFile ? [] : undefined, problems: [], stopped: null
  }
  // only row ids of durable files are kept; each is re-read right before its unlink
  const durable: number[] = []
  const fileReports = new Map<string, OffloadFileReport>()
  if (volRow !== undefined) {
    for (const f of store.files.iterateGateRows(volRow.id, placementKeys(policy))) {
      if (!selection.matches(f.path)) continue
      if (selection.olderThanNs !== undefined && f.mtimeNs >= selection.olderThanNs) continue
      report.selected++
      const reasons = builder.add(f.path, f, gateFile(policy, f))
      if (reasons.length === 0) {
        report.durable++
        if (run !== undefined) durable.push(f.id)
      } else {
        report.notDurable++
      }
      if (init.perFile) {
        // in a dry run a file that passes reads 'offloaded': the outcome the offload would have
        const fr: OffloadFileReport = { path: f.path, outcome: reasons.length === 0 ? 'offloaded' : 'not-durable', reasons }
        report.files?.push(fr)
        fileReports.set(f.path, fr)
      }
    }
  }
  report.groups = builder.finishGroups()
  report.requirements = [...builder.requirements.values()]
  if (report.files !== undefined) report.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  if (run === undefined || volRow === undefined) return report

  // ---- holds (DESIGN invariant 29): intents here, a hold from every custodian peer ------------
  const hold = await runHoldPhase({
    store, host: init.host, volume, volumeId: volRow.id, runId: run.id, policy, builder, name, logger: init.logger,
    durationMs: init.holdDurationMs,
    files: durable.map(id => store.files.byId(id)).filter((f): f is LiveFile => f !== undefined && f.status === 'present')
  })
  for (const [path, reasons] of hold.refused) {
    report.durable--
    report.notDurable++
    const fr = fileReports.get(path)
    if (fr !== undefined) {
      fr.outcome = 'not-durable'
      fr.reasons.push(...reasons)
    }
  }
  report.groups = builder.finishGroups()
  report.requirements = [...builder.requirements.values()]
  const held = hold.allowed.map(f => f.id)
  // ---- end of the hold phase; every unlink below asks hold.live() first ---------------------

  let done = 0
  let position = 0
  try {
    for (const fileId of held) {
      // this node stops claiming custody of a batch of files before it unlinks any of them, so
      // no claim it makes (and none it recorded, should it be killed mid-unlink) covers bytes
      // that are gone (invariant 19); the end of the offload settles the ones it kept
      if (position % OFFLOAD_UNCLAIM_BATCH === 0) {
        const batch = held.slice(position, position + OFFLOAD_UNCLAIM_BATCH)
        crashPoint('offload:unclaim-batch')
        store.db.transaction(() => {
          store.conflicts.markReplacing(volRow.id, run.id, batch)
          store.vector.settleLocal(volRow.id, currentClaims(store, volRow.id), run.id, 'files an offload is about to unlink')
        }).immediate()
      }
      position++
      const f: LiveFile | undefined = store.files.byId(fileId)
      if (f === undefined || f.status !== 'present') continue
      if (init.signal?.aborted === true) {
        report.stopped = `interrupted (${interruptName(init.signal)}) after ${report.offloaded} file(s) offloaded; the rest are kept`
        break
      }
      const changed = evidenceChangedSince(store, run.id)
      if (changed !== null) {
        report.stopped = changed
        break
      }
      if (!hold.live()) {
        report.stopped = hold.stopReason
        break
      }
      let note: string | undefined
      let keptAs: string | undefined
      let outcome: FileOutcome
      try {
        // the row is marked offloaded inside, in the transaction that closes the unlink's journal entry
        const r = await verifyAndUnlink(volume.path, { path: f.path, size: f.size, mtimeNs: f.mtimeNs, hash: f.hash },
          { journal: store.unlinkJournal, runId: run.id, volumeId: volRow.id, fileId: f.id, fs: init.unlinkFs }, hold.hooks(init.hooks))
        if (r.outcome === 'offloaded') {
          outcome = 'offloaded'
          report.offloaded++
        } else {
          outcome = 'drift'
          note = r.reason
          keptAs = r.keptAs
          report.drift++
          init.logger.warn('not offloading a file that drifted since it was indexed', { volume: volume.name, path: f.path, reason: r.reason })
        }
      } catch (err) {
        outcome = 'error'
        note = err instanceof Error ? err.message : String(err)
        report.errors++
      }
      if (outcome !== 'offloaded') {
        if (report.problems.length < 100) report.problems.push({ path: f.path, outcome, reasons: [], note, ...(keptAs === undefined ? {} : { keptAs }) })
        store.runs.note(run.id, outcome, `${f.path}: ${note ?? ''}`)
      }
      const fr = fileReports.get(f.path)
      if (fr !== undefined) {
        fr.outcome = outcome
        if (note !== undefined) fr.note = note
        if (keptAs !== undefined) fr.keptAs = keptAs
      }
      init.onProgress?.(++done, held.length)
    }
  } finally {
    hold.release()
  }
  // files it kept (drift, an error, the run stopped) are claimed again if they are in place
  await settleUnclaimed(store, volume.path, run.id)
  // what this node holds changed: its custody now has holes where it offloaded (invariant 19)
  settleClaims(store, volRow!.id, run.id, 'offload')
  report.status = init.signal?.aborted === true && report.stopped !== null ? 'aborted' : report.stopped !== null ? 'failed' : report.drift + report.errors > 0 ? 'partial' : 'success'
  store.runs.finish(run.id, report.status, {
    error: report.stopped ?? (report.status === 'partial' ? `${report.drift} drifted, ${report.errors} failed` : null),
    fileCount: report.offloaded,
    detail: { selected: report.selected, offloaded: report.offloaded, not_durable: report.notDurable, drift: report.drift, errors: report.errors }
  })
  init.logger.info('offload finished', { volume: volume.name, run: run.id, offloaded: report.offloaded, not_durable: report.notDurable, drift: report.drift })
  return report
}
