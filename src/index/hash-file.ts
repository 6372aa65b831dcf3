/**
 * Streams a file through SHA-256 from one open handle and checks, before and after, that the
 * file did not change underneath: the handle's size and mtime must stay the same, and the path
 * must still name the same inode. A file that changes while hashed is retried, then reported.
 * The file is opened with O_NOFOLLOW: a symlink swapped in after the walk is refused (ELOOP,
 * reported by index as unreadable), never followed to bytes outside the volume.
 */
import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import { CairnError } from '../errors.js'

export const HASH_BUFFER_BYTES = 1024 * 1024
export const HASH_ATTEMPTS = 3
/** How cairn opens a volume file to read its bytes: never through a symlink. */
export const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW

export class FileChangedWhileHashingError extends CairnError {
  override name = 'FileChangedWhileHashingError' as const
  constructor (readonly path: string, readonly attempts: number) {
    super(`${path} kept changing while it was hashed (${attempts} attempts)`)
  }
}

export interface HashedFile {
  hash: Buffer
  size: number
  mtimeNs: number
  /** The handle's ctime and inode after the read (what a quick index compares next time). */
  ctimeNs?: number
  ino?: string
}

export interface HashHooks {
  /** Called once per attempt after the first chunk was read (tests change the file here). */
  afterFirstChunk?: (attempt: number) => Promise<void>
}

/** One pass: hash through the handle; undefined when the file changed during the pass. */
async function hashOnce (path: string, given: Buffer<ArrayBufferLike> | undefined, attempt: number, hooks: HashHooks): Promise<HashedFile | undefined> {
  const fh = await open(path, READ_NO_FOLLOW)
  try {
    const before = await fh.stat({ bigint: true })
    // without a caller's buffer, one sized to the file (at most HASH_BUFFER_BYTES, at least a page)
    const buffer = given ?? Buffer.allocUnsafe(Math.max(4096, Math.min(HASH_BUFFER_BYTES, Number(before.size) + 1)))
    const h = createHash('sha256')
    let size = 0
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, size)
      if (bytesRead === 0) break
      h.update(buffer.subarray(0, bytesRead))
      if (size === 0) await hooks.afterFirstChunk?.(attempt)
      size += bytesRead
    }
    const after = await fh.stat({ bigint: true })
    const byPath = await lstat(path, { bigint: true })
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || BigInt(size) !== after.size ||
        byPath.ino !== after.ino || byPath.dev !== after.dev) {
      return undefined
    }
    return { hash: h.digest(), size, mtimeNs: Number(after.mtimeNs), ctimeNs: Number(after.ctimeNs), ino: after.ino.toString() }
  } finally {
    await fh.close()
  }
}

export async function hashFile (path: string, buffer?: Buffer<ArrayBufferLike>, hooks: HashHooks = {}): Promise<HashedFile> {
  for (let attempt = 1; attempt <= HASH_ATTEMPTS; attempt++) {
    const r = await hashOnce(path, buffer, attempt, hooks)
    if (r !== undefined) return r
  }
  throw new FileChangedWhileHashingError(path, HASH_ATTEMPTS)
}
