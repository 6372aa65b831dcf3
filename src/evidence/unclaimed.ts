/**
 * Rows this node stopped claiming while a run changes them on disk (invariant 19): a receive
 * replacing a file (its prior bytes move to history before the new version is recorded) and
 * an offload about to unlink a batch of files. The marks live in `receive_replacing`
 * (src/store/conflicts.ts): a marked row is not held (src/evidence/claims.ts). A run settles
 * its own marks when it ends; marks a killed run left are settled at the next start of any
 * command (when the row's file is in place exactly as recorded) or by an index.
 */
import { lstatSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../logger.js'
import type { DirectoryFs } from '../push/directory-fs.js'
import type { Store } from '../store/store.js'

/**
 * Unmarks the rows run `runId` marked once they are settled: no longer present (superseded,
 * offloaded), or still in place exactly as recorded. A row whose file is gone or changed stays
 * marked (not held) until an index records what is there.
 */
export async function settleUnclaimed (store: Store, fs: Pick<DirectoryFs, 'lstat'>, root: string, runId: number): Promise<void> {
  const settled: number[] = []
  for (const id of store.conflicts.replacingOfRun(runId)) {
    const row = store.files.byId(id)
    if (row === undefined || row.status !== 'present') { settled.push(id); continue }
    const info = await fs.lstat(join(root, row.path))
    if (info?.kind === 'file' && info.size === row.size && info.mtimeNs === row.mtimeNs) settled.push(id)
  }
  if (settled.length > 0) store.conflicts.clearReplacing(settled)
}

/**
 * The same for marks whose run is no longer running (it was killed): at the start of a
 * command, synchronously, before anything else reads claims. Returns how many were cleared.
 */
export function settleStaleUnclaimed (store: Store, logger: Logger): number {
  const stale = store.conflicts.staleReplacing()
  if (stale.length === 0) return 0
  const roots = new Map(store.volumes.list().map(v => [v.id, v.path]))
  const settled: number[] = []
  for (const { fileId, volumeId } of stale) {
    const row = store.files.byId(fileId)
    const root = roots.get(volumeId)
    if (row === undefined || row.status !== 'present' || root === undefined) { settled.push(fileId); continue }
    try {
      const st = lstatSync(join(root, row.path), { bigint: true })
      if (st.isFile() && Number(st.size) === row.size && Number(st.mtimeNs) === row.mtimeNs) settled.push(fileId)
    } catch {
      // gone: stays unclaimed until an index records it missing
    }
  }
  if (settled.length > 0) store.conflicts.clearReplacing(settled)
  const kept = stale.length - settled.length
  logger.info('settled the files an interrupted run had stopped claiming', { settled: settled.length, still_unclaimed: kept })
  return settled.length
}
