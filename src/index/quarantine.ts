/**
 * A received file found damaged by a re-hash — its bytes no longer hash to what this node
 * recorded, while its size and mtime are what they were when it last read them (the disk
 * changed it, or a tool that put the mtime back; never a plain write) — is moved out of the volume's tree into history:
 * `.cairn-history/<this node id>-run-<run id>-<8 hex>/<path>`, the receiver's own place for bytes
 * it displaces (src/push/place-file.ts). Nothing is deleted: the damaged bytes stay for the
 * operator to inspect. The path is then free, so the pusher's next push writes its version
 * there create-exclusively, as for any missing file; while it stays damaged in place, the
 * receiver would keep it as a conflict (it no longer is the version the pusher replaces).
 *
 * The move is one rename into a fresh directory no one else writes into; what moved is
 * compared with the file that was hashed, and anything else (a save that landed in between) is
 * moved back without replacing anything, or reported where it is.
 */
import { dirname, join } from 'node:path'
import { crashPoint } from '../crash-point.js'
import type { DirectoryFs } from '../push/directory-fs.js'
import { ensureRealDirs, HISTORY_DIR, historyDirName } from '../push/place-file.js'

export interface HashedIdentity {
  size: number
  mtimeNs: number
  ino?: string
}

export type QuarantineOutcome =
  | { moved: true, to: string }
  | { moved: false, reason: string }

export async function quarantineDamaged (fs: DirectoryFs, root: string, relPath: string, writerNodeId: string, runId: number, hashed: HashedIdentity): Promise<QuarantineOutcome> {
  const relTo = join(HISTORY_DIR, historyDirName(writerNodeId, runId), relPath)
  const from = join(root, relPath)
  const to = join(root, relTo)
  try {
    // no symlink on either side: every directory to the file is a real one (none swapped since
    // the hash), and the history directories are created as real ones inside the volume
    const relDir = relPath.includes('/') ? relPath.slice(0, relPath.lastIndexOf('/')) : ''
    for (let at = root, i = 0, parts = relDir === '' ? [] : relDir.split('/'); i < parts.length; i++) {
      at = join(at, parts[i] as string)
      if ((await fs.lstat(at))?.kind !== 'dir') return { moved: false, reason: `${relDir} is not a real directory any more` }
    }
    await ensureRealDirs(fs, root, dirname(relTo), undefined, true)
    if (await fs.lstat(to) !== undefined) return { moved: false, reason: `${relTo} is taken` }
    crashPoint('index:quarantine-move')
    await fs.rename(from, to)
  } catch (err) {
    return { moved: false, reason: `could not move it aside: ${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))}` }
  }
  const moved = await fs.lstat(to)
  const same = moved?.kind === 'file' && moved.size === hashed.size && moved.mtimeNs === hashed.mtimeNs &&
    (hashed.ino === undefined || moved.ino === undefined || moved.ino === Number(hashed.ino))
  if (!same) {
    // not the file that was hashed (a save landed in between): it goes back, replacing nothing
    try {
      await fs.moveNoReplace(to, from)
      return { moved: false, reason: 'the file changed while it was being moved aside; it is back in place' }
    } catch (err) {
      return { moved: false, reason: `the file changed while it was being moved aside and is now at ${relTo} (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
    }
  }
  await fs.syncDir(dirname(from)).catch(() => {})
  await fs.syncDir(dirname(to)).catch(() => {})
  return { moved: true, to: relTo }
}
