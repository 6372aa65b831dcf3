/**
 * One journal commit for a batch of files: `syncfs(2)` on the filesystem holding a path, run as
 * `sync -f PATH` (coreutils; Node has no binding for it). It only makes the per-file and
 * per-directory fsyncs that follow it cheap (they find nothing dirty left to commit); it never
 * replaces them, so durability and error reporting stay exactly those of fsync on each file and
 * each directory (docs/durability.md).
 *
 * Where `sync -f` is missing or refuses (not Linux, a BusyBox without -f, a sandbox), the first
 * failure turns it off for the process with one log line: the fsyncs then each commit on their
 * own, slower and as safe.
 */
import { execFile } from 'node:child_process'
import type { Logger } from '../logger.js'

/** How long one `sync -f` may take before it is left to finish on its own (the fsyncs follow anyway). */
export const SYNCFS_TIMEOUT_MS = 120_000

let available: boolean | undefined

/**
 * Flushes the filesystem holding `path`; resolves true when that worked, false when the
 * mechanism is unavailable here (the caller's fsyncs then do all the work). Never throws: an
 * error here cannot make anything less durable, only slower.
 */
export async function syncFilesystem (path: string, logger?: Logger): Promise<boolean> {
  if (available === false || process.platform !== 'linux') return false
  return await new Promise<boolean>((resolve) => {
    execFile('sync', ['-f', path], { timeout: SYNCFS_TIMEOUT_MS, windowsHide: true }, (err, _stdout, stderr) => {
      if (err === null) {
        available = true
        resolve(true)
        return
      }
      // a missing binary or an unknown option: off for this process; a failure of the flush
      // itself (EIO) is left to the fsyncs that follow, which report it for their own files
      const code = (err as NodeJS.ErrnoException).code
      if (available === undefined && (code === 'ENOENT' || code === 'EACCES' || /invalid option|unrecognized option|usage/i.test(stderr))) {
        available = false
        logger?.info('syncfs is not available here; each file and directory is flushed on its own', { error: err.message })
      } else {
        logger?.warn('sync -f failed; the per-file fsyncs that follow report what did not reach the disk', { path, error: err.message, stderr: stderr.trim().slice(0, 200) })
      }
      resolve(false)
    })
  })
}

/** Tests: forget what the process learned about `sync -f`. */
export function resetSyncFilesystemForTests (value?: boolean): void {
  available = value
}
