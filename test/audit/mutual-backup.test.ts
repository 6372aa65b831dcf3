/**
 * Regression for issue 12's "tried as a user would": laptop and nas back each other up (each
 * pushes `photos` to the other and requires the other for offload). nas offloads 2019/p.jpg
 * because laptop holds it; then laptop offloads 2019/ on nas's old receipt. Both exited 0 and
 * p.jpg was gone from both. DESIGN invariants 19 and 29: a node's custody counts only bytes on
 * its own disk (a receiver's offload is a hole in its custody), and offloading on a peer's
 * custody takes a hold first, which a peer that no longer holds (or is offloading) the files
 * refuses.
 *
 * Two in-process nodes with real stores and real libp2p on 127.0.0.1.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume, type OffloadInit, type OffloadReport } from '../../src/offload/offload.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { pullVolume } from '../../src/pull/pull.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const P = '2019/p.jpg'
const BYTES = 'the only photo of grandma'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

async function mutualBackup () {
  const root = tempDir('cairn-audit-mutual-')
  const dirs = { laptop: join(root, 'laptop-photos'), nas: join(root, 'nas-photos') }
  mkdirSync(join(dirs.laptop, '2019'), { recursive: true })
  mkdirSync(dirs.nas, { recursive: true })
  const toml = (path: string, other: string): string => `[volumes.photos]\npath = "${path}"\npush_to = ["${other}"]\noffload_requires = ["${other}"]\n`
  const laptop = inProcessNode(root, 'laptop', toml(dirs.laptop, 'nas'))
  const nas = inProcessNode(root, 'nas', toml(dirs.nas, 'laptop'))
  nodes.push(laptop, nas)
  // each operator marks its volume directory: `cairn volume init photos`
  await laptop.initVolumes()
  await nas.initVolumes()
  await laptop.start()
  await nas.start()
  enroll(laptop, nas)
  enroll(nas, laptop)
  const vol = (n: InProcessNode) => n.config.volumes.get('photos')!
  const index = async (n: InProcessNode): Promise<void> => { await indexVolume({ store: n.store, volume: vol(n), quick: false, logger: n.logger }) }
  const push = async (from: InProcessNode, to: InProcessNode) => {
    const peer = from.store.nodes.byNodeId(to.key.nodeId)!
    const r = await pushToPeer({ store: from.store, volume: vol(from), peer, host: from.node!.host, logger: from.logger })
    expect(r.status).toBe('success')
    return r
  }
  const offload = async (n: InProcessNode, dryRun = false): Promise<OffloadReport> => await offloadVolume({
    store: n.store, config: n.config, volume: vol(n), selectors: ['2019'], dryRun, perFile: true, logger: n.logger,
    host: n.node!.host // a hold needs the peer (a field being added to OffloadInit)
  } as OffloadInit)
  const pull = async (n: InProcessNode, from: InProcessNode) => await pullVolume({
    store: n.store, config: n.config, host: n.node!.host, peer: n.store.nodes.byNodeId(from.key.nodeId)!, volume: 'photos', allowRewind: false, logger: n.logger
  })
  /** Where the exact bytes of p.jpg still are. */
  const copies = (): string[] => Object.entries(dirs)
    .filter(([, d]) => existsSync(join(d, P)) && readFileSync(join(d, P), 'utf8') === BYTES).map(([name]) => name)

  // laptop's photo, backed up to nas; nas backs its copy up to laptop
  writeFileSync(join(dirs.laptop, P), BYTES)
  await index(laptop)
  await push(laptop, nas)
  expect(copies()).toEqual(['laptop', 'nas'])
  await index(nas)
  await push(nas, laptop)
  return { laptop, nas, dirs, index, push, offload, pull, copies }
}

describe('audit: two nodes that back each other up never both delete the same file', () => {
  it('keeps p.jpg on at least one node when nas offloads it because laptop holds it and laptop then offloads 2019/ on nas\'s old receipt', async () => {
    const m = await mutualBackup()
    const first = await m.offload(m.nas)
    expect(first.status).not.toBe('failed')
    const second = await m.offload(m.laptop)
    expect(second.status).not.toBe('failed')
    expect(m.copies().length).toBeGreaterThanOrEqual(1)
    // nas's copy went first (laptop held it), so laptop's is the one that must stay
    if (!m.copies().includes('nas')) {
      expect(second.offloaded).toBe(0)
      expect(m.copies()).toEqual(['laptop'])
    }
  })

  it('retracts nas\'s custody of p.jpg at laptop once laptop pulls nas after nas offloaded it, and laptop\'s gate refuses it', async () => {
    const m = await mutualBackup()
    const lapVol = m.laptop.store.volumes.get('photos')!.id
    const nasKey = m.nas.key.nodeId
    const historyAboutNas = (): number => m.laptop.store.vector.history(lapVol).filter(r => r.destination === nasKey).length
    const first = await m.offload(m.nas)
    expect(first.offloaded).toBe(1)
    expect(m.copies()).toEqual(['laptop'])
    const before = historyAboutNas()
    const pulled = await m.pull(m.laptop, m.nas)
    expect(pulled.status).toBe('success')
    // the retraction is applied and audited at laptop, never silently
    expect(historyAboutNas()).toBeGreaterThan(before)
    const dry = await m.offload(m.laptop, true)
    expect(dry.durable).toBe(0)
    expect(dry.groups.map(g => g.target)).toContain('nas')
    const real = await m.offload(m.laptop)
    expect(real.offloaded).toBe(0)
    expect(m.copies()).toEqual(['laptop'])
  })

  it('keeps p.jpg on at least one node when both nodes offload 2019/ at the same time', async () => {
    const m = await mutualBackup()
    const [a, b] = await Promise.all([m.offload(m.nas), m.offload(m.laptop)])
    expect(a.status).not.toBe('failed')
    expect(b.status).not.toBe('failed')
    expect(m.copies().length).toBeGreaterThanOrEqual(1)
  })

  it('still lets nas offload p.jpg while laptop holds it (a gate that never opens is a failure too)', async () => {
    const m = await mutualBackup()
    const r = await m.offload(m.nas)
    expect(r.offloaded).toBe(1)
    expect(m.copies()).toEqual(['laptop'])
  })
})
