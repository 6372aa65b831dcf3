/**
 * The filesystem operations a directory destination needs, behind an interface so tests can
 * inject faults (corrupt a file between write and read-back, fail a rename) by wrapping it.
 */
import { copyFile, link, lstat, mkdir, open, readFile, rename, rm, unlink, utimes } from 'node:fs/promises'
import { constants } from 'node:fs'
import { createHashPool, type HashPool } from '../index/hash-pool.js'
import { crashPoint } from '../crash-point.js'
import { syncFilesystem } from './sync-filesystem.js'

export interface FileInfo {
  kind: 'file' | 'dir' | 'link' | 'other'
  size: number
  mtimeNs: number
  /** The inode number, where the filesystem has one (absent from wrappers that do not say). */
  ino?: number
}

export interface DirectoryFs {
  /** Copies src to dst, which must not exist. */
  copyFile: (src: string, dst: string) => Promise<void>
  /** Flushes a file's data and metadata to stable storage. */
  syncFile: (path: string) => Promise<void>
  /** Flushes a directory (so a rename into it survives a crash). */
  syncDir: (path: string) => Promise<void>
  /**
   * One flush of the whole filesystem holding `path` (syncfs), so the fsyncs of a batch that
   * follow find nothing left to commit; true when it ran. Never a substitute for them
   * (src/push/sync-filesystem.ts, docs/durability.md).
   */
  syncFilesystem: (path: string) => Promise<boolean>
  rename: (from: string, to: string) => Promise<void>
  mkdirp: (path: string) => Promise<void>
  /** Never follows a symlink; undefined when nothing is there. */
  lstat: (path: string) => Promise<FileInfo | undefined>
  /** Reads the file back and hashes it (SHA-256); `mtimeNs` when the read's handle says it (then the path named that handle throughout). */
  hash: (path: string) => Promise<{ hash: Buffer, size: number, mtimeNs?: number }>
  setMtime: (path: string, mtimeNs: number) => Promise<void>
  readText: (path: string) => Promise<string | undefined>
  /** Writes a small file: temp, fsync, rename, fsync the directory. */
  writeTextAtomic: (path: string, text: string) => Promise<void>
  /** Removes cairn's own staging leftovers (never user data). */
  removeStaging: (path: string) => Promise<void>
  /**
   * Moves a file to `to`, which must not exist: when anything is there it fails with EEXIST
   * and moves nothing, so it never replaces a file. A hard link, then an unlink of `from`;
   * where the filesystem has no hard links (FAT, exFAT, some shares) an exclusively created
   * empty placeholder claims the name and the file is renamed onto that placeholder only.
   */
  moveNoReplace: (from: string, to: string) => Promise<void>
  /**
   * Gives the file at `from` the new name `to`, which must not exist: EEXIST when anything is
   * there, and nothing is replaced (a create-exclusive commit). A hard link, so `from` still
   * names the file afterwards (unlink it with `unlinkStaged`); where the filesystem has no hard
   * links, an exclusively created placeholder claims the name and `from` is renamed onto it.
   */
  linkNoReplace: (from: string, to: string) => Promise<void>
  /** Removes a staging name of cairn's own (after `linkNoReplace`); nothing when it is gone. Never user data. */
  unlinkStaged: (path: string) => Promise<void>
  /** Creates an empty file that must not exist (EEXIST otherwise): a name probe (src/push/fold-probe.ts). */
  createProbe: (path: string) => Promise<void>
  /** Removes a file createProbe made, by its exact name; nothing when it is gone. Never user data. */
  removeProbe: (path: string) => Promise<void>
}

/**
 * The worker threads that read back and fsync files for every writer in this process (pushes,
 * receives, restores): the calling thread pays a share of a message per file instead of a
 * thread-pool trip per system call. Idle workers keep no process alive.
 */
let sharedPool: HashPool | undefined
function filePool (): HashPool {
  sharedPool ??= createHashPool()
  return sharedPool
}

