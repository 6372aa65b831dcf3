/**
 * Rows this node stopped claiming while a run changes them on disk (invariant 19): a receive
 * replacing a file (its prior bytes move to history before the new version is recorded) and
 * an offload about to unlink a batch of files. The marks live in `receive_replacing`
 * (src/store/conflicts.ts): a marked row is not held (src/evidence/claims.ts). A run settles
 * its own marks when it ends; marks a killed run left are settled at the next start of any
 * command, and by an index.
 *
 * A mark is cleared only when the row is no longer present (superseded, missing, offloaded) or
 * its file is in place with exactly the recorded bytes: a regular file (no symlink on the way)
 * whose content hashes to the row's hash. Size and mtime are not enough (a pushed new version
 * may carry both). A file larger than MARK_HASH_MAX_BYTES stays marked until an index re-reads
 * it: a hole in custody, never a false claim.
 */
import { createHash } from 'node:crypto'
import { closeSync, constants, lstatSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { hashFile } from '../index/hash-file.js'
import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'

/** Largest file whose bytes a settle re-reads to clear its mark. */
export const MARK_HASH_MAX_BYTES = 64 * 1024 * 1024

interface MarkedRow { path: string, size: number, hash: Buffer, status: string }

/** Whether every component of `rel` under `root` is a real directory and the last a regular file of `size`. */
function realFileSync (root: string, rel: string, size: number): boolean {
  let current = root
  const segments = rel.split('/')
  for (let i = 0; i < segments.length; i++) {
    current = join(current, segments[i] as string)
    let st
    try { st = lstatSync(current) } catch { return false }
    if (i < segments.length - 1 ? !st.isDirectory() : !st.isFile() || st.size !== size) return false
  }
  return true
}

function hashSync (abs: string): Buffer | undefined {
  let fd: number | undefined
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW)
    const h = createHash('sha256')
    const buffer = Buffer.allocUnsafe(1024 * 1024)
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) break
      h.update(buffer.subarray(0, n))
    }
    return h.digest()
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** Whether a marked row is settled: not present any more, or its exact bytes are at its path. */
function settledSync (root: string, row: MarkedRow | undefined): boolean {
  if (row === undefined || row.status !== 'present') return true
  if (row.size > MARK_HASH_MAX_BYTES || !realFileSync(root, row.path, row.size)) return false
  return hashSync(join(root, row.path))?.equals(row.hash) === true
}

async function settledAsync (root: string, row: MarkedRow | undefined): Promise<boolean> {
  if (row === undefined || row.status !== 'present') return true
  if (row.size > MARK_HASH_MAX_BYTES || !realFileSync(root, row.path, row.size)) return false
  try {
    return (await hashFile(join(root, row.path))).hash.equals(row.hash)
  } catch {
    return false
  }
}

/** Unmarks the settled rows among those run `runId` marked (at the end of that run), except `keep`. */
export async function settleUnclaimed (store: Store, root: string, runId: number, keep: ReadonlySet<number> = new Set()): Promise<void> {
  const settled: number[] = []
  for (const id of store.conflicts.replacingOfRun(runId)) if (!keep.has(id) && await settledAsync(root, store.files.byId(id))) settled.push(id)
  if (settled.length > 0) store.conflicts.clearReplacing(settled)
}

/** Unmarks the settled rows of a volume whose run is no longer running (an index just ran). */
export async function settleVolumeUnclaimed (store: Store, root: string, volumeId: number): Promise<void> {
  const settled: number[] = []
  for (const { fileId } of store.conflicts.staleReplacing().filter(m => m.volumeId === volumeId)) {
    if (await settledAsync(root, store.files.byId(fileId))) settled.push(fileId)
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
    const root = roots.get(volumeId)
    const row = store.files.byId(fileId)
    if (root === undefined || settledSync(root, row)) settled.push(fileId)
  }
  if (settled.length > 0) store.conflicts.clearReplacing(settled)
  logger.info('settled the files an interrupted run had stopped claiming', { settled: settled.length, still_unclaimed: stale.length - settled.length })
  return settled.length
}
