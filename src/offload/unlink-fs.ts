/**
 * The few metadata operations the exact unlink and its recovery make on a volume, behind an
 * interface so tests can fail or "kill" any one of them. Synchronous: each is one system call
 * on one name, and the recovery runs where the store is opened, which is synchronous.
 */
import { closeSync, constants, fsyncSync, linkSync, lstatSync, openSync, renameSync, statSync, unlinkSync, type BigIntStats } from 'node:fs'

export interface UnlinkFs {
  /** Never follows a symlink; undefined when nothing is there. */
  lstat: (path: string) => BigIntStats | undefined
  /** Follows links: a directory's identity (the volume root itself may be a symlink). */
  statDir: (path: string) => BigIntStats | undefined
  /** rename(2): replaces `to` (used only towards a fresh random quarantine name). */
  rename: (from: string, to: string) => void
  unlink: (path: string) => void
  /**
   * Moves `from` to `to` only if nothing is at `to` (EEXIST otherwise, and nothing moved): a
   * hard link then an unlink of `from`. Where the filesystem has no hard links an exclusively
   * created placeholder claims `to` and `from` is renamed onto it (a save landing on the
   * placeholder in that instant is replaced: the one window left on such filesystems).
   */
  moveNoReplace: (from: string, to: string) => void
  /** Flushes a directory, so a rename or unlink in it survives a power cut. */
  syncDir: (path: string) => void
}

/** link(2) errors that mean "cannot hard-link here" rather than "the name is taken". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'])

export const nodeUnlinkFs: UnlinkFs = {
  lstat: (path) => {
    try {
      return lstatSync(path, { bigint: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  },
  statDir: (path) => {
    try {
      return statSync(path, { bigint: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  },
  rename: (from, to) => { renameSync(from, to) },
  unlink: (path) => { unlinkSync(path) },
  moveNoReplace: (from, to) => {
    try {
      linkSync(from, to)
    } catch (err) {
      if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err
      closeSync(openSync(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600))
      try {
        renameSync(from, to)
      } catch (renameErr) {
        try { unlinkSync(to) } catch {}
        throw renameErr
      }
      return
    }
    unlinkSync(from)
  },
  syncDir: (path) => {
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY)
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}
