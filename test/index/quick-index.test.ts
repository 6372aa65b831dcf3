/**
 * The quick index (issue 15): a file whose size, mtime, ctime and inode are all what this node
 * recorded when it last hashed it is not hashed again; anything else is. A quick index never
 * counts as a read (no read instant moves); `--rehash` reads every byte, and is what finds bytes
 * that changed behind unchanged metadata (bit rot) — retracting custody of a received file.
 */
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { VolumeConfig } from '../../src/config/types.js'
import { hashFile } from '../../src/index/hash-file.js'
import { indexVolume, RACY_MARGIN_NS } from '../../src/index/index-volume.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import type { AssertedComponent } from '../../src/protocol/messages.js'
import { buildLocalAssertion } from '../../src/pull/local-assertion.js'
import { openStore } from '../../src/store/store.js'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { settleStaleUnclaimed } from '../../src/evidence/unclaimed.js'
import { addPeer, addSelf } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'

const quiet = { warn () {}, info () {}, debug () {}, error () {} } as any

function world () {
  const root = tempDir('cairn-quick-')
  // the node's clock runs a minute ahead of the files' times: no file is "racy" (written in the
  // same tick as its read), so the quick index's own decision is what these tests see
  const clock = new ManualClock(Date.now() * 1e6 + 60e9)
  const logger = createLogger([new MemorySink()], clock)
  const store = openStore({ path: join(root, 'cairn.db'), clock, logger, backupsDir: join(root, 'backups') })
  const nas = addSelf(store, 2, 'nas')
  const laptop = addPeer(store, 1, 'laptop')
  const volume: VolumeConfig = { name: 'photos', path: join(root, 'photos'), pushTo: [], offloadRequires: [], offloadMaxEvidenceAgeMs: undefined }
  mkdirSync(join(volume.path, '2019'), { recursive: true })
  for (let i = 0; i < 5; i++) writeFileSync(join(volume.path, `2019/p${i}.jpg`), `photo ${i} `.repeat(100))
  const vol = (): number => store.volumes.get('photos')?.id ?? -1
  const index = async (quick: boolean) => await indexVolume({ store, volume, quick, logger })
  const row = (path: string) => store.files.listLive(vol()).find(f => f.path === path)
  return { root, clock, store, nas, laptop, volume, vol, index, row }
}

/** The five files recorded as a receive from laptop (origin laptop run 3), as receive.ts records them: no ctime or inode. */
function received (w: ReturnType<typeof world>): { vol: number, recv: number } {
  const vol = w.store.volumes.ensure('photos', w.volume.path).id
  const recv = w.store.runs.begin({ kind: 'receive', volumeId: vol, peerNodeId: w.laptop.rowId }).id
  w.store.files.recordObserved(vol, recv, [0, 1, 2, 3, 4].map(i => {
    const c = `photo ${i} `.repeat(100)
    return { path: `2019/p${i}.jpg`, hash: sha256(c), size: c.length, mtimeNs: Number(statSync(join(w.volume.path, `2019/p${i}.jpg`), { bigint: true }).mtimeNs), originNodeId: w.laptop.rowId, originRunId: 3 }
  }), 'received')
  return { vol, recv }
}

