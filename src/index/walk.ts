/**
 * Walks a volume: regular files with their size, mtime, ctime and inode, in a stable (sorted) order.
 * Symlinks are never followed (skipped and counted); reserved `.cairn*` names are never
 * indexed; directories that cannot be read are reported, and the walk goes on.
 */
import { lstatSync, readdirSync, type Dirent } from 'node:fs'
import type { opendir } from 'node:fs/promises'
import { join } from 'node:path'

export interface WalkedFile {
  /** Volume-relative, "/"-separated. */
  path: string
  absPath: string
  size: number
  mtimeNs: number
  ctimeNs: number
  /** Decimal (inodes are unsigned 64-bit). */
  ino: string
}

export interface WalkProblem {
  path: string
  code: string
}

export interface WalkStats {
  symlinks: number
  special: number
  reserved: number
  unreadableDirs: WalkProblem[]
}

/** The directory listing call; injectable so tests can make a directory unreadable. */
export type OpenDir = typeof opendir

export function isReservedName (name: string): boolean {
  return name.toLowerCase().startsWith('.cairn')
}

export async function * walkVolume (root: string, stats: WalkStats, openDir?: OpenDir): AsyncGenerator<WalkedFile> {
  const stack: string[] = ['']
  while (stack.length > 0) {
    const rel = stack.pop() as string
    const abs = rel === '' ? root : join(root, rel)
    let names: Array<{ name: string, kind: 'file' | 'dir' | 'link' | 'other' }>
    try {
      names = openDir === undefined ? listSync(abs) : await listThrough(openDir, abs)
    } catch (err) {
      stats.unreadableDirs.push({ path: rel, code: (err as NodeJS.ErrnoException).code ?? 'EIO' })
      continue
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const subdirs: string[] = []
    for (const e of names) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`
      if (isReservedName(e.name)) { stats.reserved++; continue }
      if (e.kind === 'link') { stats.symlinks++; continue }
      if (e.kind === 'dir') { subdirs.push(childRel); continue }
      if (e.kind === 'other') { stats.special++; continue }
      const childAbs = join(abs, e.name)
      let st
      try {
        // synchronous: one lstat(2) on this thread costs microseconds; an async one costs a
        // trip through the libuv pool and a promise, which for 100,000 small files was most of the walk
        st = lstatSync(childAbs, { bigint: true })
      } catch (err) {
        // vanished between listing and stat: treat as not there
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      if (!st.isFile()) { stats.special++; continue }
      yield { path: childRel, absPath: childAbs, size: Number(st.size), mtimeNs: Number(st.mtimeNs), ctimeNs: Number(st.ctimeNs), ino: st.ino.toString() }
    }
    // depth-first, in sorted order
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as string)
    // the listing and stats above are synchronous: let timers, signals and the hashing
    // workers' replies in between directories
    await new Promise<void>(resolve => setImmediate(resolve))
  }
}

type Listed = Array<{ name: string, kind: 'file' | 'dir' | 'link' | 'other' }>

function kindOf (e: Dirent): 'file' | 'dir' | 'link' | 'other' {
  return e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other'
}

function listSync (abs: string): Listed {
  return readdirSync(abs, { withFileTypes: true }).map(e => ({ name: e.name, kind: kindOf(e) }))
}

async function listThrough (openDir: OpenDir, abs: string): Promise<Listed> {
  const dir = await openDir(abs)
  const names: Listed = []
  for await (const e of dir) names.push({ name: e.name, kind: kindOf(e) })
  return names
}
