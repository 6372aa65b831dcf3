/**
 * Issue 13, "History never collides" (DESIGN "Destination identity"): a path's prior bytes move
 * to `.cairn-history/<writer node id>-run-<run id>-<8 hex>/<path>`, create-exclusively, so no
 * writer — another node, a rebuilt database that counts runs from 1 again, or the same run
 * replacing a path twice — ever replaces a history copy. Real temp dirs throughout; collisions
 * are injected by a wrapper that takes the chosen history name just before the writer does.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { HISTORY_DIR, HISTORY_NAME_ATTEMPTS, treeWriter } from '../../src/push/place-file.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

// a switch that makes link(2) fail as it does on FAT/exFAT, for the placeholder fallback
const linkFault = vi.hoisted(() => ({ noHardLinks: false, refused: 0 }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...orig,
    link: async (from: string, to: string) => {
      if (linkFault.noHardLinks && ++linkFault.refused > 0) throw Object.assign(new Error(`EPERM: operation not permitted, link '${from}' -> '${to}'`), { code: 'EPERM' })
      await orig.link(from, to)
    }
  }
})

const NODE_A = testKey(1).nodeId
const NODE_B = testKey(2).nodeId
const MTIME_NS = 1_700_000_000_000_000_000

/** A volume tree holding `a.jpg` = `original`. */
function tree (): string {
  const root = join(tempDir('cairn-history-'), 'photos')
  mkdirSync(root, { recursive: true })
  writeFileSync(join(root, 'a.jpg'), 'original')
  return root
}

/** Stages `bytes` through `writer` and commits them to `relPath`. */
async function replace (writer: ReturnType<typeof treeWriter>, relPath: string, bytes: string): Promise<string | null> {
  const staged = await writer.stagingPath()
  writeFileSync(staged, bytes)
  const { priorMovedTo } = await writer.commit(staged, relPath, MTIME_NS)
  await writer.syncDirs()
  return priorMovedTo
}

/** Every file under the tree's history, as `relative path → content`. */
function historyFiles (root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else out[relative(join(root, HISTORY_DIR), path)] = readFileSync(path, 'utf8')
    }
  }
  if (existsSync(join(root, HISTORY_DIR))) walk(join(root, HISTORY_DIR))
  return out
}

/** A filesystem on which another writer takes each of the first `times` history names just before we do. */
function takenNames (times: number): { fs: DirectoryFs, planted: string[] } {
  const planted: string[] = []
  const plant = (to: string): void => {
    if (!to.includes(`/${HISTORY_DIR}/`) || !to.endsWith('/a.jpg') || planted.length >= times) return
    mkdirSync(dirname(to), { recursive: true })
    writeFileSync(to, `someone else's version ${planted.length}`)
    planted.push(to)
  }
  const fs: DirectoryFs = {
    ...nodeDirectoryFs,
    // the name is taken by the time the writer checks it (the writer checks, then renames
    // into its own random-named directory, which no one else writes into)
    lstat: async (path) => { plant(path); return await nodeDirectoryFs.lstat(path) },
    moveNoReplace: async (from, to) => { plant(to); await nodeDirectoryFs.moveNoReplace(from, to) }
  }
  return { fs, planted }
}