/** link(2) errors that mean "cannot hard-link here" rather than "the name is taken". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'])

async function syncPath (path: string, flags: number): Promise<void> {
  const fh = await open(path, flags)
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Names the file at `from` also `to` without replacing anything there (EEXIST when taken).
 * True: a hard link, `from` still exists. False: no hard links here, so an exclusively created
 * placeholder claimed `to` and `from` was renamed onto that placeholder only.
 */
async function linkOrClaim (from: string, to: string): Promise<boolean> {
  try {
    await link(from, to)
    return true
  } catch (err) {
    if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err
  }
  await (await open(to, 'wx', 0o600)).close()
  crashPoint('dirfs:move-placeholder-rename')
  try {
    await rename(from, to)
  } catch (renameErr) {
    await unlink(to).catch(() => {})
    throw renameErr
  }
  return false
}

export const nodeDirectoryFs: DirectoryFs = {
  copyFile: async (src, dst) => { crashPoint('dirfs:copy-file'); await copyFile(src, dst, constants.COPYFILE_EXCL) },
  syncFile: async (path) => { crashPoint('dirfs:sync-file'); await filePool().sync(path) },
  syncDir: async (path) => { crashPoint('dirfs:sync-dir'); await syncPath(path, constants.O_RDONLY | constants.O_DIRECTORY) },
  syncFilesystem: async (path) => { crashPoint('dirfs:sync-fs'); return await syncFilesystem(path) },
  rename: async (from, to) => { crashPoint('dirfs:rename'); await rename(from, to); crashPoint('dirfs:renamed') },
  mkdirp: async (path) => { crashPoint('dirfs:mkdirp'); await mkdir(path, { recursive: true }) },
  lstat: async (path) => {
    try {
      const st = await lstat(path, { bigint: true })
      return { kind: st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other', size: Number(st.size), mtimeNs: Number(st.mtimeNs), ino: Number(st.ino) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  },
  hash: async (path) => {
    const pool = filePool()
    await pool.room()
    const h = await pool.hash(path)
    return { hash: h.hash, size: h.size, mtimeNs: h.mtimeNs }
  },
  setMtime: async (path, mtimeNs) => {
    crashPoint('dirfs:set-mtime')
    const seconds = mtimeNs / 1e9
    await utimes(path, seconds, seconds)
  },
  readText: async (path) => {
    try {
      return await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  },
  writeTextAtomic: async (path, text) => {
    const tmp = `${path}.tmp-${process.pid}`
    crashPoint('dirfs:write-text-temp')
    const fh = await open(tmp, 'wx', 0o644)
    try {
      await fh.writeFile(text)
      await fh.sync()
    } finally {
      await fh.close()
    }
    crashPoint('dirfs:write-text-rename')
    await rename(tmp, path)
    crashPoint('dirfs:write-text-sync-dir')
    await syncPath(path.slice(0, path.lastIndexOf('/')) || '/', constants.O_RDONLY | constants.O_DIRECTORY)
  },
  removeStaging: async (path) => { crashPoint('dirfs:remove-staging'); await rm(path, { recursive: true, force: true }) },
  moveNoReplace: async (from, to) => {
    crashPoint('dirfs:move-link')
    if (await linkOrClaim(from, to)) {
      crashPoint('dirfs:move-unlink-source')
      await unlink(from)
    }
    crashPoint('dirfs:moved')
  },
  linkNoReplace: async (from, to) => {
    crashPoint('dirfs:link')
    await linkOrClaim(from, to)
    crashPoint('dirfs:linked')
  },
  unlinkStaged: async (path) => {
    crashPoint('dirfs:unlink-staged')
    try {
      await unlink(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  },
  createProbe: async (path) => { crashPoint('dirfs:create-probe'); await (await open(path, 'wx', 0o600)).close() },
  removeProbe: async (path) => {
    crashPoint('dirfs:remove-probe')
    try {
      await unlink(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
}
