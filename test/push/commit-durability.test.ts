/**
 * A commit's directory entries are durable before anything claims the file (issue 14): the
 * tree writer fsyncs the directory it linked into, every directory the commit created, and the
 * parent of each created directory (where the new directory's own entry lives).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { treeWriter } from '../../src/push/place-file.js'
import { tempDir } from '../helpers/store.js'

describe('commit durability', () => {
  it('fsyncs the directory linked into, every directory the commit created and their parents', async () => {
    const tree = tempDir('cairn-commit-sync-')
    const synced: string[] = []
    const fs: DirectoryFs = { ...nodeDirectoryFs, syncDir: async (p) => { synced.push(p); await nodeDirectoryFs.syncDir(p) } }
    const w = treeWriter(fs, tree, 1, '12D3KooWCommitSync', 'volume', 'receive')
    const staged = await w.stagingPath()
    writeFileSync(staged, 'bytes')
    await w.commit(staged, 'a/b/c/new.txt', 1e18, { kind: 'absent' })
    expect(synced).toEqual([])
    await w.syncDirs()
    expect(new Set(synced)).toEqual(new Set([tree, join(tree, 'a'), join(tree, 'a/b'), join(tree, 'a/b/c')]))
  })
})
