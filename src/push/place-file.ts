/**
 * The write rules of every place cairn writes a volume's files (a directory destination, or a
 * receiving node's own volume): bytes go to a staging file under `.cairn-staging/`, are
 * fsynced, and are renamed into place; a path's prior bytes move to history first; nothing is
 * ever deleted. No path component may be a symlink, so nothing can be redirected outside the
 * tree.
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
import { DestinationPathError } from '../errors.js'
import type { DirectoryFs } from './directory-fs.js'

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
function historyDirName (writerNodeId: string, runId: number): string {
  if (writerNodeId === '' || writerNodeId.includes('/') || writerNodeId.includes('\0')) throw new DestinationPathError(writerNodeId, 'a writer node id must be one path segment')
  return `${writerNodeId}-run-${runId}-${randomBytes(HISTORY_RANDOM_BYTES).toString('hex')}`
}

export interface TreeWriter {
  /** A fresh staging path for this run (its directory exists). */
  stagingPath: () => Promise<string>
  /** Moves a staged, fsynced file to `relPath`, keeping any prior bytes in history. */
  commit: (staged: string, relPath: string, mtimeNs: number) => Promise<{ destPath: string, priorMovedTo: string | null }>
  /**
   * Fsyncs every directory a commit renamed into, once each. Must complete before anything
   * claims the committed files are durable (a vector advance, a receipt).
   */
  syncDirs: () => Promise<void>
  /** Removes this run's staging directory (leftovers of failed files). */
  cleanup: () => Promise<void>
}

/** Refuses a relative path that could leave the tree (defence in depth: callers validate too). */
function checkRelPath (relPath: string): void {
  if (relPath === '' || relPath.startsWith('/') || relPath.includes('\0') || relPath.split('/').some(s => s === '' || s === '.' || s === '..')) {
    throw new DestinationPathError(relPath, 'not a clean volume-relative path')
  }
}

/** Checks one directory: creates it when absent, refuses a symlink or a non-directory. */
async function ensureRealDir (fs: DirectoryFs, path: string): Promise<void> {
  const info = await fs.lstat(path)
  if (info === undefined) {
    await fs.mkdirp(path)
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
async function ensureRealDirs (fs: DirectoryFs, treeRoot: string, relDir: string, known?: Map<string, Promise<void>>, ownVolumeRoot = false): Promise<void> {
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
      check = ensureRealDir(fs, dir)
      known?.set(dir, check)
      // a failed check is not cached: the next commit tries again and gets the same refusal
      check.catch(() => { known?.delete(dir) })
    }
    await check
  }
}

/** `writerNodeId` is the node whose database runs the writes: it names the history copies. */
/** `kind`: a directory destination's volume tree, or a node's own volume (receive, restore). */
export function treeWriter (fs: DirectoryFs, treeRoot: string, runId: number, writerNodeId: string, kind: 'destination' | 'volume' = 'destination'): TreeWriter {
  const staging = join(treeRoot, STAGING_DIR, `run-${runId}`)
  const knownDirs = new Map<string, Promise<void>>()
  const dirtyDirs = new Set<string>()
  let counter = 0
  let stagingReady = false
  let historyDir: string | undefined

  /** Moves the file at `destPath` into history without replacing anything; returns where it went. */
  const keepPrior = async (destPath: string, relPath: string): Promise<string> => {
    for (let attempt = 0; attempt < HISTORY_NAME_ATTEMPTS; attempt++) {
      // this writer's directory first; a taken name gets a fresh directory for this file only
      const dir = attempt === 0 ? (historyDir ??= historyDirName(writerNodeId, runId)) : historyDirName(writerNodeId, runId)
      const relHistory = join(HISTORY_DIR, dir, relPath)
      await ensureRealDirs(fs, treeRoot, dirname(relHistory), knownDirs, kind === 'volume')
      const to = join(treeRoot, relHistory)
      try {
        await fs.moveNoReplace(destPath, to)
        return to
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
    throw new DestinationPathError(destPath, `no free name in ${HISTORY_DIR}/ after ${HISTORY_NAME_ATTEMPTS} attempts; the prior bytes stay in place`)
  }

  return {
    stagingPath: async () => {
      if (!stagingReady) {
        await ensureRealDirs(fs, treeRoot, `${STAGING_DIR}/run-${runId}`, undefined, kind === 'volume')
        stagingReady = true
      }
      return join(staging, `${++counter}`)
    },
    commit: async (staged, relPath, mtimeNs) => {
      checkRelPath(relPath)
      const relDir = relPath.includes('/') ? relPath.slice(0, relPath.lastIndexOf('/')) : ''
      await ensureRealDirs(fs, treeRoot, relDir, knownDirs, kind === 'volume')
      const destPath = join(treeRoot, relPath)
      await fs.setMtime(staged, mtimeNs)
      let priorMovedTo: string | null = null
      const existing = await fs.lstat(destPath)
      if (existing !== undefined) {
        if (existing.kind !== 'file') throw new DestinationPathError(destPath, `a ${existing.kind === 'link' ? 'symlink' : existing.kind === 'dir' ? 'directory' : 'special file'} is in the way`)
        priorMovedTo = await keepPrior(destPath, relPath)
      }
      await fs.rename(staged, destPath)
      dirtyDirs.add(dirname(destPath))
      if (priorMovedTo !== null) dirtyDirs.add(dirname(priorMovedTo))
      return { destPath, priorMovedTo }
    },
    syncDirs: async () => {
      const dirs = [...dirtyDirs]
      dirtyDirs.clear()
      for (let i = 0; i < dirs.length; i += 8) await Promise.all(dirs.slice(i, i + 8).map(async d => { await fs.syncDir(d) }))
    },
    cleanup: async () => {
      if (stagingReady) await fs.removeStaging(staging)
    }
  }
}
