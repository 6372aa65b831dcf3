/**
 * The last step before cairn deletes user data (DESIGN invariants 13 and 27).
 *
 * The check: no path component may be a symlink; the file is opened without following links;
 * its size and mtime from the open handle must equal what was indexed; its bytes, read from
 * that same handle, must hash to the indexed content. Any difference is drift: the file is
 * left alone.
 *
 * The unlink deletes exactly the file that was checked, never whatever the path names a moment
 * later (an editor's atomic save renames a new file over the path at any time):
 *  1. the journal records what is about to happen (src/store/unlink-journal.ts), in its own
 *     transaction;
 *  2. the path is renamed to a fresh quarantine name in its own directory
 *     (`.cairn-offloading-<run>-<random>`, a reserved name no index ever sees);
 *  3. the quarantined file's dev, inode, size and mtime are compared with the checked handle;
 *  4. equal: it is unlinked, and the row marked offloaded in the same transaction that
 *     resolves the journal entry. A save that lands at the path after step 2
 *     is a new file there and survives;
 *  5. different (a save landed between the check and step 2): the quarantined file is put back
 *     under its name without replacing anything; when the name is taken by then (another save),
 *     it is kept under a visible `<name>.cairn-recovered-<run>-<random>` and reported. Drift.
 * A crash anywhere in 1-5 leaves a pending journal entry that the next start of any command
 * resolves from what is on disk (./unlink-recovery.ts). Every step has a crash point.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { lstat, open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { crashPoint } from '../crash-point.js'
import { CairnError, UnlinkInterruptedError } from '../errors.js'
import { HASH_BUFFER_BYTES, READ_NO_FOLLOW } from '../index/hash-file.js'
import type { UnlinkJournalStore } from '../store/unlink-journal.js'
import { nodeUnlinkFs, type UnlinkFs } from './unlink-fs.js'

export type UnlinkOutcome =
  | { outcome: 'offloaded', /** the row changed (false: it was offloaded or superseded already) */ marked: boolean }
  | { outcome: 'drift', reason: string, /** a save took the name meanwhile: the checked path's other file is kept here */ keptAs?: string }

export interface ExpectedFile {
  path: string
  size: number
  mtimeNs: number
  hash: Buffer
}

/** What the unlink journals under: the offload run, the file's row and the store's journal. */
export interface UnlinkContext {
  journal: UnlinkJournalStore
  runId: number
  volumeId: number
  fileId: number
  fs?: UnlinkFs
}

export interface UnlinkHooks {
  /** After the checks, before the journal and the quarantine rename (tests replace the file here). */
  beforeUnlink?: (absPath: string) => Promise<void>
  /**
   * At every crash point of the unlink, with its label, right after crashPoint(label) (tests
   * throw here: the step after it does not happen, as under a kill).
   */
  atStep?: (label: string) => void
}

export const QUARANTINE_PREFIX = '.cairn-offloading-'
export const RECOVERED_INFIX = '.cairn-recovered-'
/** A recovered name keeps at most this many bytes of the original name (NAME_MAX is 255). */
const RECOVERED_BASE_MAX_BYTES = 200

export function quarantineName (runId: number): string {
  return `${QUARANTINE_PREFIX}${runId}-${randomBytes(8).toString('hex')}`
}

/** A visible, fresh name beside `base` for a file whose own name was taken. */
export function recoveredName (base: string, runId: number): string {
  let b = base
  while (Buffer.byteLength(b) > RECOVERED_BASE_MAX_BYTES) b = [...b].slice(0, -1).join('')
  return `${b}${RECOVERED_INFIX}${runId}-${randomBytes(4).toString('hex')}`
}

export function step (label: string, hooks: UnlinkHooks | undefined): void {
  crashPoint(label)
  hooks?.atStep?.(label)
}

/** Whether `now` is the very file `checked` described (same inode, size and mtime). */
export function sameFile (now: BigIntStats | undefined, checked: { dev: bigint, ino: bigint, size: bigint, mtimeNs: bigint }): boolean {
  return now !== undefined && now.isFile() && now.dev === checked.dev && now.ino === checked.ino && now.size === checked.size && now.mtimeNs === checked.mtimeNs
}

