import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume, type OffloadReport } from '../../src/offload/offload.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

/**
 * DESIGN invariant 29 with two real nodes on 127.0.0.1 that back each other up: laptop and
 * nas each push `photos` to the other and require the other for offload.
 */

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

const FILE = '2019/p.jpg'
const BYTES = 'the only photo of the summer'

interface Pair { root: string, laptop: InProcessNode, nas: InProcessNode, lapPath: string, nasPath: string }

async function mutualBackup (): Promise<Pair> {
  const root = tempDir('cairn-mutual-')
  mkdirSync(join(root, 'photos/2019'), { recursive: true })
  mkdirSync(join(root, 'nas-photos'))
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\noffload_requires = ["nas"]\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\npush_to = ["laptop"]\noffload_requires = ["laptop"]\n`)
  nodes.push(laptop, nas)
  // each operator marks its volume directory: `cairn volume init photos`
  await laptop.initVolumes()
  await nas.initVolumes()
  await laptop.start({ pushFrameDeadlineMs: 2000, holdDeadlineMs: 2000 })
  await nas.start({ pushFrameDeadlineMs: 2000, holdDeadlineMs: 2000 })
  enroll(laptop, nas)
  enroll(nas, laptop)
  writeFileSync(join(root, 'photos', FILE), BYTES)
  await indexVolume({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, quick: false, logger: laptop.logger })
  await push(laptop, nas)
  await push(nas, laptop)
  return { root, laptop, nas, lapPath: join(root, 'photos', FILE), nasPath: join(root, 'nas-photos', FILE) }
}

async function push (from: InProcessNode, to: InProcessNode): Promise<void> {
  const r = await pushToPeer({ store: from.store, volume: from.config.volumes.get('photos')!, peer: from.store.nodes.byNodeId(to.key.nodeId)!, host: from.node!.host, logger: from.logger })
  expect(r.status, `push ${from.name} -> ${to.name}: ${r.error ?? ''}`).toBe('success')
}

async function offload (n: InProcessNode, over: Partial<Parameters<typeof offloadVolume>[0]> = {}): Promise<OffloadReport> {
  const volume = n.config.volumes.get('photos')!
  return await offloadVolume({ store: n.store, config: n.config, volume, selectors: ['2019'], dryRun: false, perFile: true, logger: n.logger, host: n.node?.host, ...over })
}

/** The setup is only meaningful if both gates pass the file: fail loudly, never skip. */
async function expectGatesPass (p: Pair): Promise<void> {
  for (const n of [p.laptop, p.nas]) {
    const dry = await offload(n, { dryRun: true })
    expect(dry.durable, `the gate on ${n.name} does not pass ${FILE} in this setup (groups: ${JSON.stringify(dry.groups)}); this test needs a gate that does`).toBe(1)
  }
}

const survives = (p: Pair): boolean => [p.lapPath, p.nasPath].some(x => existsSync(x) && readFileSync(x, 'utf8') === BYTES)

describe('holds between two nodes that back each other up', () => {
  it('refuses a hold while the custodian\'s volume root is not its disk (its marker gone, the same files there), so nothing is offloaded on it', async () => {
    const p = await mutualBackup()
    await expectGatesPass(p)
    rmSync(join(p.root, 'nas-photos', '.cairn-volume'))
    const r = await offload(p.laptop)
    expect(r.offloaded).toBe(0)
    expect(r.groups.map(g => `${g.target}:${g.cause}`)).toEqual(['nas:not-held'])
    expect(readFileSync(p.lapPath, 'utf8')).toBe(BYTES)
    expect(p.nas.logs.records.filter(x => x.msg === 'refused a hold: the volume root is not this volume\'s disk').map(x => x.fields?.error)).toEqual(['VolumeMarkerError'])
  }, 30_000)

  it('two nodes that back each other up cannot both offload the copy the other relies on', async () => {
    const p = await mutualBackup()
    await expectGatesPass(p)
    const [l, n] = await Promise.all([offload(p.laptop), offload(p.nas)])
    expect(l.offloaded + n.offloaded).toBeLessThanOrEqual(1)
    expect(survives(p)).toBe(true)
    // each refusal names its own cause
    for (const r of [l, n]) if (r.offloaded === 0) expect(r.groups.map(g => g.cause)).toContain('not-held')
    // and nothing stays locked once both runs ended
    for (const x of [p.laptop, p.nas]) expect(x.store.holds.liveIntentPaths(x.store.volumes.get('photos')!.id, x.store.clock.nowNs()).size).toBe(0)
  }, 30_000)

  it('after one node offloads on the other\'s hold, the other refuses to offload the copy it promised to keep, and later finds nothing to rely on', async () => {
    const p = await mutualBackup()
    await expectGatesPass(p)
    const l = await offload(p.laptop, { holdDurationMs: 1500 })
    expect(l).toMatchObject({ status: 'success', offloaded: 1 })
    expect(existsSync(p.lapPath)).toBe(false)

    const n = await offload(p.nas)
    expect(n.offloaded).toBe(0)
    expect(n.groups).toEqual([expect.objectContaining({ target: 'laptop', cause: 'held-for-peer', files: 1, summary: '1 file: held for laptop\'s offload' })])
    expect(n.requirements).toEqual([{ target: 'laptop', satisfied: 0, blocked: 1 }])
    expect(n.files?.[0]).toMatchObject({ path: FILE, outcome: 'not-durable' })

    await new Promise(resolve => setTimeout(resolve, 1600)) // laptop's hold on nas ends
    const later = await offload(p.nas)
    expect(later.offloaded).toBe(0)
    expect(later.groups).toEqual([expect.objectContaining({ target: 'laptop', cause: 'not-held', detail: 'laptop has no present copy of this content at this path' })])
    expect(readFileSync(p.nasPath, 'utf8')).toBe(BYTES)
  }, 30_000)

  it('refuses files relying on a peer that cannot hold them, with advice to start cairn serve there', async () => {
    const p = await mutualBackup()
    await expectGatesPass(p)
    await p.nas.node!.stop()
    const r = await offload(p.laptop)
    expect(r.offloaded).toBe(0)
    expect(r.groups).toEqual([expect.objectContaining({
      target: 'nas', cause: 'not-held', detail: 'nas is not reachable to hold this file',
      advice: 'nas is not reachable to hold these files; start `cairn serve` on nas and run the offload again'
    })])
    expect(readFileSync(p.lapPath, 'utf8')).toBe(BYTES)
    // no host at all: the same refusal, and a dry run asks nobody
    expect((await offload(p.laptop, { host: undefined })).groups.map(g => g.cause)).toEqual(['not-held'])
    expect((await offload(p.laptop, { dryRun: true })).groups).toEqual([])
  }, 30_000)

  it('a receiver does not replace a file it holds for a peer: the push fails for that file and the held bytes stay', async () => {
    const p = await mutualBackup()
    const nasVol = p.nas.store.volumes.get('photos')!.id
    const laptopRow = p.nas.store.nodes.byNodeId(p.laptop.key.nodeId)!
    const live = p.nas.store.files.live(nasVol).get(FILE)!
    expect(p.nas.store.holds.grant(nasVol, laptopRow.id, [{ path: FILE, hash: live.hash }], p.nas.store.clock.nowNs() + 60e9).granted).toHaveLength(1)
    writeFileSync(p.lapPath, 'an edited photo, other bytes')
    await indexVolume({ store: p.laptop.store, volume: p.laptop.config.volumes.get('photos')!, quick: false, logger: p.laptop.logger })
    const r = await pushToPeer({ store: p.laptop.store, volume: p.laptop.config.volumes.get('photos')!, peer: p.laptop.store.nodes.byNodeId(p.nas.key.nodeId)!, host: p.laptop.node!.host, logger: p.laptop.logger })
    expect(r.status).toBe('partial')
    expect(r.failures.map(f => f.path)).toEqual([FILE])
    expect(readFileSync(p.nasPath, 'utf8')).toBe(BYTES)
    expect(p.nas.logs.messages('warn')).toContain('not replacing a file this node holds for a peer')
  }, 30_000)
})