describe('history names never collide', () => {
  it('names a history copy for its writer node, its run and a random part', async () => {
    const root = tree()
    const moved = await replace(treeWriter(nodeDirectoryFs, root, 7, NODE_A), 'a.jpg', 'new')
    expect(relative(join(root, HISTORY_DIR), moved!)).toMatch(new RegExp(`^${NODE_A}-run-7-[0-9a-f]{8}/a\\.jpg$`))
    expect(readFileSync(moved!, 'utf8')).toBe('original')
    expect(readFileSync(join(root, 'a.jpg'), 'utf8')).toBe('new')
  })

  it('keeps both prior versions when two nodes with the same run id replace one path in one tree', async () => {
    const root = tree()
    const byA = await replace(treeWriter(nodeDirectoryFs, root, 5, NODE_A), 'a.jpg', 'from A')
    const byB = await replace(treeWriter(nodeDirectoryFs, root, 5, NODE_B), 'a.jpg', 'from B')
    expect(byA).not.toBe(byB)
    expect(readFileSync(join(root, 'a.jpg'), 'utf8')).toBe('from B')
    expect(Object.values(historyFiles(root)).sort()).toEqual(['from A', 'original'])
    expect(readFileSync(byA!, 'utf8')).toBe('original')
    expect(readFileSync(byB!, 'utf8')).toBe('from A')
  })

  it('keeps both prior versions when one node rebuilt with a fresh database reaches the same run id again', async () => {
    const root = tree()
    const before = await replace(treeWriter(nodeDirectoryFs, root, 1, NODE_A), 'a.jpg', 'old database')
    const after = await replace(treeWriter(nodeDirectoryFs, root, 1, NODE_A), 'a.jpg', 'new database')
    expect(before).not.toBe(after)
    expect(Object.values(historyFiles(root)).sort()).toEqual(['old database', 'original'])
  })

  it('keeps both prior versions when one writer replaces the same path twice in one run', async () => {
    const root = tree()
    const writer = treeWriter(nodeDirectoryFs, root, 3, NODE_A)
    const first = await replace(writer, 'a.jpg', 'second')
    const second = await replace(writer, 'a.jpg', 'third')
    expect(first).not.toBe(second)
    expect(readFileSync(join(root, 'a.jpg'), 'utf8')).toBe('third')
    expect(readFileSync(first!, 'utf8')).toBe('original')
    expect(readFileSync(second!, 'utf8')).toBe('second')
    expect(Object.keys(historyFiles(root))).toHaveLength(2)
  })

  it('never replaces a file that is already at the chosen history name, and picks another name', async () => {
    const root = tree()
    const { fs, planted } = takenNames(2)
    const moved = await replace(treeWriter(fs, root, 4, NODE_A), 'a.jpg', 'new')
    expect(planted).toHaveLength(2)
    expect(planted).not.toContain(moved)
    expect(readFileSync(planted[0]!, 'utf8')).toBe('someone else\'s version 0')
    expect(readFileSync(planted[1]!, 'utf8')).toBe('someone else\'s version 1')
    expect(readFileSync(moved!, 'utf8')).toBe('original')
    expect(readFileSync(join(root, 'a.jpg'), 'utf8')).toBe('new')
  })

  it('refuses with DestinationPathError naming the path when every history name tried is taken, and moves nothing', async () => {
    const root = tree()
    const { fs, planted } = takenNames(Infinity)
    const writer = treeWriter(fs, root, 4, NODE_A)
    const staged = await writer.stagingPath()
    writeFileSync(staged, 'new')
    await expect(writer.commit(staged, 'a.jpg', MTIME_NS)).rejects.toMatchObject({ name: 'DestinationPathError', path: join(root, 'a.jpg') })
    expect(planted).toHaveLength(HISTORY_NAME_ATTEMPTS)
    planted.forEach((p, i) => { expect(readFileSync(p, 'utf8')).toBe(`someone else's version ${i}`) })
    expect(readFileSync(join(root, 'a.jpg'), 'utf8')).toBe('original')
    expect(readFileSync(staged, 'utf8')).toBe('new')
  })

  it('commits create-exclusively on a filesystem without hard links, and moves prior bytes never over a taken name', async () => {
    linkFault.noHardLinks = true
    try {
      const root = tree()
      const { fs, planted } = takenNames(1)
      const writer = treeWriter(fs, root, 2, NODE_A)
      const first = await replace(writer, 'a.jpg', 'second')
      const second = await replace(writer, 'a.jpg', 'third')
      expect(readFileSync(planted[0]!, 'utf8')).toBe('someone else\'s version 0')
      expect(readFileSync(first!, 'utf8')).toBe('original')
      expect(readFileSync(second!, 'utf8')).toBe('second')
      expect(readFileSync(join(root, 'a.jpg'), 'utf8')).toBe('third')
      expect(Object.keys(historyFiles(root))).toHaveLength(3)
      // each commit's final link fell back to the exclusive placeholder (history moves are one rename)
      expect(linkFault.refused).toBeGreaterThanOrEqual(2)
    } finally {
      linkFault.noHardLinks = false
    }
  })
})
