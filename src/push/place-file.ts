/**
 * The write rules of every place cairn writes a volume's files (a directory destination, or a
 * receiving node's own volume): bytes go to a staging file under `.cairn-staging/`, are
 * fsynced, and are renamed into place; a path's prior bytes move to
 * `.cairn-history/run-<id>/<path>` first; nothing is ever deleted. No path component may be a
 * symlink, so nothing can be redirected outside the tree.
 */
import { dirname, join } from 'node:path'
import { DestinationPathError } from '../errors.js'
import type { DirectoryFs } from './directory-fs.js'

export const STAGING_DIR = '.cairn-staging'
export const HISTORY_DIR = '.cairn-history'

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
}

/**
 * Ensures every directory from `treeRoot` down to `relDir` exists and none of them is a
 * symlink. `known` maps directories this writer already checked (or is checking) during its run
 * to that check, so concurrent commits into one new directory wait for the same check.
 */
async function ensureRealDirs (fs: DirectoryFs, treeRoot: string, relDir: string, known?: Map<string, Promise<void>>): Promise<void> {
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

export function treeWriter (fs: DirectoryFs, treeRoot: string, runId: number): TreeWriter {
  const staging = join(treeRoot, STAGING_DIR, `run-${runId}`)
  const knownDirs = new Map<string, Promise<void>>()
  const dirtyDirs = new Set<string>()
  let counter = 0
  let stagingReady = false
  return {
    stagingPath: async () => {
      if (!stagingReady) {
        await ensureRealDirs(fs, treeRoot, `${STAGING_DIR}/run-${runId}`)
        stagingReady = true
      }
      return join(staging, `${++counter}`)
    },
    commit: async (staged, relPath, mtimeNs) => {
      checkRelPath(relPath)
      const relDir = relPath.includes('/') ? relPath.slice(0, relPath.lastIndexOf('/')) : ''
      await ensureRealDirs(fs, treeRoot, relDir, knownDirs)
      const destPath = join(treeRoot, relPath)
      await fs.setMtime(staged, mtimeNs)
      let priorMovedTo: string | null = null
      const existing = await fs.lstat(destPath)
      if (existing !== undefined) {
        if (existing.kind !== 'file') throw new DestinationPathError(destPath, `a ${existing.kind === 'link' ? 'symlink' : existing.kind === 'dir' ? 'directory' : 'special file'} is in the way`)
        priorMovedTo = join(treeRoot, HISTORY_DIR, `run-${runId}`, relPath)
        await ensureRealDirs(fs, treeRoot, dirname(join(HISTORY_DIR, `run-${runId}`, relPath)), knownDirs)
        await fs.rename(destPath, priorMovedTo)
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