describe('quick index', () => {
  it('hashes nothing in an unchanged tree, and refreshes no read instant', async () => {
    const w = world()
    const first = await w.index(true)
    expect(first).toMatchObject({ filesSeen: 5, filesAdded: 5, filesHashed: 5 })
    const readAt = w.row('2019/p1.jpg')?.readAtNs
    w.clock.advanceNs(3600e9)
    const again = await w.index(true)
    expect(again).toMatchObject({ status: 'success', filesSeen: 5, filesHashed: 0, bytesHashed: 0, filesChanged: 0, filesMissing: 0 })
    expect(w.row('2019/p1.jpg')?.readAtNs).toBe(readAt)
    // every row was still seen by the quick run (none missing), and none was rewritten for it:
    // last_seen_run_id stays the run that last read the bytes
    expect(w.store.files.listLive(w.vol()).every(f => f.lastSeenRunId === first.runId && f.status === 'present')).toBe(true)
  })

  it('re-hashes a file edited to the same size whose mtime was put back (its ctime moved)', async () => {
    const w = world()
    const p = join(w.volume.path, '2019/p2.jpg')
    // whole-second times, so putting the mtime back restores it exactly
    utimesSync(p, 1_700_000_000, 1_700_000_000)
    await w.index(true)
    const before = statSync(p, { bigint: true })
    writeFileSync(p, 'PHOTO 2 '.padEnd(Number(before.size), 'x'))
    utimesSync(p, 1_700_000_000, 1_700_000_000)
    const after = statSync(p, { bigint: true })
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino])
    expect(after.ctimeNs).not.toBe(before.ctimeNs)
    const r = await w.index(true)
    expect(r).toMatchObject({ filesHashed: 1, filesChanged: 1 })
    expect(w.row('2019/p2.jpg')?.hash).toEqual(sha256('PHOTO 2 '.padEnd(Number(before.size), 'x')))
  })

  it('hashes a file it has no ctime and inode for (a received or restored row) once, then trusts it', async () => {
    const w = world()
    const { recv } = received(w)
    w.store.runs.finish(recv, 'success')
    expect((await w.index(true)).filesHashed).toBe(5)
    w.clock.advanceNs(60e9)
    expect((await w.index(true)).filesHashed).toBe(0)
  })

  it('re-hashes a file changed within the racy margin of its last read', async () => {
    const w = world()
    // the node's clock at the files' own time: the read is not comfortably after the last change
    w.clock.set(Date.now() * 1e6)
    await w.index(true)
    expect((await w.index(true)).filesHashed).toBe(5)
    w.clock.advanceNs(RACY_MARGIN_NS + 60e9)
    await w.index(true)
    expect((await w.index(true)).filesHashed).toBe(0)
  })

  it('measures the racy margin from when a read began, not from when its batch was recorded', async () => {
    const w = world()
    // the node's clock at the files' own time; each hash takes (in the clock's eyes) ten seconds,
    // so the batch is recorded long after the reads: a write in the tick of p0's read must not
    // be trusted as "comfortably before the read" because the batch was slow
    w.clock.set(Date.now() * 1e6)
    const slowHash: typeof hashFile = async (path, buffer) => {
      const h = await hashFile(path, buffer)
      w.clock.advanceNs(10e9)
      return h
    }
    const started = w.clock.nowNs()
    await indexVolume({ store: w.store, volume: w.volume, quick: true, logger: quiet, concurrency: 1, io: { hash: slowHash } })
    // each row's read instant is when its read began: 0, 10, 20, 30, 40 s after the start (the
    // batch was recorded at 50 s)
    const reads = w.store.files.listLive(w.vol()).map(f => (f.readAtNs ?? 0) - started).sort((a, b) => a - b)
    expect(reads).toEqual([0, 10e9, 20e9, 30e9, 40e9])
    // the file read in the tick of its last change is hashed again; the others were read well after
    expect((await w.index(true)).filesHashed).toBe(1)
  })

  it('--rehash reads every file, and only a full re-hash finds bit rot behind unchanged metadata, retracting custody of a received file', async () => {
    const w = world()
    const { vol, recv } = received(w)
    w.store.vector.advanceLocal(vol, w.nas.nodeId, 'peer-sha256', [{ originNodeId: w.laptop.rowId, originRunId: 3 }], recv)
    w.store.runs.finish(recv, 'success')
    await w.index(true) // records ctime and inode of every received file
    const custody = (): AssertedComponent[] => buildLocalAssertion(w.store, w.nas.nodeId, 'photos', quiet).components.filter(c => c.destination === w.nas.nodeId && c.originNode === w.laptop.nodeId)
    const vouches = (path: string): boolean => custody().some(c => c.verifyMethod !== null && c.originRun >= 3 && !c.exceptions.some(e => e.path === path))
    expect(vouches('2019/p3.jpg')).toBe(true)

    // bit rot: the bytes change, size and every timestamp the node recorded stay what they were
    // (the disk did it, not a write(2)); the row is aligned with the new stat to model that
    const p = join(w.volume.path, '2019/p3.jpg')
    const size = statSync(p).size
    writeFileSync(p, Buffer.alloc(size, 0x5a))
    const st = statSync(p, { bigint: true })
    w.store.db.prepare('UPDATE files SET mtime_ns = ?, ctime_ns = ?, ino = ? WHERE id = ?').run(Number(st.mtimeNs), Number(st.ctimeNs), st.ino.toString(), w.row('2019/p3.jpg')?.id)
    w.clock.advanceNs(60e9)

    const quick = await w.index(true)
    expect(quick.filesHashed).toBe(0)
    expect(vouches('2019/p3.jpg')).toBe(true) // a quick index cannot know

    const full = await w.index(false)
    expect(full).toMatchObject({ filesSeen: 5, filesHashed: 5, filesChanged: 0 })
    expect(vouches('2019/p3.jpg')).toBe(false)
    expect(vouches('2019/p2.jpg')).toBe(true)
    // the damaged bytes moved aside into history (kept, never deleted): the path is free for the
    // pusher's next push, and the row is missing
    expect(full.damaged).toHaveLength(1)
    const moved = full.damaged[0]
    expect(moved?.path).toBe('2019/p3.jpg')
    expect(moved?.movedTo).toMatch(new RegExp(`^\\.cairn-history/${w.nas.nodeId}-run-${full.runId}-[0-9a-f]{8}/2019/p3\\.jpg$`))
    expect(existsSync(p)).toBe(false)
    expect(readFileSync(join(w.volume.path, moved?.movedTo ?? '-'))).toEqual(Buffer.alloc(size, 0x5a))
    expect(w.store.files.listLive(w.vol()).find(f => f.path === '2019/p3.jpg')?.status).toBe('missing')
    expect(w.store.runs.events(full.runId).some(e => e.transition === 'alarm' && (e.note ?? '').includes('2019/p3.jpg: damaged'))).toBe(true)
    // and the next index does not bring the history copy back as a file of the volume
    expect((await w.index(false)).filesSeen).toBe(4)
  })

  it('a kill while a damaged file is moved aside leaves a hole in custody, never a claim; the next full re-hash moves it', async () => {
    const w = world()
    const { vol, recv } = received(w)
    w.store.vector.advanceLocal(vol, w.nas.nodeId, 'peer-sha256', [{ originNodeId: w.laptop.rowId, originRunId: 3 }], recv)
    w.store.runs.finish(recv, 'success')
    await w.index(true)
    const custody = (): AssertedComponent[] => buildLocalAssertion(w.store, w.nas.nodeId, 'photos', quiet).components.filter(c => c.destination === w.nas.nodeId && c.originNode === w.laptop.nodeId)
    const vouches = (path: string): boolean => custody().some(c => c.verifyMethod !== null && c.originRun >= 3 && !c.exceptions.some(e => e.path === path))
    const p = join(w.volume.path, '2019/p3.jpg')
    const size = statSync(p).size
    writeFileSync(p, Buffer.alloc(size, 0x5a))
    const st = statSync(p, { bigint: true })
    w.store.db.prepare('UPDATE files SET mtime_ns = ?, ctime_ns = ?, ino = ? WHERE id = ?').run(Number(st.mtimeNs), Number(st.ctimeNs), st.ino.toString(), w.row('2019/p3.jpg')?.id)
    w.clock.advanceNs(60e9)

    // another process (a pid that cannot exist) starts the re-hash and "dies" as it moves the file: its rename never returns
    const ghost = openStore({ path: join(w.root, 'cairn.db'), clock: w.clock, logger: createLogger([new MemorySink()], w.clock), backupsDir: join(w.root, 'backups'), pid: 4_194_305 })
    let moving = false
    void indexVolume({ store: ghost, volume: w.volume, quick: false, logger: quiet, io: { fs: { ...nodeDirectoryFs, rename: async () => { moving = true; await new Promise(() => {}) } } } })
    for (let i = 0; i < 200 && !moving; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(moving).toBe(true)
    ghost.close()

    // the next command: the orphan is reaped and stale marks settled; the bytes at the path are not
    // the recorded ones, so the row stays unclaimed
    w.store.runs.reapOrphans()
    settleStaleUnclaimed(w.store, createLogger([new MemorySink()], w.clock))
    expect(existsSync(p)).toBe(true)
    expect(vouches('2019/p3.jpg')).toBe(false)
    expect(vouches('2019/p2.jpg')).toBe(true)
    // a quick index cannot see the damage and leaves the hole; a full re-hash moves the file and settles it
    await w.index(true)
    expect(vouches('2019/p3.jpg')).toBe(false)
    const full = await w.index(false)
    expect(full.damaged.map(d => d.path)).toEqual(['2019/p3.jpg'])
    expect(existsSync(p)).toBe(false)
    expect(w.store.conflicts.replacingIds(vol).size).toBe(0)
    expect(vouches('2019/p3.jpg')).toBe(false)
  })

  it('records a damaged file of its own as changed, where it is (the user\'s file is never moved)', async () => {
    const w = world()
    await w.index(true)
    const p = join(w.volume.path, '2019/p1.jpg')
    const size = statSync(p).size
    writeFileSync(p, Buffer.alloc(size, 0x33))
    const st = statSync(p, { bigint: true })
    w.store.db.prepare('UPDATE files SET mtime_ns = ?, ctime_ns = ?, ino = ? WHERE id = ?').run(Number(st.mtimeNs), Number(st.ctimeNs), st.ino.toString(), w.row('2019/p1.jpg')?.id)
    w.clock.advanceNs(60e9)
    const full = await w.index(false)
    expect(full).toMatchObject({ filesChanged: 1, damaged: [] })
    expect(existsSync(p)).toBe(true)
    expect(w.row('2019/p1.jpg')?.hash).toEqual(sha256(Buffer.alloc(size, 0x33)))
  })

  it('records an edit of a received file as a change, never as damage (its mtime moved)', async () => {
    const w = world()
    const { vol, recv } = received(w)
    w.store.runs.finish(recv, 'success')
    const p = join(w.volume.path, '2019/p4.jpg')
    const size = statSync(p).size
    writeFileSync(p, Buffer.alloc(size, 0x44))
    utimesSync(p, 1_700_000_100, 1_700_000_100)
    const full = await w.index(false)
    expect(full).toMatchObject({ filesChanged: 1, damaged: [] })
    expect(existsSync(p)).toBe(true)
    expect(vol).toBeGreaterThan(0)
  })
})
