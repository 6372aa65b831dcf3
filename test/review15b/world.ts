/**
 * A store-level nas world for the review-15b attacks (after test/index/quick-index.test.ts): nas
 * holds five photos received from laptop (origin laptop run 3), with custody recorded, and a
 * first quick index has recorded their ctime and inode. The node's clock runs a minute ahead of
 * the files' times, so no read is racy.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ManualClock } from '../../src/clock.js'
import type { VolumeConfig } from '../../src/config/types.js'
import { indexVolume, type IndexInit } from '../../src/index/index-volume.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import type { AssertedComponent } from '../../src/protocol/messages.js'
import { buildLocalAssertion } from '../../src/pull/local-assertion.js'
import { openStore } from '../../src/store/store.js'
import { addPeer, addSelf } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'

export const quiet = { warn () {}, info () {}, debug () {}, error () {} } as any

export const content = (i: number): string => `photo ${i} `.repeat(100)

export function nasWorld () {
  const root = tempDir('cairn-r15b-')
  const clock = new ManualClock(Date.now() * 1e6 + 60e9)
  const logger = createLogger([new MemorySink()], clock)
  const store = openStore({ path: join(root, 'cairn.db'), clock, logger, backupsDir: join(root, 'backups') })
  const nas = addSelf(store, 2, 'nas')
  const laptop = addPeer(store, 1, 'laptop')
  const volume: VolumeConfig = { name: 'photos', path: join(root, 'photos'), pushTo: [], offloadRequires: [], offloadMaxEvidenceAgeMs: undefined }
  mkdirSync(join(volume.path, '2019'), { recursive: true })
  for (let i = 0; i < 5; i++) writeFileSync(join(volume.path, `2019/p${i}.jpg`), content(i))
  const vol = store.volumes.ensure('photos', volume.path).id
  const index = async (quick: boolean, io?: IndexInit['io']) => await indexVolume({ store, volume, quick, logger: quiet, ...(io === undefined ? {} : { io }) })
  const row = (path: string) => store.files.listLive(vol).find(f => f.path === path)
  const custody = (): AssertedComponent[] => buildLocalAssertion(store, nas.nodeId, 'photos', quiet).components.filter(c => c.destination === nas.nodeId && c.originNode === laptop.nodeId)
  const vouches = (path: string, run = 3): boolean => custody().some(c => c.verifyMethod !== null && c.originRun >= run && (c.floorRun ?? 1) <= run && !c.exceptions.some(e => e.path === path && e.run === run))
  return { root, clock, logger, store, nas, laptop, volume, vol, index, row, custody, vouches }
}

export type NasWorld = ReturnType<typeof nasWorld>

/** Records the five files as received from laptop (origin laptop run 3) with custody, then a quick index records ctime and inode. */
export async function received (w: NasWorld): Promise<number> {
  const recv = w.store.runs.begin({ kind: 'receive', volumeId: w.vol, peerNodeId: w.laptop.rowId }).id
  w.store.files.recordObserved(w.vol, recv, [0, 1, 2, 3, 4].map(i => {
    const c = content(i)
    return { path: `2019/p${i}.jpg`, hash: sha256(c), size: c.length, mtimeNs: Number(statSync(join(w.volume.path, `2019/p${i}.jpg`), { bigint: true }).mtimeNs), originNodeId: w.laptop.rowId, originRunId: 3 }
  }), 'received')
  w.store.vector.advanceLocal(w.vol, w.nas.nodeId, 'peer-sha256', [{ originNodeId: w.laptop.rowId, originRunId: 3 }], recv)
  w.store.runs.finish(recv, 'success')
  await w.index(true)
  w.clock.advanceNs(60e9)
  return recv
}

/** Bit rot at a path: other bytes, the same size, and the row aligned with the new stat (the disk did it, not a write). */
export function rot (w: NasWorld, path: string, byte = 0x5a): Buffer {
  const p = join(w.volume.path, path)
  const size = statSync(p).size
  const bytes = Buffer.alloc(size, byte)
  writeFileSync(p, bytes)
  const st = statSync(p, { bigint: true })
  w.store.db.prepare('UPDATE files SET mtime_ns = ?, ctime_ns = ?, ino = ? WHERE id = ?').run(Number(st.mtimeNs), Number(st.ctimeNs), st.ino.toString(), w.row(path)?.id)
  w.clock.advanceNs(60e9)
  return bytes
}
