/**
 * The peer's half of `/cairn/verify/1.0.0`: re-read what this node holds of a volume because a
 * node that pushes it here asked, as a recorded run, before a fresh assertion is sealed.
 *
 *  - **everything** (`sample` 0): a full re-hash of the volume — `cairn index --rehash` as an
 *    `index` run naming the requester. Every file read gets a new read instant; a file gone is
 *    missing, a received file damaged behind unchanged metadata moves aside
 *    (src/index/quarantine.ts), an edited one is a new version: each lowers custody at once.
 *  - **a sample** (`sample` N): N present files drawn at random, weighted by bytes, re-hashed in
 *    an `index` run that walks nothing else. A file whose bytes still hash to its row gets a new
 *    read instant (it was really re-read; custody's `verified_at`, the oldest read behind it,
 *    moves only once every file it covers was re-read). A sampled file missing or not matching
 *    is never decided by the sample: the whole volume is then re-read as above, which settles
 *    it like any index.
 *
 * Problems are what the run changed: rows present before and present after with other content,
 * or found damaged and moved aside (mismatched), or no longer present (missing).
 */
import { join } from 'node:path'
import type { VolumeConfig } from '../config/types.js'
import { FileChangedWhileHashingError, hashFile } from '../index/hash-file.js'
import { indexVolume, type IndexReport } from '../index/index-volume.js'
import type { Logger } from '../logger.js'
import { MAX_VERIFY_PROBLEMS } from '../protocol/limits.js'
import { VerifyProblemKind, type VerifyProblem } from '../protocol/messages.js'
import type { LiveFile } from '../store/files.js'
import type { Store } from '../store/store.js'
import { realDirectories } from './real-directories.js'
import { weightedSample } from './weighted-sample.js'
import { settleClaims } from '../evidence/settle.js'
import { nodeDirectoryFs } from '../push/directory-fs.js'
import { volumeIdentityRefusal } from '../push/volume-marker.js'

export interface RereadInit {
  store: Store
  volume: VolumeConfig
  /** 0: everything. */
  sample: number
  requestedBy: { peerNodeId: number, name: string }
  logger: Logger
  signal?: AbortSignal
  onProgress?: (checked: number, bytes: number) => void
  /** Uniform in [0, 1) (tests fix it). */
  random?: () => number
  /** Injectable hashing (tests damage files mid-sample). */
  hash?: typeof hashFile
}

export interface RereadResult {
  /** The run that re-read the files (the full re-hash's, when a sample escalated). */
  runId: number
  status: IndexReport['status']
  error: string | null
  checked: number
  bytesChecked: number
  mismatched: number
  missing: number
  problems: VerifyProblem[]
  /** A sample found something and the whole volume was re-read. */
  escalated: boolean
}

function diff (before: ReadonlyMap<string, LiveFile>, after: readonly LiveFile[], damaged: ReadonlySet<string>): Pick<RereadResult, 'mismatched' | 'missing' | 'problems'> {
  const now = new Map(after.filter(f => f.status === 'present').map(f => [f.path, f.contentId]))
  const out: Pick<RereadResult, 'mismatched' | 'missing' | 'problems'> = { mismatched: 0, missing: 0, problems: [] }
  for (const [path, f] of before) {
    if (f.status !== 'present') continue
    const c = now.get(path)
    if (c === f.contentId) continue
    // a damaged file was found with other bytes (and then moved aside): mismatched, not gone
    const kind = c === undefined && !damaged.has(path) ? VerifyProblemKind.MISSING : VerifyProblemKind.MISMATCHED
    if (kind === VerifyProblemKind.MISSING) out.missing++
    else out.mismatched++
    if (out.problems.length < MAX_VERIFY_PROBLEMS) out.problems.push({ path, kind })
  }
  return out
}

async function rereadAll (init: RereadInit, escalated: boolean, prior: { checked: number, bytes: number }): Promise<RereadResult> {
  const volId = init.store.volumes.ensure(init.volume.name, init.volume.path).id
  const before = init.store.files.live(volId)
  const r = await indexVolume({
    store: init.store,
    volume: init.volume,
    quick: false,
    logger: init.logger,
    requestedBy: init.requestedBy,
    ...(init.signal === undefined ? {} : { signal: init.signal }),
    onProgress: (p) => { init.onProgress?.(prior.checked + p.filesHashed, prior.bytes + p.bytesHashed) }
  })
  return {
    runId: r.runId,
    status: r.status,
    error: r.error,
    checked: prior.checked + r.filesHashed,
    bytesChecked: prior.bytes + r.bytesHashed,
    ...diff(before, init.store.files.listLive(volId), new Set(r.damaged.map(d => d.path))),
    escalated
  }
}

