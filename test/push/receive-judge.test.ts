/**
 * The receiver's per-entry decision (src/push/receive-judge.ts, DESIGN invariant 25), on a fake
 * filesystem: what may be replaced, what is held, and which conflict each case is.
 */
import { describe, expect, it } from 'vitest'
import type { PlanEntry } from '../../src/protocol/messages.js'
import { nodeDirectoryFs, type DirectoryFs, type FileInfo } from '../../src/push/directory-fs.js'
import { HASH_IN_DOUBT_MAX_BYTES, judgeEntry } from '../../src/push/receive-judge.js'
import type { LiveFile } from '../../src/store/files.js'

const H = (n: number): Buffer => Buffer.alloc(32, n)
const row = (over: Partial<LiveFile> = {}): LiveFile => ({ id: 7, volumeId: 1, path: 'a', contentId: 1, hash: H(1), size: 10, mtimeNs: 1000, status: 'present', firstSeenRunId: 1, lastSeenRunId: 1, statusChangedRunId: 1, originNodeId: 2, originRunId: 5, readAtNs: null, ctimeNs: null, ino: null, ...over })
const entry = (over: Partial<PlanEntry> = {}): PlanEntry => ({ path: 'a', hash: H(9), size: 10, mtimeNs: 2000, originIndex: 0, originRun: 6, replaces: null, ...over })
function fsWith (info: FileInfo | undefined, hash?: Buffer): DirectoryFs & { hashed: number } {
  const fs = { ...nodeDirectoryFs, hashed: 0, lstat: async () => info, hash: async () => { fs.hashed++; return { hash: hash ?? H(0), size: info?.size ?? 0 } } }
  return fs
}
const file = (size: number, mtimeNs: number): FileInfo => ({ kind: 'file', size, mtimeNs, ino: 42 })

describe('receive judge', () => {
  it('writes into a free name, and replaces an indexed, unchanged version the entry descends from', async () => {
    expect(await judgeEntry({ fs: fsWith(undefined), abs: '/x', entry: entry(), entryOriginNodeId: 2, here: row() })).toEqual({ kind: 'write', expect: { kind: 'absent' } })
    expect(await judgeEntry({ fs: fsWith(file(10, 1000)), abs: '/x', entry: entry(), entryOriginNodeId: 2, here: row() })).toEqual({ kind: 'write', expect: { kind: 'file', size: 10, mtimeNs: 1000, ino: 42 } })
    // another origin node, but the entry says it replaces exactly this content
    expect((await judgeEntry({ fs: fsWith(file(10, 1000)), abs: '/x', entry: entry({ replaces: H(1) }), entryOriginNodeId: 3, here: row() })).kind).toBe('write')
  })

  it('is a diverged conflict when the indexed version is newer or unrelated', async () => {
    const diverged = { kind: 'conflict', conflict: 'diverged', localFileId: null }
    expect(await judgeEntry({ fs: fsWith(file(10, 1000)), abs: '/x', entry: entry({ originRun: 4 }), entryOriginNodeId: 2, here: row() })).toEqual(diverged)
    expect(await judgeEntry({ fs: fsWith(file(10, 1000)), abs: '/x', entry: entry({ replaces: H(8) }), entryOriginNodeId: 3, here: row() })).toEqual(diverged)
  })

  it('is a local-edit conflict when the disk differs from the row, and holds a touched file with the same bytes', async () => {
    const edited = fsWith(file(10, 3000), H(5))
    expect(await judgeEntry({ fs: edited, abs: '/x', entry: entry(), entryOriginNodeId: 2, here: row() })).toEqual({ kind: 'conflict', conflict: 'local-edit', localFileId: 7 })
    // a size neither version has needs no hash
    const grown = fsWith(file(11, 3000))
    expect((await judgeEntry({ fs: grown, abs: '/x', entry: entry(), entryOriginNodeId: 2, here: row() })).kind).toBe('conflict')
    expect(grown.hashed).toBe(0)
    expect(await judgeEntry({ fs: fsWith(file(10, 3000), H(1)), abs: '/x', entry: entry({ hash: H(1) }), entryOriginNodeId: 2, here: row() })).toEqual({ kind: 'held', mtimeNs: 3000, reread: true })
    const huge = fsWith(file(HASH_IN_DOUBT_MAX_BYTES + 1, 3000))
    expect((await judgeEntry({ fs: huge, abs: '/x', entry: entry({ size: HASH_IN_DOUBT_MAX_BYTES + 1 }), entryOriginNodeId: 2, here: row({ size: HASH_IN_DOUBT_MAX_BYTES + 1 }) })).kind).toBe('conflict')
    expect(huge.hashed).toBe(0)
  })

  it('is an occupied conflict when a directory, or an unindexed file, is where a missing or offloaded row was', async () => {
    const occupied = { kind: 'conflict', conflict: 'occupied', localFileId: null }
    expect(await judgeEntry({ fs: fsWith({ kind: 'dir', size: 0, mtimeNs: 1 }), abs: '/x', entry: entry(), entryOriginNodeId: 2, here: row() })).toEqual(occupied)
    expect(await judgeEntry({ fs: fsWith(file(10, 3000), H(4)), abs: '/x', entry: entry(), entryOriginNodeId: 2, here: row({ status: 'offloaded' }) })).toEqual(occupied)
  })
})
