/**
 * Finishes or undoes unlinks a killed offload left pending (DESIGN invariant 27), at the next
 * start of any command (src/cli/context.ts, where the store is opened; `serve` too).
 *
 * Each volume with pending journal entries gets an `offload` run (detail `recovery: true`), so
 * it waits behind anything running on the volume — a live offload's own entries are never
 * touched — and reaps the killed offload's run. Every entry is decided from what is on disk:
 *  - the directory is gone or is another directory (an unmounted disk): nothing is decided,
 *    the entry stays pending, a warning is logged and no run is begun for it;
 *  - the quarantined file is there: it is put back under its name (without replacing anything;
 *    if the name is taken, kept under a visible recovered name and reported) and the row is left
 *    as it is. Never deleted here: the holds its gate relied on may have ended, and a peer may
 *    have offloaded its own copy since. The next offload checks it again;
 *  - both names hold the same inode (a put-back was interrupted): the quarantine name is removed;
 *  - a planned recovered name is there: it was kept aside;
 *  - only the original name is there: the rename never happened (or was undone): nothing changes;
 *  - neither is there: the unlink happened; the row is marked offloaded (the journal entry
 *    exists only for a file whose gate, holds and check passed) and the claims are settled,
 *    so this node no longer claims custody of bytes it no longer has.
 * Every step is a crash point and every decision is re-made from the disk, so a crash during
 * recovery is recovered by the next start.
 */
