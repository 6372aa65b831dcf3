/**
 * A name-folding filesystem without mount privileges: a DirectoryFs over a real directory in
 * which, below `root`, every path component is looked up the way a case-insensitive,
 * case-preserving filesystem does (exFAT, SMB, an ext4 casefold directory): the first spelling
 * that creates a name keeps it, and any spelling that folds equal finds that entry. Folding can
 * be limited to some directories (`folds`), as ext4 casefold is a per-directory attribute.
 *
 * Every DirectoryFs member is wrapped, including ones added later: each string argument under
 * `root` is taken as a path and mapped.
 */
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'

export type NameFold = 'case' | 'normalization' | 'case+normalization'

export interface FoldingFsInit {
  /** Below this directory names fold (the destination or volume directory). */
  root: string
  fold: NameFold
  /** Which directories (relative to root, '' for root, in their stored spelling) fold; all when absent. */
  folds?: (relDir: string) => boolean
  /** The filesystem underneath (default: the real one). */
  base?: DirectoryFs
}

export function foldOf (fold: NameFold): (name: string) => string {
  switch (fold) {
    case 'case': return n => n.toLowerCase()
    case 'normalization': return n => n.normalize('NFC')
    case 'case+normalization': return n => n.normalize('NFC').toLowerCase()
  }
}

/** Maps a path below `root` to the real entry each component folds to (or its own spelling). */
export function foldingPathMapper (init: Omit<FoldingFsInit, 'base'>): (path: string) => string {
  const fold = foldOf(init.fold)
  const folds = init.folds ?? (() => true)
  return (path) => {
    if (path !== init.root && !path.startsWith(init.root + '/')) return path
    let current = init.root
    for (const segment of path.slice(init.root.length).split('/').filter(s => s !== '')) {
      let name = segment
      if (folds(relative(init.root, current))) {
        let entries: string[] = []
        try {
          entries = readdirSync(current)
        } catch {
          // not a directory (yet): the lookup below it fails as it would anyway
        }
        name = entries.find(e => e === segment) ?? entries.find(e => fold(e) === fold(segment)) ?? segment
      }
      current = join(current, name)
    }
    return current
  }
}

export function foldingFs (init: FoldingFsInit): DirectoryFs {
  const map = foldingPathMapper(init)
  const base = init.base ?? nodeDirectoryFs
  const wrapped: Record<string, unknown> = {}
  for (const [key, fn] of Object.entries(base) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    wrapped[key] = async (...args: unknown[]) => await fn(...args.map(a => typeof a === 'string' ? map(a) : a))
  }
  return wrapped as unknown as DirectoryFs
}
