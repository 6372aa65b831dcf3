/**
 * Review 14b, attack on keepPrior (src/push/place-file.ts): the one `rename(destPath, to)` into
 * the writer's history directory takes whatever is at the path at that instant, and the caller
 * moves it back with moveNoReplace when it is not the checked file. moveNoReplace moves files
 * only (a hard link, or a placeholder file renamed onto): when what the rename took is a
 * directory the user put at that path meanwhile (a save that replaced the file by a folder, a
 * bundle app's save), the move back fails with ENOTDIR/EPERM, not EEXIST, and the commit throws
 * a plain error: the user's directory and everything in it is left inside .cairn-history, gone
 * from its place, and no conflict names where it went (invariant 25: a receiver never destroys
 * or displaces what it does not own).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CommitConflictError } from '../../src/errors.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { treeWriter } from '../../src/push/place-file.js'
import { tempDir } from '../helpers/store.js'

describe('review 14b: the history move never displaces what replaced the checked file', () => {
  it('a directory saved over the checked file just before the move stays at its path', async () => {
    const root = tempDir('cairn-r14b-hist-')
    const dest = join(root, 'doc.pages')
    writeFileSync(dest, 'the version this node indexed')
    const st = statSync(dest, { bigint: true })
    let swapped = false
    const fs: DirectoryFs = {
      ...nodeDirectoryFs,
      lstat: async (path) => {
        // the instant between the history name's check and the rename: the user's app saves
        // the document as a bundle directory in place of the file
        if (!swapped && path.includes('/.cairn-history/') && path.endsWith('/doc.pages')) {
          swapped = true
          rmSync(dest)
          mkdirSync(dest)
          writeFileSync(join(dest, 'index.xml'), 'the user\'s newest save')
        }
        return await nodeDirectoryFs.lstat(path)
      }
    }
    const writer = treeWriter(fs, root, 7, 'nodeA', 'volume', 'receive')
    const staged = await writer.stagingPath()
    writeFileSync(staged, 'the pusher\'s version')
    const r = await writer.commit(staged, 'doc.pages', Number(st.mtimeNs), { kind: 'file', size: Number(st.size), mtimeNs: Number(st.mtimeNs), ino: Number(st.ino) })
      .then(() => 'committed', (err: unknown) => err)
    expect(swapped).toBe(true)
    // refused as a conflict, and the user's save is where the user put it
    expect(r).toBeInstanceOf(CommitConflictError)
    expect(existsSync(dest) && lstatSync(dest).isDirectory()).toBe(true)
    expect(readFileSync(join(dest, 'index.xml'), 'utf8')).toBe('the user\'s newest save')
  })
})
