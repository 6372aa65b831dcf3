/**
 * The write rules of every place cairn writes a volume's files (a directory destination, or a
 * receiving node's own volume): bytes go to a staging file under `.cairn-staging/`, are
 * fsynced, and are committed create-exclusively (DESIGN invariant 25): the staged file is
 * hard-linked to its final name — EEXIST means someone else is there, and the commit refuses
 * (`CommitConflictError`) instead of replacing it — and then the staged name is unlinked. A
 * path's prior bytes that the writer means to replace move to history first (also
 * create-exclusively); nothing is ever deleted or renamed over. Every directory a commit linked
 * into or created, and the parent of every directory it created, is fsynced by `syncDirs`
 * before anything claims the files. No path component may be a symlink, so nothing can be
 * redirected outside the tree.
 *
 * History layout: `.cairn-history/<writer node id>-run-<run id>-<8 hex>/<path>`. The writer
 * node id and the run id say who replaced the bytes and when; the random part (fresh for every
 * writer) keeps two databases that reach the same run id (two nodes, or one node rebuilt) from
 * sharing a directory. A prior file is moved there create-exclusively (`moveNoReplace`), never
 * renamed over anything: a name that is taken anyway (the same path replaced twice in one run,
 * or a random collision) gets a fresh random part, up to HISTORY_NAME_ATTEMPTS times, and then
 * the commit refuses with the prior bytes still in place.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { crashPoint } from '../crash-point.js'
import { CommitConflictError, DestinationPathError } from '../errors.js'
import type { DirectoryFs, FileInfo } from './directory-fs.js'

export const STAGING_DIR = '.cairn-staging'
export const HISTORY_DIR = '.cairn-history'
/** The destination marker's name (src/push/destination-marker.ts). */
const DESTINATION_MARKER = '.cairn-destination'
/** A receiving node's volume marker (src/push/volume-marker.ts). */
const VOLUME_MARKER = '.cairn-volume'
/** Random bytes in a history directory's name (written as 8 hex characters). */
export const HISTORY_RANDOM_BYTES = 4
/** Names tried for one prior file, each with a fresh random part, before its commit refuses. */
export const HISTORY_NAME_ATTEMPTS = 8

/** A fresh history directory name for this writer and run; refuses a node id that is not one path segment. */
export function historyDirName (writerNodeId: string, runId: number): string {
  if (writerNodeId === '' || writerNodeId.includes('/') || writerNodeId.includes('\0')) throw new DestinationPathError(writerNodeId, 'a writer node id must be one path segment')
  return `${writerNodeId}-run-${runId}-${randomBytes(HISTORY_RANDOM_BYTES).toString('hex')}`
}

/**
 * What the writer checked is at the final path before committing:
 *  - `absent`: nothing; anything there now refuses the commit (`occupied`);
 *  - a file identity (size, mtime, inode when known): exactly that file may move to history;
 *    another file there refuses the commit (`changed`), and so does a file that changed while
 *    it was being moved (it is moved back);
 *  - `replace-own` (a directory destination, where only this node writes): whatever file is there
 *    is this writer's own older copy and moves to history.
 */
export type CommitExpectation = { kind: 'absent' } | { kind: 'file', size: number, mtimeNs: number, ino?: number } | { kind: 'replace-own' }

export interface TreeWriter {
  /** A fresh staging path for this run (its directory exists). */
  stagingPath: () => Promise<string>
  /**
   * Commits a staged, fsynced file to `relPath` create-exclusively, keeping the prior bytes it
   * was told to replace in history; refuses with CommitConflictError when the path holds
   * anything else. The staged name is gone afterwards.
   */
  commit: (staged: string, relPath: string, mtimeNs: number, expect?: CommitExpectation) => Promise<{ destPath: string, priorMovedTo: string | null }>
  /**
   * Fsyncs every directory a commit renamed into, once each. Must complete before anything
   * claims the committed files are durable (a vector advance, a receipt).
   */
  syncDirs: () => Promise<void>
  /** Counts a file already in place (not committed by this writer) for the next `syncDirs`. */
  noteDirty: (absPath: string) => void
  /** Removes this run's staging directory (leftovers of failed files). */
  cleanup: () => Promise<void>
}

/** Refuses a relative path that could leave the tree (defence in depth: callers validate too). */
function checkRelPath (relPath: string): void {
  if (relPath === '' || relPath.startsWith('/') || relPath.includes('\0') || relPath.split('/').some(s => s === '' || s === '.' || s === '..')) {
    throw new DestinationPathError(relPath, 'not a clean volume-relative path')
  }
}