import { dirname, join } from 'node:path'
import { RunConflictError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { JournalEntry } from '../store/unlink-journal.js'
import type { Store } from '../store/store.js'
import { settleClaims } from '../evidence/settle.js'
import { nodeUnlinkFs, type UnlinkFs } from './unlink-fs.js'
import { putBack, step, type UnlinkHooks } from './unlink.js'

export type RecoveryAction = 'offloaded' | 'restored' | 'kept' | 'unchanged' | 'undecided'

export interface RecoveredEntry {
  entryId: number
  /** The offload run that was interrupted. */
  runId: number
  path: string
  action: RecoveryAction
  /** For `kept`: the visible name the quarantined file is at. For `undecided`: why. */
  note?: string
}

export interface VolumeRecovery {
  volume: string
  /** The recovery run; null when the volume is busy (recovery waits for the next start). */
  runId: number | null
  entries: RecoveredEntry[]
  /** Set when recovery could not start on this volume. */
  skipped?: string
}

export interface RecoveryInit {
  store: Store
  logger: Logger
  fs?: UnlinkFs
  hooks?: Pick<UnlinkHooks, 'atStep'>
}

/** Resolves every pending unlink it may; cheap (one indexed query) when there is none. */
export function recoverInterruptedUnlinks (init: RecoveryInit): VolumeRecovery[] {
  const { store } = init
  if (!store.unlinkJournal.hasPending()) return []
  const logger = init.logger.forComponent('unlink-recovery')
  const byVolume = new Map<number, JournalEntry[]>()
  for (const e of store.unlinkJournal.listPending()) {
    const list = byVolume.get(e.volumeId) ?? []
    list.push(e)
    byVolume.set(e.volumeId, list)
  }
  const out: VolumeRecovery[] = []
  const fs = init.fs ?? nodeUnlinkFs
  for (const [volumeId, all] of byVolume) {
    const volume = (store.db.prepare('SELECT name FROM volumes WHERE id = ?').get(volumeId) as { name: string } | undefined)?.name ?? `#${volumeId}`
    // an unmounted volume decides nothing: it gets no run (every command would add one), only a warning
    const waiting: RecoveredEntry[] = []
    const entries = all.filter(e => {
      const why = undecidable(e, fs)
      if (why !== undefined) waiting.push({ entryId: e.id, runId: e.runId, path: e.path, action: 'undecided', note: why })
      return why === undefined
    })
    for (const w of waiting) logger.warn('an interrupted unlink waits for its directory', { volume, path: w.path, interrupted_run: w.runId, note: w.note ?? '' })
    if (entries.length === 0) {
      out.push({ volume, runId: null, entries: waiting, skipped: 'no interrupted unlink of this volume can be decided now' })
      continue
    }
    const interrupted = [...new Set(entries.map(e => e.runId))]
    let runId: number
    try {
      runId = store.runs.begin({ kind: 'offload', volumeId, detail: { recovery: true, interrupted_runs: interrupted, pending: entries.length } }).id
    } catch (err) {
      if (!(err instanceof RunConflictError)) throw err
      logger.info('an interrupted unlink waits for a running run to finish', { volume, pending: entries.length, blocking_run: err.blocking.id })
      out.push({ volume, runId: null, entries: waiting, skipped: err.message })
      continue
    }
    const done: RecoveredEntry[] = [...waiting]
    try {
      for (const e of entries) {
        const r = recoverEntry(store, e, runId, fs, init.hooks)
        done.push(r)
        const fields = { volume, path: e.path, interrupted_run: e.runId, action: r.action, ...(r.note === undefined ? {} : { note: r.note }) }
        if (r.action === 'kept' || r.action === 'undecided') logger.warn('recovered an interrupted unlink', fields)
        else logger.info('recovered an interrupted unlink', fields)
        if (r.action !== 'unchanged') store.runs.note(runId, `unlink-${r.action}`, `${e.path} (run ${e.runId})${r.note === undefined ? '' : ': ' + r.note}`)
      }
    } catch (err) {
      // an I/O error: what is done is recorded; the rest stays pending for the next start
      const message = err instanceof Error ? err.message : String(err)
      logger.warn('unlink recovery stopped; the rest waits for the next start', { volume, error: message })
      finishRecovery(store, volumeId, runId, done, `recovery stopped: ${message}`)
      out.push({ volume, runId, entries: done })
      continue
    }
    finishRecovery(store, volumeId, runId, done, null)
    out.push({ volume, runId, entries: done })
  }
  return out
}

function finishRecovery (store: Store, volumeId: number, runId: number, done: RecoveredEntry[], error: string | null): void {
  const count = (a: RecoveryAction): number => done.filter(d => d.action === a).length
  // rows marked offloaded are holes in this node's custody now (invariant 19)
  if (count('offloaded') > 0) settleClaims(store, volumeId, runId, 'offload')
  const problems = count('kept') + count('undecided')
  const status = error !== null ? 'failed' : problems > 0 ? 'partial' : 'success'
  store.runs.finish(runId, status, {
    error: error ?? (problems > 0 ? `${count('kept')} kept under a recovered name, ${count('undecided')} undecided` : null),
    fileCount: count('offloaded'),
    detail: { offloaded: count('offloaded'), restored: count('restored'), kept: count('kept'), unchanged: count('unchanged'), undecided: count('undecided') }
  })
}

/** Why nothing can be decided for an entry now (its directory is gone or another one), or undefined. */
function undecidable (e: JournalEntry, fs: UnlinkFs): string | undefined {
  const dir = dirname(join(e.root, e.path))
  const dirSt = fs.statDir(dir)
  if (dirSt === undefined || !dirSt.isDirectory()) return `${dir} is not there (is the volume mounted?)`
  if (dirSt.dev !== e.dirDev || dirSt.ino !== e.dirIno) return `${dir} is another directory than the one the unlink began in (is the volume mounted?)`
  return undefined
}

/** Decides one pending entry from the disk and acts; resolves it (except `undecided`). */
export function recoverEntry (store: Store, e: JournalEntry, runId: number, fs: UnlinkFs, hooks?: Pick<UnlinkHooks, 'atStep'>): RecoveredEntry {
  const journal = store.unlinkJournal
  const abs = join(e.root, e.path)
  const dir = dirname(abs)
  const base = e.path.slice(e.path.lastIndexOf('/') + 1)
  const r = (action: RecoveryAction, note?: string): RecoveredEntry => ({ entryId: e.id, runId: e.runId, path: e.path, action, ...(note === undefined ? {} : { note }) })
  const why = undecidable(e, fs)
  if (why !== undefined) return r('undecided', why)
  const q = join(dir, e.quarantineName)
  const quarantined = fs.lstat(q)
  const original = fs.lstat(abs)
  if (quarantined !== undefined) {
    if (original !== undefined && original.dev === quarantined.dev && original.ino === quarantined.ino) {
      // a put-back linked it and was stopped before removing the quarantine name
      step('unlink:recover-remove-link', hooks)
      fs.unlink(q)
      step('unlink:recover-resolve-restored', hooks)
      journal.resolveKept(e.id, 'restored', runId)
      return r('restored')
    }
    const aside = e.recoveredName === null ? undefined : fs.lstat(join(dir, e.recoveredName))
    if (aside !== undefined && aside.dev === quarantined.dev && aside.ino === quarantined.ino) {
      // keeping it aside linked it and was stopped before removing the quarantine name
      step('unlink:recover-remove-link', hooks)
      fs.unlink(q)
      step('unlink:recover-resolve-kept', hooks)
      journal.resolveKept(e.id, 'kept', runId)
      return r('kept', `${e.path} was taken by another file; the quarantined file is kept as ${e.recoveredName ?? ''}`)
    }
    const kept = putBack(fs, journal, e.id, dir, q, abs, base, runId, hooks === undefined ? undefined : { atStep: hooks.atStep })
    return kept === undefined ? r('restored') : r('kept', `${e.path} was taken by another file; the quarantined file is kept as ${kept}`)
  }
  if (e.recoveredName !== null && fs.lstat(join(dir, e.recoveredName)) !== undefined) {
    step('unlink:recover-resolve-kept', hooks)
    journal.resolveKept(e.id, 'kept', runId)
    return r('kept', `${e.path} was taken by another file; the quarantined file is kept as ${e.recoveredName}`)
  }
  if (original !== undefined) {
    step('unlink:recover-resolve-unchanged', hooks)
    journal.resolveKept(e.id, 'unchanged', runId)
    return r('unchanged')
  }
  step('unlink:recover-mark-offloaded', hooks)
  journal.resolveUnlinked(e.id, runId)
  return r('offloaded')
}