export async function rereadForPeer (init: RereadInit): Promise<RereadResult> {
  if (init.sample === 0) return await rereadAll(init, false, { checked: 0, bytes: 0 })
  const { store, volume } = init
  // the root must be the volume's disk before a sample reads anything from it (a full re-hash checks in index)
  const refusal = await volumeIdentityRefusal(store, nodeDirectoryFs, volume.name, volume.path, { needRecorded: true })
  if (refusal !== undefined) throw refusal
  const volId = store.volumes.ensure(volume.name, volume.path).id
  const run = store.runs.begin({ kind: 'index', volumeId: volId, peerNodeId: init.requestedBy.peerNodeId, detail: { requested_by: init.requestedBy.name, sample: init.sample } })
  const hash = init.hash ?? hashFile
  const chosen = weightedSample(store.files.listLive(volId).filter(f => f.status === 'present'), init.sample, init.random ?? Math.random)
  let checked = 0
  let bytes = 0
  let found = 0
  // what a sample finds wrong stops being claimed at once (a mark, settled by the index that
  // re-reads the file): the full re-read it escalates to may be cut short or find the volume busy
  const unclaim = (f: LiveFile): void => { store.db.transaction(() => { store.conflicts.markReplacing(volId, run.id, [f.id]) }).immediate() }
  try {
    for (const f of chosen) {
      if (init.signal?.aborted === true) break
      const readAtNs = store.clock.nowNs()
      let h
      try {
        if (!(await realDirectories(volume.path, f.path))) throw Object.assign(new Error('not a real directory on the way'), { code: 'ENOTDIR' })
        h = await hash(join(volume.path, f.path))
      } catch (err) {
        if (err instanceof FileChangedWhileHashingError) continue
        // gone or unreadable: not claimed from now on, whether or not the full re-read completes
        unclaim(f)
        found++
        break
      }
      checked++
      bytes += h.size
      init.onProgress?.(checked, bytes)
      if (!h.hash.equals(f.hash) || h.size !== f.size) {
        unclaim(f)
        found++
        break
      }
      // the same bytes, really re-read: the read instant moves (and the metadata a quick index compares)
      store.files.recordObserved(volId, run.id, [{ path: f.path, hash: h.hash, size: h.size, mtimeNs: h.mtimeNs, readAtNs, originNodeId: f.originNodeId, originRunId: f.originRunId, ...(h.ctimeNs === undefined ? {} : { ctimeNs: h.ctimeNs }), ...(h.ino === undefined ? {} : { ino: h.ino }) }])
    }
  } catch (err) {
    store.runs.finish(run.id, 'failed', { error: err instanceof Error ? err.message : String(err), fileCount: checked, byteCount: bytes })
    throw err
  }
  const aborted = init.signal?.aborted === true
  settleClaims(store, volId, run.id, `re-read of a sample for ${init.requestedBy.name}`)
  const readNothing = checked === 0 && chosen.length > 0
  store.runs.finish(run.id, aborted ? 'aborted' : found > 0 || readNothing ? 'partial' : 'success', {
    error: aborted ? 'interrupted' : found > 0 ? 'a sampled file was missing or did not match: the whole volume is re-read' : readNothing ? 'no sampled file could be re-read' : null,
    fileCount: checked,
    byteCount: bytes,
    detail: { requested_by: init.requestedBy.name, sample: init.sample, checked, found }
  })
  if (aborted) return { runId: run.id, status: 'aborted', error: 'interrupted', checked, bytesChecked: bytes, mismatched: 0, missing: 0, problems: [], escalated: false }
  if (found > 0) {
    init.logger.warn('a sampled file was missing or did not match; re-reading the whole volume', { volume: volume.name, requested_by: init.requestedBy.name, run: run.id })
    return await rereadAll(init, true, { checked, bytes })
  }
  if (readNothing) {
    // every drawn file was changing while hashed: nothing was re-read, nothing is vouched anew
    return { runId: run.id, status: 'partial', error: 'no sampled file could be re-read (each was changing while hashed)', checked, bytesChecked: bytes, mismatched: 0, missing: 0, problems: [], escalated: false }
  }
  return { runId: run.id, status: 'success', error: null, checked, bytesChecked: bytes, mismatched: 0, missing: 0, problems: [], escalated: false }
}
