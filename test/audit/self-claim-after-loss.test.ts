/**
 * Regression for the audit finding (../shared/audit/evidence-path/self-claim-after-loss.test.ts):
 * a receiving node kept asserting custody (destination = itself) of content its own index had
 * since found missing or replaced, and the pusher's gate passed on it. DESIGN invariants 19 and
 * 21 and "What a component claims": custody covers only bytes on the node's own disk; a node
 * whose index finds received content missing or changed lowers that claim in an audited write.
 *
 * The reproduction marked the file missing straight in the store; this one deletes (or edits)
 * the real file and runs the real index, so it holds whichever layer does the retraction.
 */
import { rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { VolumeConfig } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import type { AssertedComponent, Assertion } from '../../src/protocol/messages.js'
import { buildLocalAssertion } from '../../src/pull/local-assertion.js'
import { openStore } from '../../src/store/store.js'
import { addPeer, addSelf } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'

const quiet = { warn () {}, info () {}, debug () {}, error () {} } as any

/** nas received 2019/a.jpg (laptop run 3) and 2019/b.jpg (laptop run 2) from laptop, as receive.ts records them. */
function received () {
  const root = tempDir('cairn-audit-custody-')
  const clock = new ManualClock()
  const logs = new MemorySink()
  const logger = createLogger([logs], clock)
  const store = openStore({ path: join(root, 'cairn.db'), clock, logger, backupsDir: join(root, 'backups') })
  const nas = addSelf(store, 2, 'nas')
  const laptop = addPeer(store, 1, 'laptop')
  const volume: VolumeConfig = { name: 'photos', path: join(root, 'photos'), pushTo: [], offloadRequires: [], offloadMaxEvidenceAgeMs: undefined }
  mkdirSync(join(volume.path, '2019'), { recursive: true })
  const files: Array<[string, string, number]> = [['2019/a.jpg', 'AAAA', 3], ['2019/b.jpg', 'BBBB', 2]]
  for (const [p, c] of files) writeFileSync(join(volume.path, p), c)
  const vol = store.volumes.ensure('photos', volume.path).id
  const recv = store.runs.begin({ kind: 'receive', volumeId: vol, peerNodeId: laptop.rowId }).id
  store.files.recordObserved(vol, recv, files.map(([p, c, run]) => ({
    path: p, hash: sha256(c), size: c.length, mtimeNs: Number(statSync(join(volume.path, p), { bigint: true }).mtimeNs), originNodeId: laptop.rowId, originRunId: run
  })))
  store.vector.advanceLocal(vol, nas.nodeId, 'peer-sha256', [{ originNodeId: laptop.rowId, originRunId: 3 }], recv)
  store.runs.finish(recv, 'success')
  clock.advanceNs(60e9)
  const index = async (): Promise<void> => { await indexVolume({ store, volume, quick: false, logger }) }
  const assertion = (): Assertion => buildLocalAssertion(store, nas.nodeId, 'photos', quiet)
  /** nas's custody components about laptop-origin content. */
  const custody = (a: Assertion): AssertedComponent[] => a.components.filter(c => c.destination === nas.nodeId && c.originNode === laptop.nodeId)
  const historyRows = (): number => store.vector.history(vol).filter(r => r.destination === nas.nodeId).length
  return { store, volume, nas, laptop, index, assertion, custody, historyRows }
}

/**
 * Whether a custody component still vouches for one file: it reaches the file's run, is not a
 * tombstone, and does not list the file among its exceptions (content hash, or path + run).
 */
function vouchesFor (c: AssertedComponent, file: { path: string, run: number, hash: Buffer }): boolean {
  if (c.verifyMethod === null || c.originRun < file.run) return false
  void file.hash
  const excepted = c.exceptions.some(e => e.path === file.path && e.run === file.run)
  return !excepted
}

const A = { path: '2019/a.jpg', run: 3, hash: sha256('AAAA') }
const B = { path: '2019/b.jpg', run: 2, hash: sha256('BBBB') }

describe('audit: custody covers only bytes on the node\'s own disk', () => {
  it('stops asserting custody of a received file once its own index finds it missing', async () => {
    const n = received()
    expect(n.custody(n.assertion()).some(c => vouchesFor(c, A))).toBe(true)
    rmSync(join(n.volume.path, A.path))
    await n.index()
    expect(n.store.files.listLive(n.store.volumes.get('photos')!.id).find(f => f.path === A.path)?.status).toBe('missing')
    expect(n.custody(n.assertion()).filter(c => vouchesFor(c, A))).toEqual([])
  })

  it('stops asserting custody of a received file once its own index finds it replaced by a local edit', async () => {
    const n = received()
    writeFileSync(join(n.volume.path, A.path), 'edited at nas')
    await n.index()
    expect(n.custody(n.assertion()).filter(c => vouchesFor(c, A))).toEqual([])
  })

  it('records the lowered custody as an audited write (a history row) when its index finds a received file missing', async () => {
    const n = received()
    const before = n.historyRows()
    rmSync(join(n.volume.path, A.path))
    await n.index()
    expect(n.historyRows()).toBeGreaterThan(before)
  })

  it('still asserts custody of the received file it does hold (one hole does not retract the whole origin)', async () => {
    const n = received()
    rmSync(join(n.volume.path, A.path))
    await n.index()
    expect(n.custody(n.assertion()).some(c => vouchesFor(c, B))).toBe(true)
  })
})
