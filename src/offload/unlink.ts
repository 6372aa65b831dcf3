/**
 * The last step before cairn deletes user data. Immediately before the unlink: no path
 * component may be a symlink; the file is opened without following links; its size and mtime
 * from the open handle must equal what was indexed; its bytes, read from that same handle,
 * must hash to the indexed content; and the path must still name that very inode. Any
 * difference is drift: the file is left alone.
 */
import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { HASH_BUFFER_BYTES } from '../index/hash-file.js'
import { crashPoint } from '../crash-point.js'

export type UnlinkOutcome = { outcome: 'offloaded' } | { outcome: 'drift', reason: string }

export interface ExpectedFile {
  path: string
  size: number
  mtimeNs: number
  hash: Buffer
}

export interface UnlinkHooks {
  /** After the checks, before the unlink (tests replace the file here). */
  beforeUnlink?: (absPath: string) => Promise<void>
}

export async function verifyAndUnlink (root: string, f: ExpectedFile, hooks: UnlinkHooks = {}): Promise<UnlinkOutcome> {
  const segments = f.path.split('/')
  let dir = root
  for (const segment of segments.slice(0, -1)) {
    dir = join(dir, segment)
    const st = await lstat(dir).catch(() => undefined)
    if (st === undefined) return { outcome: 'drift', reason: `${dir} is gone` }
    if (st.isSymbolicLink()) return { outcome: 'drift', reason: `${dir} is a symlink` }
    if (!st.isDirectory()) return { outcome: 'drift', reason: `${dir} is not a directory` }
  }
  const abs = join(root, f.path)
  const before = await lstat(abs, { bigint: true }).catch(() => undefined)
  if (before === undefined) return { outcome: 'drift', reason: 'the file is gone' }
  if (before.isSymbolicLink()) return { outcome: 'drift', reason: 'the file is a symlink' }
  if (!before.isFile()) return { outcome: 'drift', reason: 'not a regular file' }

  let fh
  try {
    fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    return { outcome: 'drift', reason: `cannot open it without following links (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  try {
    const st = await fh.stat({ bigint: true })
    if (Number(st.size) !== f.size || Number(st.mtimeNs) !== f.mtimeNs) return { outcome: 'drift', reason: 'size or mtime changed since it was indexed' }
    const h = createHash('sha256')
    const buffer = Buffer.allocUnsafe(Math.max(4096, Math.min(HASH_BUFFER_BYTES, f.size + 1)))
    let position = 0
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, position)
      if (bytesRead === 0) break
      h.update(buffer.subarray(0, bytesRead))
      position += bytesRead
    }
    if (position !== f.size || !h.digest().equals(f.hash)) return { outcome: 'drift', reason: 'its bytes no longer hash to the indexed content' }
    await hooks.beforeUnlink?.(abs)
    const now = await lstat(abs, { bigint: true }).catch(() => undefined)
    if (now === undefined || now.ino !== st.ino || now.dev !== st.dev || now.size !== st.size || now.mtimeNs !== st.mtimeNs || now.isSymbolicLink()) {
      return { outcome: 'drift', reason: 'the file was replaced during the check' }
    }
    crashPoint('unlink:unlink')
    await unlink(abs)
    crashPoint('unlink:unlinked')
    return { outcome: 'offloaded' }
  } finally {
    await fh.close()
  }
}