export async function verifyAndUnlink (root: string, f: ExpectedFile, ctx: UnlinkContext, hooks: UnlinkHooks = {}): Promise<UnlinkOutcome> {
  const fs = ctx.fs ?? nodeUnlinkFs
  const segments = f.path.split('/')
  let dir = root
  // the root as configured (it may be a symlink); every component below it must not be
  let dirSt = await stat(root, { bigint: true }).catch(() => undefined)
  if (dirSt === undefined || !dirSt.isDirectory()) return { outcome: 'drift', reason: `${root} is not a directory` }
  for (const segment of segments.slice(0, -1)) {
    dir = join(dir, segment)
    const st = await lstat(dir, { bigint: true }).catch(() => undefined)
    if (st === undefined) return { outcome: 'drift', reason: `${dir} is gone` }
    if (st.isSymbolicLink()) return { outcome: 'drift', reason: `${dir} is a symlink` }
    if (!st.isDirectory()) return { outcome: 'drift', reason: `${dir} is not a directory` }
    dirSt = st
  }
  const abs = join(root, f.path)
  const base = segments[segments.length - 1] as string
  const before = await lstat(abs, { bigint: true }).catch(() => undefined)
  if (before === undefined) return { outcome: 'drift', reason: 'the file is gone' }
  if (before.isSymbolicLink()) return { outcome: 'drift', reason: 'the file is a symlink' }
  if (!before.isFile()) return { outcome: 'drift', reason: 'not a regular file' }

  let fh
  try {
    fh = await open(abs, READ_NO_FOLLOW)
  } catch (err) {
    return { outcome: 'drift', reason: `cannot open it without following links (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  try {
    const st = await fh.stat({ bigint: true })
    if (!st.isFile()) return { outcome: 'drift', reason: 'not a regular file' }
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

    // ---- the commit: journal, quarantine, compare, unlink (or put back) -----------------------
    return commit(fs, ctx, { root, f, dir, dirSt, base, abs, st }, hooks)
  } finally {
    await fh.close()
  }
}

interface Checked {
  root: string
  f: ExpectedFile
  /** The file's directory, and its lstat from the check. */
  dir: string
  dirSt: BigIntStats
  base: string
  abs: string
  /** The checked file, from its open handle. */
  st: BigIntStats
}

/** Steps 1-5 of the header: every call here is a metadata call or a store write. */
function commit (fs: UnlinkFs, ctx: UnlinkContext, c: Checked, hooks: UnlinkHooks): UnlinkOutcome {
  const qName = quarantineName(ctx.runId)
  const q = join(c.dir, qName)
  step('unlink:journal-open', hooks)
  const entry = ctx.journal.insertPending({
    runId: ctx.runId, volumeId: ctx.volumeId, fileId: ctx.fileId, root: c.root, path: c.f.path, quarantineName: qName,
    dirDev: c.dirSt.dev, dirIno: c.dirSt.ino, dev: c.st.dev, ino: c.st.ino, size: c.f.size, mtimeNs: c.f.mtimeNs, hash: c.f.hash
  })
  step('unlink:quarantine-rename', hooks)
  try {
    fs.rename(c.abs, q)
  } catch (err) {
    // rename(2) is atomic: nothing moved
    step('unlink:resolve-unchanged', hooks)
    ctx.journal.resolveKept(entry, 'unchanged', ctx.runId)
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { outcome: 'drift', reason: 'the file is gone' }
    throw err
  }
  // from here on the file may be under its quarantine name: an error leaves the entry pending
  let at = 'unlink:compare'
  const tracked: UnlinkHooks = { ...hooks, atStep: (label) => { at = label; hooks.atStep?.(label) } }
  try {
    const quarantined = fs.lstat(q)
    if (sameFile(quarantined, c.st)) {
      step('unlink:unlink', tracked)
      fs.unlink(q)
      // no directory fsync here (it doubled the cost of an offload): should a power cut undo
      // the unlink after the row is marked, a hidden copy of bytes that are durable elsewhere
      // stays behind, which loses nothing; the other order (bytes gone, row present) is what
      // the journal recovers
      step('unlink:mark-offloaded', tracked)
      const marked = ctx.journal.resolveUnlinked(entry, ctx.runId)
      return { outcome: 'offloaded', marked }
    }
    if (quarantined === undefined) {
      step('unlink:resolve-unchanged', tracked)
      ctx.journal.resolveKept(entry, 'unchanged', ctx.runId)
      return { outcome: 'drift', reason: 'the file was moved away during the unlink' }
    }
    // another file was at the path when it was renamed: it is someone's, put it back
    const kept = putBack(fs, ctx.journal, entry, c.dir, q, c.abs, c.base, ctx.runId, tracked)
    return kept === undefined
      ? { outcome: 'drift', reason: 'the file was replaced during the check' }
      : { outcome: 'drift', reason: `the file was replaced during the check, and its name taken again before it was put back: that file is kept as ${kept}`, keptAs: kept }
  } catch (err) {
    if (err instanceof CairnError) throw err
    throw new UnlinkInterruptedError(c.f.path, qName, at, err)
  }
}

/**
 * Moves a quarantined file back to its name without replacing anything; if the name is taken,
 * to a fresh visible name beside it (journaled before the move). Resolves the journal entry.
 * Returns the name it was kept under, or undefined when it is back under its own name.
 */
export function putBack (fs: UnlinkFs, journal: UnlinkJournalStore, entry: number, dir: string, q: string, abs: string, base: string, runId: number, hooks?: UnlinkHooks): string | undefined {
  step('unlink:rename-back', hooks)
  try {
    fs.moveNoReplace(q, abs)
    // put back for good before the entry closes: a power cut must not hide it again
    step('unlink:fsync-dir', hooks)
    fs.syncDir(dir)
    step('unlink:resolve-restored', hooks)
    journal.resolveKept(entry, 'restored', runId)
    return undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const name = recoveredName(base, runId)
  step('unlink:keep-aside-plan', hooks)
  journal.planRecoveredName(entry, name)
  step('unlink:keep-aside', hooks)
  fs.moveNoReplace(q, join(dir, name))
  step('unlink:fsync-dir', hooks)
  fs.syncDir(dir)
  step('unlink:resolve-kept', hooks)
  journal.resolveKept(entry, 'kept', runId)
  return name
}
