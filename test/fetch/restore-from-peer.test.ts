import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SelectorMatchesNothingError } from '../../src/errors.js'
import { peerSource } from '../../src/fetch/peer-source.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { restoreFiles } from '../../src/offload/restore.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

/**
 * Restore from any copy, with two real nodes on 127.0.0.1: laptop pushes `photos` to nas,
 * offloads, and brings the files back over `/cairn/fetch/1.0.0` — byte-identical, marked
 * present under a new origin; `--to` and `--dry-run` change nothing in the volume or its rows.
 */

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

const FILES: Record<string, Buffer> = {
  '2019/01/p1.jpg': Buffer.from('the only photo of the summer'),
  '2019/01/big.raw': Buffer.alloc(3 * 1024 * 1024 + 17, 7), // more than one data frame
  '2019/02/empty.txt': Buffer.alloc(0)
}

async function offloaded (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode }> {
  const root = tempDir('cairn-fetch-')
  mkdirSync(join(root, 'photos'), { recursive: true })
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\noffload_requires = ["nas"]\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  await laptop.initVolumes()
  await nas.initVolumes()
  await laptop.start({ holdDeadlineMs: 2000 })
  await nas.start({ pushFrameDeadlineMs: 2000, holdDeadlineMs: 2000, fetchFrameDeadlineMs: 2000 })
  enroll(laptop, nas)
  enroll(nas, laptop)
  for (const [p, bytes] of Object.entries(FILES)) {
    mkdirSync(join(root, 'photos', p, '..'), { recursive: true })
    writeFileSync(join(root, 'photos', p), bytes)
  }
  const volume = laptop.config.volumes.get('photos')!
  await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
  const pushed = await pushToPeer({ store: laptop.store, volume, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, host: laptop.node!.host, logger: laptop.logger })
  expect(pushed.status, pushed.error ?? '').toBe('success')
  const off = await offloadVolume({ store: laptop.store, config: laptop.config, volume, selectors: ['2019'], dryRun: false, perFile: true, logger: laptop.logger, host: laptop.node!.host })
  expect(off.offloaded, `the setup needs every file offloaded (groups: ${JSON.stringify(off.groups)})`).toBe(Object.keys(FILES).length)
  for (const p of Object.keys(FILES)) expect(existsSync(join(root, 'photos', p))).toBe(false)
  return { root, laptop, nas }
}

function fromNas (laptop: InProcessNode, nas: InProcessNode): ReturnType<typeof peerSource> {
  return peerSource({ host: async () => laptop.node!.host, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, directory: '', volume: 'photos', logger: laptop.logger, frameDeadlineMs: 2000 })
}

const rows = (n: InProcessNode): unknown => n.store.db.prepare("SELECT path, status, origin_node_id, origin_run_id FROM files WHERE status <> 'superseded' ORDER BY path").all()

describe('restore --from PEER', () => {
  it('brings offloaded files back from the peer byte-identical and marks them present under a new origin (this node, the restore run)', async () => {
    const { root, laptop, nas } = await offloaded()
    const r = await restoreFiles({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, from: fromNas(laptop, nas), selectors: ['2019'], logger: laptop.logger })
    expect(r.problems).toEqual([])
    expect(r.restored).toBe(3)
    for (const [p, bytes] of Object.entries(FILES)) expect(readFileSync(join(root, 'photos', p)).equals(bytes)).toBe(true)
    const vol = laptop.store.volumes.get('photos')!.id
    const self = laptop.store.nodes.self().id
    for (const f of laptop.store.files.listLive(vol)) {
      expect(f.status).toBe('present')
      expect([f.originNodeId, f.originRunId]).toEqual([self, r.runId])
    }
    expect(laptop.store.runs.get(r.runId!).destination).toBe('nas')
    expect(nas.logs.messages()).toContain('served a fetch')
  }, 60_000)

  it('--to DIR writes the verified bytes under DIR and changes nothing in the volume or its rows', async () => {
    const { root, laptop, nas } = await offloaded()
    const before = rows(laptop)
    const to = join(root, 'elsewhere/deep')
    const r = await restoreFiles({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, from: fromNas(laptop, nas), selectors: ['2019/01'], logger: laptop.logger, to })
    expect(r.restored).toBe(2)
    expect(readFileSync(join(to, '2019/01/p1.jpg')).equals(FILES['2019/01/p1.jpg']!)).toBe(true)
    expect(readFileSync(join(to, '2019/01/big.raw')).equals(FILES['2019/01/big.raw']!)).toBe(true)
    expect(existsSync(join(to, '2019/02'))).toBe(false)
    expect(rows(laptop)).toEqual(before)
    expect(readdirSync(join(root, 'photos')).filter(n => !n.startsWith('.cairn'))).toEqual(['2019'])
    expect(existsSync(join(root, 'photos/2019/01/p1.jpg'))).toBe(false)
    expect(readdirSync(to).filter(n => n.startsWith('.cairn-staging')).flatMap(n => readdirSync(join(to, n)))).toEqual([])
  }, 60_000)

  it('--dry-run says which file would come from where, dials nobody, and writes and records nothing', async () => {
    const { root, laptop, nas } = await offloaded()
    const before = rows(laptop)
    const runs = laptop.store.runs.list().length
    let dialed = false
    const source = peerSource({ host: async () => { dialed = true; return laptop.node!.host }, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, directory: '', volume: 'photos', logger: laptop.logger })
    const r = await restoreFiles({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, from: source, selectors: [], logger: laptop.logger, dryRun: true })
    expect(r.planned.map(p => `${p.path} <- ${p.source}`)).toEqual(['2019/01/big.raw <- nas', '2019/01/p1.jpg <- nas', '2019/02/empty.txt <- nas'])
    expect(r.runId).toBeNull()
    expect(dialed).toBe(false)
    expect(rows(laptop)).toEqual(before)
    expect(laptop.store.runs.list().length).toBe(runs)
    expect(existsSync(join(root, 'photos/2019/01/p1.jpg'))).toBe(false)
  }, 60_000)

  it('a selector that matches nothing is an error naming the closest paths, and restores nothing', async () => {
    const { laptop, nas } = await offloaded()
    const err = await restoreFiles({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, from: fromNas(laptop, nas), selectors: ['2019/01/p2.jpg'], logger: laptop.logger }).catch(e => e)
    expect(err).toBeInstanceOf(SelectorMatchesNothingError)
    expect((err as SelectorMatchesNothingError).closest[0]).toBe('2019/01/p1.jpg')
    expect(laptop.store.runs.list({ kind: 'restore' })).toEqual([])
  }, 60_000)
})
