/**
 * From ../shared/audit/data-path/commit-race.test.ts, inverted (issue 14, DESIGN invariant 25):
 * a commit links the staged file to its final name create-exclusively, so of two writers
 * committing one new path exactly one lands and the other is refused (CommitConflictError),
 * never a silent replace; a file that changes between the writer's check and its move to
 * history goes back where it was.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { treeWriter } from '../../src/push/place-file.js'
import { runsConflict } from '../../src/store/run-gates.js'
import { tempDir } from '../helpers/store.js'

const NODE = '12D3KooWAuditCommitRace'

describe('create-exclusive commits', () => {
  it.each([['replace-own (a directory push)', undefined], ['absent (receive, restore)', { kind: 'absent' as const }]])('two commits of one new path under %s: one lands, the other is refused and nothing is replaced', async (_name, expect_) => {
    expect(runsConflict({ kind: 'receive', volumeId: 1, destination: null, peerNodeId: 7 }, { kind: 'receive', volumeId: 1, destination: null, peerNodeId: 8 })).toBe(false)
    const tree = tempDir('cairn-commit-')
    // both writers check the free name before either links (the race the audit showed), so the
    // outcome never depends on scheduling: a barrier holds each final-name check until both ran
    const dest = join(tree, 'p.jpg')
    let waiting = 0
    let release: () => void = () => {}
    const bothChecked = new Promise<void>(resolve => { release = resolve })
    const racing: DirectoryFs = {
      ...nodeDirectoryFs,
      lstat: async (path) => {
        const info = await nodeDirectoryFs.lstat(path)
        if (path === dest && waiting < 2) { if (++waiting === 2) release(); await bothChecked }
        return info
      }
    }
    const a = treeWriter(racing, tree, 1, NODE)
    const b = treeWriter(racing, tree, 2, NODE)
    const sa = await a.stagingPath(); writeFileSync(sa, 'from laptop')
    const sb = await b.stagingPath(); writeFileSync(sb, 'from desktop')
    const results = await Promise.allSettled([a.commit(sa, 'p.jpg', 1e18, expect_), b.commit(sb, 'p.jpg', 1e18, expect_)])
    const won = results.filter(r => r.status === 'fulfilled')
    const lost = results.filter(r => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ name: 'CommitConflictError', found: 'occupied' })
    const live = readFileSync(join(tree, 'p.jpg'), 'utf8')
    const winnerStaged = results[0]?.status === 'fulfilled' ? sa : sb
    const loserStaged = winnerStaged === sa ? sb : sa
    expect(live).toBe(winnerStaged === sa ? 'from laptop' : 'from desktop')
    // the winner's staged name is gone; the loser's bytes are still its own, in staging
    expect(existsSync(winnerStaged)).toBe(false)
    expect(readFileSync(loserStaged, 'utf8')).toBe(winnerStaged === sa ? 'from desktop' : 'from laptop')
    expect(existsSync(join(tree, '.cairn-history'))).toBe(false)
  })

  it('refuses to move a file to history that is not the one checked, and moves back one that changed during the move', async () => {
    const tree = tempDir('cairn-commit-changed-')
    const dest = join(tree, 'p.jpg')
    writeFileSync(dest, 'the user\'s file')
    const checked = (await nodeDirectoryFs.lstat(dest))!
    // changed after the check: refused before anything moves
    writeFileSync(dest, 'the user saved again, longer')
    const w = treeWriter(nodeDirectoryFs, tree, 1, NODE)
    const s1 = await w.stagingPath(); writeFileSync(s1, 'pushed')
    await expect(w.commit(s1, 'p.jpg', 1e18, { kind: 'file', size: checked.size, mtimeNs: checked.mtimeNs, ino: checked.ino })).rejects.toMatchObject({ name: 'CommitConflictError', found: 'changed' })
    expect(readFileSync(dest, 'utf8')).toBe('the user saved again, longer')
    // changed while it was being moved (an atomic save lands between the check and the move)
    const now = (await nodeDirectoryFs.lstat(dest))!
    const racing: DirectoryFs = {
      ...nodeDirectoryFs,
      // the save lands just before the path is renamed aside on its way to history
      rename: async (from, to) => {
        if (from === dest) { writeFileSync(dest + '.tmp', 'atomic save'); const { renameSync } = await import('node:fs'); renameSync(dest + '.tmp', dest) }
        await nodeDirectoryFs.rename(from, to)
      }
    }
    const w2 = treeWriter(racing, tree, 2, NODE)
    const s2 = await w2.stagingPath(); writeFileSync(s2, 'pushed')
    await expect(w2.commit(s2, 'p.jpg', 1e18, { kind: 'file', size: now.size, mtimeNs: now.mtimeNs, ino: now.ino })).rejects.toMatchObject({ name: 'CommitConflictError', found: 'changed', keptAt: null })
    expect(readFileSync(dest, 'utf8')).toBe('atomic save')
    const history = readdirSync(join(tree, '.cairn-history'), { recursive: true, withFileTypes: true }).filter(e => e.isFile())
    expect(history).toEqual([])
  })
})
