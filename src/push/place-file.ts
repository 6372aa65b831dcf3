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
  /** Removes this run's staging directory (leftovers of failed files). */
  cleanup: () => Promise<void>
}

/** Refuses a relative path that could leave the tree (defence in depth: callers validate too). */
function checkRelPath (relPath: string): void {
  if (relPath === '' || relPath.startsWith('/') || relPath.includes('\0') || relPath.split('/').some(s => s === '' || s === '.' || s === '..')) {
    throw new DestinationPathError(relPath, 'not a clean volume-relative path')
  }
}

/** Ensures every directory from `treeRoot` down to `dir` exists and none of them is a symlink. */
async function ensureRealDirs (fs: DirectoryFs, treeRoot: string, relDir: string): Promise<void> {
  let current = treeRoot
  for (const segment of relDir === '' ? [] : relDir.split('/')) {
    current = join(current, segment)
    const info = await fs.lstat(current)
    if (info === undefined) {
      await fs.mkdirp(current)
      continue
    }
    if (info.kind !== 'dir') throw new DestinationPathError(current, info.kind === 'link' ? 'a path component is a symlink' : 'a path component is not a directory')
  }
}

export function treeWriter (fs: DirectoryFs, treeRoot: string, runId: number): TreeWriter {
  const staging = join(treeRoot, STAGING_DIR, `run-${runId}`)
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
      await ensureRealDirs(fs, treeRoot, relDir)
      const destPath = join(treeRoot, relPath)
      await fs.setMtime(staged, mtimeNs)
      let priorMovedTo: string | null = null
      const existing = await fs.lstat(destPath)
      if (existing !== undefined) {
        if (existing.kind !== 'file') throw new DestinationPathError(destPath, `a ${existing.kind === 'link' ? 'symlink' : existing.kind === 'dir' ? 'directory' : 'special file'} is in the way`)
        priorMovedTo = join(treeRoot, HISTORY_DIR, `run-${runId}`, relPath)
        await ensureRealDirs(fs, treeRoot, dirname(join(HISTORY_DIR, `run-${runId}`, relPath)))
        await fs.rename(destPath, priorMovedTo)
      }
      await fs.rename(staged, destPath)
      await fs.syncDir(dirname(destPath))
      return { destPath, priorMovedTo }
    },
    cleanup: async () => {
      if (stagingReady) await fs.removeStaging(staging)
    }
  }
}
