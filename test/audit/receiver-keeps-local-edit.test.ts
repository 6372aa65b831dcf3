/**
 * From ../shared/audit/data-path/receiver-clobbers-local-edit.test.ts, inverted (issue 14,
 * DESIGN invariant 25): a receiver never replaces a file that differs from what it indexed
 * there, nor its own indexed edit with an unrelated version; the path is a conflict — kept,
 * reported to the pusher at every push (never a push that fails forever), a hole in the
 * receipt, listed in the receiver's status — until one side resolves it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { nodeStatus } from '../../src/status.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

async function pair (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode, push: () => ReturnType<typeof pushToPeer>, indexNas: () => Promise<unknown>, indexLaptop: () => Promise<unknown> }> {
  const root = tempDir('cairn-keeps-edit-')
  mkdirSync(join(root, 'photos')); mkdirSync(join(root, 'nas-photos'))
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  await nas.start({ pushFrameDeadlineMs: 2000 })
  await nas.initVolumes()
  await laptop.start()
  enroll(laptop, nas); enroll(nas, laptop)
  const nasRow = laptop.store.nodes.byNodeId(nas.key.nodeId)!
  const lv = laptop.config.volumes.get('photos')!
  const nv = nas.config.volumes.get('photos')!
  return {
    root,
    laptop,
    nas,
    push: async () => await pushToPeer({ store: laptop.store, volume: lv, peer: nasRow, host: laptop.node!.host, logger: laptop.logger }),
    indexNas: async () => await indexVolume({ store: nas.store, volume: nv, quick: false, logger: nas.logger }),
    indexLaptop: async () => await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
  }
}

function nasCustody (p: Awaited<ReturnType<typeof pair>>): Array<{ originRunId: number, exceptions: Array<{ path: string, run: number }> }> {
  const vol = p.nas.store.volumes.get('photos')!
  return p.nas.store.vector.list(vol.id).filter(c => c.destination === p.nas.key.nodeId) as any
}

describe('a receiver keeps what it does not own (invariant 25)', () => {
  it('never replaces an unindexed or indexed local edit: a conflict at every push, kept, listed in status, a hole in the receipt, until the receiver resolves it', async () => {
    const p = await pair()
    writeFileSync(join(p.root, 'photos/a.txt'), 'v1 from the laptop')
    writeFileSync(join(p.root, 'photos/b.txt'), 'another file')
    await p.indexLaptop()
    expect((await p.push()).status).toBe('success')

    // the nas user edits the file (not yet indexed on nas)
    await new Promise(r => setTimeout(r, 20))
    writeFileSync(join(p.root, 'nas-photos/a.txt'), 'NEWER edit made on the nas')
    for (let i = 0; i < 2; i++) {
      const r = await p.push()
      expect(r.status).toBe('partial')
      expect(r.failures).toEqual([expect.objectContaining({ path: 'a.txt', code: 'conflict' })])
      expect(readFileSync(join(p.root, 'nas-photos/a.txt'), 'utf8')).toBe('NEWER edit made on the nas')
    }
    const s1 = nodeStatus(p.nas.store, p.nas.config, p.nas.store.clock.nowNs())
    expect(s1.volumes[0]).toMatchObject({ files: { conflict: 1 }, conflicts: [{ path: 'a.txt', pusher: 'laptop', kind: 'local-edit' }] })
    expect(s1.ok).toBe(false)
    // the receipt does not cover the laptop's version of a.txt: an exception of nas's custody
    const runOfA = p.laptop.store.files.live(p.laptop.store.volumes.get('photos')!.id).get('a.txt')!.originRunId
    expect(nasCustody(p).some(c => c.exceptions.some(h => h.path === 'a.txt' && h.run === runOfA))).toBe(true)
    // the laptop holds no placement of a.txt at nas, so its gate refuses it
    expect(p.laptop.store.placements.forVolume(p.nas.key.nodeId, p.laptop.store.volumes.get('photos')!.id).has('a.txt')).toBe(false)

    // the nas indexes its edit: it is the nas's own version now, newer than what the laptop offers
    await p.indexNas()
    const r3 = await p.push()
    expect(r3.status).toBe('partial')
    expect(r3.failures).toEqual([expect.objectContaining({ path: 'a.txt', code: 'conflict' })])
    expect(readFileSync(join(p.root, 'nas-photos/a.txt'), 'utf8')).toBe('NEWER edit made on the nas')
    expect(existsSync(join(p.root, 'nas-photos/.cairn-history'))).toBe(false)
    expect(nodeStatus(p.nas.store, p.nas.config, p.nas.store.clock.nowNs()).volumes[0]?.conflicts).toMatchObject([{ path: 'a.txt', kind: 'diverged' }])

    // the nas user resolves it by moving the edit away and indexing: the next push lands
    writeFileSync(join(p.root, 'nas-photos/a-mine.txt'), readFileSync(join(p.root, 'nas-photos/a.txt')))
    rmSync(join(p.root, 'nas-photos/a.txt'))
    await p.indexNas()
    const r4 = await p.push()
    expect(r4.failures).toEqual([])
    expect(r4.status).toBe('success')
    expect(readFileSync(join(p.root, 'nas-photos/a.txt'), 'utf8')).toBe('v1 from the laptop')
    expect(nodeStatus(p.nas.store, p.nas.config, p.nas.store.clock.nowNs()).volumes[0]?.conflicts).toEqual([])
  }, 60_000)

  it('takes the pusher\'s edit of the version it holds (a descendant is no conflict) and keeps the old bytes in history', async () => {
    const p = await pair()
    writeFileSync(join(p.root, 'photos/a.txt'), 'v1')
    await p.indexLaptop()
    expect((await p.push()).status).toBe('success')
    await new Promise(r => setTimeout(r, 20))
    writeFileSync(join(p.root, 'photos/a.txt'), 'v2, edited on the laptop')
    await p.indexLaptop()
    const r = await p.push()
    expect(r.failures).toEqual([])
    expect(r.status).toBe('success')
    expect(readFileSync(join(p.root, 'nas-photos/a.txt'), 'utf8')).toBe('v2, edited on the laptop')
    expect(existsSync(join(p.root, 'nas-photos/.cairn-history'))).toBe(true)
  }, 60_000)

  it('resolves a conflict the other way: the receiver pushes its own edit back, and the first node takes it as an edit of its version (replaces)', async () => {
    const p = await pair()
    writeFileSync(join(p.root, 'photos/a.txt'), 'v1 from the laptop')
    await p.indexLaptop()
    expect((await p.push()).status).toBe('success')
    await new Promise(r => setTimeout(r, 20))
    writeFileSync(join(p.root, 'nas-photos/a.txt'), 'the nas edit, kept')
    await p.indexNas()
    expect((await p.push()).failures).toEqual([expect.objectContaining({ path: 'a.txt', code: 'conflict' })])
    // nas → laptop: the nas version says it replaces v1, which is what the laptop holds
    const back = await pushToPeer({ store: p.nas.store, volume: p.nas.config.volumes.get('photos')!, peer: p.nas.store.nodes.byNodeId(p.laptop.key.nodeId)!, host: p.nas.node!.host, logger: p.nas.logger })
    expect(back.failures).toEqual([])
    expect(back.status).toBe('success')
    expect(readFileSync(join(p.root, 'photos/a.txt'), 'utf8')).toBe('the nas edit, kept')
    // and the next laptop → nas push agrees: no conflict left on either side
    const again = await p.push()
    expect(again.failures).toEqual([])
    expect(again.status).toBe('success')
    expect(nodeStatus(p.nas.store, p.nas.config, p.nas.store.clock.nowNs()).volumes[0]?.conflicts).toEqual([])
  }, 60_000)

  it('keeps an unindexed file in the way of a new path (occupied), and takes one that already is the planned version (a crash between commit and index heals)', async () => {
    const p = await pair()
    writeFileSync(join(p.root, 'photos/c.txt'), 'same bytes on both')
    writeFileSync(join(p.root, 'photos/d.txt'), 'the laptop\'s d')
    await p.indexLaptop()
    writeFileSync(join(p.root, 'nas-photos/c.txt'), 'same bytes on both')
    writeFileSync(join(p.root, 'nas-photos/d.txt'), 'the nas user\'s own d, never indexed')
    const r = await p.push()
    expect(r.failures).toEqual([expect.objectContaining({ path: 'd.txt', code: 'conflict' })])
    expect(readFileSync(join(p.root, 'nas-photos/d.txt'), 'utf8')).toBe('the nas user\'s own d, never indexed')
    expect(p.laptop.store.placements.forVolume(p.nas.key.nodeId, p.laptop.store.volumes.get('photos')!.id).has('c.txt')).toBe(true)
    expect(nodeStatus(p.nas.store, p.nas.config, p.nas.store.clock.nowNs()).volumes[0]?.conflicts).toMatchObject([{ path: 'd.txt', kind: 'occupied' }])
    expect(existsSync(join(p.root, 'nas-photos/.cairn-history'))).toBe(false)
  }, 60_000)

  it('holds a file whose mtime alone changed (re-hashed, same bytes) instead of failing at every push', async () => {
    const p = await pair()
    writeFileSync(join(p.root, 'photos/a.txt'), 'v1')
    await p.indexLaptop()
    expect((await p.push()).status).toBe('success')
    const { utimesSync } = await import('node:fs')
    utimesSync(join(p.root, 'nas-photos/a.txt'), 1_700_000_000, 1_700_000_000)
    for (let i = 0; i < 2; i++) {
      const r = await p.push()
      expect(r.failures).toEqual([])
      expect(r.status).toBe('success')
    }
  }, 60_000)
})