/**
 * Checks one directory: creates it when absent (and reports it to `created`, so its parent is
 * fsynced before anything claims what lands in it), refuses a symlink or a non-directory.
 */
async function ensureRealDir (fs: DirectoryFs, path: string, created?: (dir: string) => void, label = 'tree'): Promise<void> {
  const info = await fs.lstat(path)
  if (info === undefined) {
    crashPoint(`${label}:mkdir`)
    await fs.mkdirp(path)
    created?.(path)
    return
  }
  if (info.kind !== 'dir') throw new DestinationPathError(path, info.kind === 'link' ? 'a path component is a symlink' : 'a path component is not a directory')
  await refuseForeignRoot(fs, path)
}

/**
 * A directory holding a destination marker is another destination's root, and one holding a
 * volume marker is a node's volume: never written into as part of this tree. (A receiver's own
 * volume root carries its own volume marker: `ownVolumeRoot`.)
 */
async function refuseForeignRoot (fs: DirectoryFs, path: string, ownVolumeRoot = false): Promise<void> {
  if (await fs.lstat(join(path, DESTINATION_MARKER)) !== undefined) {
    throw new DestinationPathError(path, 'another destination\'s root is inside this tree (it holds its own .cairn-destination); nothing is written there')
  }
  if (!ownVolumeRoot && await fs.lstat(join(path, VOLUME_MARKER)) !== undefined) {
    throw new DestinationPathError(path, 'a cairn node\'s volume is here (it holds .cairn-volume): it is that node\'s copy, never a destination tree; nothing is written there')
  }
}

/**
 * Ensures every directory from `treeRoot` down to `relDir` exists and none of them is a
 * symlink. `known` maps directories this writer already checked (or is checking) during its run
 * to that check, so concurrent commits into one new directory wait for the same check.
 */
export async function ensureRealDirs (fs: DirectoryFs, treeRoot: string, relDir: string, known?: Map<string, Promise<void>>, ownVolumeRoot = false, created?: (dir: string) => void, label?: string): Promise<void> {
  let rootCheck = known?.get(treeRoot)
  if (rootCheck === undefined) {
    rootCheck = refuseForeignRoot(fs, treeRoot, ownVolumeRoot)
    known?.set(treeRoot, rootCheck)
    rootCheck.catch(() => { known?.delete(treeRoot) })
  }
  await rootCheck
  let current = treeRoot
  for (const segment of relDir === '' ? [] : relDir.split('/')) {
    current = join(current, segment)
    const dir = current
    let check = known?.get(dir)
    if (check === undefined) {
      check = ensureRealDir(fs, dir, created, label)
      known?.set(dir, check)
      // a failed check is not cached: the next commit tries again and gets the same refusal
      check.catch(() => { known?.delete(dir) })
    }
    await check
  }
}

/** Whether the file at a path is still the one a writer checked (inode compared when both know it). */
function sameFile (info: FileInfo | undefined, expect: { size: number, mtimeNs: number, ino?: number }): boolean {
  return info?.kind === 'file' && info.size === expect.size && info.mtimeNs === expect.mtimeNs &&
    (expect.ino === undefined || info.ino === undefined || info.ino === expect.ino)
}

/**
 * `writerNodeId` is the node whose database runs the writes: it names the history copies.
 * `kind`: a directory destination's volume tree, or a node's own volume (receive, restore).
 * `label` prefixes this writer's crash points (`receive:link-final`, `push-dir:history-move`, ...).
 */
export function treeWriter (fs: DirectoryFs, treeRoot: string, runId: number, writerNodeId: string, kind: 'destination' | 'volume' = 'destination', label = 'tree'): TreeWriter {
  const staging = join(treeRoot, STAGING_DIR, `run-${runId}`)
  const knownDirs = new Map<string, Promise<void>>()
  const dirtyDirs = new Set<string>()
  // a new directory's entry lives in its parent: both are synced
  const created = (dir: string): void => { dirtyDirs.add(dir); dirtyDirs.add(dirname(dir)) }
  let counter = 0
  let stagingReady = false
  let historyDir: string | undefined

  /** Moves the file at `destPath` into history without replacing anything; returns where it went. */
  const keepPrior = async (destPath: string, relPath: string): Promise<string> => {
    for (let attempt = 0; attempt < HISTORY_NAME_ATTEMPTS; attempt++) {
      // this writer's directory first; a taken name gets a fresh directory for this file only
      const dir = attempt === 0 ? (historyDir ??= historyDirName(writerNodeId, runId)) : historyDirName(writerNodeId, runId)
      const relHistory = join(HISTORY_DIR, dir, relPath)
      await ensureRealDirs(fs, treeRoot, dirname(relHistory), knownDirs, kind === 'volume', created, label)
      const to = join(treeRoot, relHistory)
      // one rename from the path straight into this writer's own history directory (a fresh
      // random name no one else writes into), checked free first: it takes exactly what is at
      // the path at that instant (the checked file, or a save that just landed) and a save
      // landing afterwards is a new file at the path; the caller compares what moved with what
      // it checked. A link + unlink from the path could unlink a save landing in between, and a
      // kill between the two steps of any two-step move would leave the bytes nowhere known.
      if (await fs.lstat(to) !== undefined) continue
      crashPoint(`${label}:history-move`)
      await fs.rename(destPath, to)
      return to
    }
    throw new DestinationPathError(destPath, `no free name in ${HISTORY_DIR}/ after ${HISTORY_NAME_ATTEMPTS} attempts; the prior bytes stay in place`)
  }

  return {
    stagingPath: async () => {
      if (!stagingReady) {
        await ensureRealDirs(fs, treeRoot, `${STAGING_DIR}/run-${runId}`, undefined, kind === 'volume', undefined, label)
        stagingReady = true
      }
      return join(staging, `${++counter}`)
    },
    commit: async (staged, relPath, mtimeNs, expect = { kind: 'replace-own' }) => {
      checkRelPath(relPath)
      const relDir = relPath.includes('/') ? relPath.slice(0, relPath.lastIndexOf('/')) : ''
      await ensureRealDirs(fs, treeRoot, relDir, knownDirs, kind === 'volume', created, label)
      const destPath = join(treeRoot, relPath)
      await fs.setMtime(staged, mtimeNs)
      let priorMovedTo: string | null = null
      const existing = await fs.lstat(destPath)
      if (existing !== undefined) {
        if (expect.kind === 'absent') throw new CommitConflictError(destPath, 'occupied')
        if (existing.kind !== 'file') throw new DestinationPathError(destPath, `a ${existing.kind === 'link' ? 'symlink' : existing.kind === 'dir' ? 'directory' : 'special file'} is in the way`)
        if (expect.kind === 'file' && !sameFile(existing, expect)) throw new CommitConflictError(destPath, 'changed')
        priorMovedTo = await keepPrior(destPath, relPath)
        dirtyDirs.add(dirname(priorMovedTo))
        // the file moved is the one checked: anything written over it meanwhile (a file, or a
        // directory an application saved there) goes back where it was, never over anything
        const checked = expect.kind === 'file' ? { ...expect, ino: expect.ino ?? existing.ino } : existing
        const moved = await fs.lstat(priorMovedTo)
        if (!sameFile(moved, checked)) {
          try {
            crashPoint(`${label}:history-move-back`)
            if (moved?.kind === 'file') {
              await fs.moveNoReplace(priorMovedTo, destPath)
            } else {
              if (await fs.lstat(destPath) !== undefined) throw new CommitConflictError(destPath, 'changed', priorMovedTo)
              await fs.rename(priorMovedTo, destPath)
            }
          } catch {
            // it could not go back (the name was taken again): it is kept where it is, and said so
            throw new CommitConflictError(destPath, 'changed', priorMovedTo)
          }
          dirtyDirs.add(dirname(destPath))
          throw new CommitConflictError(destPath, 'changed')
        }
      }
      try {
        crashPoint(`${label}:link-final`)
        await fs.linkNoReplace(staged, destPath)
      } catch (err) {
        // someone else took the name between the check and the link: theirs stays
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CommitConflictError(destPath, 'occupied')
        throw err
      }
      dirtyDirs.add(dirname(destPath))
      crashPoint(`${label}:unlink-staged`)
      await fs.unlinkStaged(staged)
      return { destPath, priorMovedTo }
    },
    syncDirs: async () => {
      const dirs = [...dirtyDirs]
      dirtyDirs.clear()
      crashPoint(`${label}:fsync-dirs`)
      for (let i = 0; i < dirs.length; i += 8) await Promise.all(dirs.slice(i, i + 8).map(async d => { await fs.syncDir(d) }))
    },
    noteDirty: (absPath) => { dirtyDirs.add(dirname(absPath)) },
    cleanup: async () => {
      if (stagingReady) await fs.removeStaging(staging)
    }
  }
}
