import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import type { NodeRow } from '../../src/store/nodes.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { gateFile } from '../../src/offload/gate.js'
import { loadGatePolicy } from '../../src/offload/gate-policy.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

async function twoNodes (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode, nasRow: NodeRow, write: (p: string, c: string) => void }> {
  const root = tempDir('cairn-peerpush-')
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'nas-photos'))
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  await nas.initVolumes() // its operator marks the (empty) volume directory: `cairn volume init photos`
  await nas.start({ pushFrameDeadlineMs: 2000 })
  await laptop.start()
  enroll(laptop, nas)
  enroll(nas, laptop)
  const nasRow = laptop.store.nodes.byNodeId(nas.key.nodeId)!
  const write = (p: string, c: string): void => {
    const abs = join(root, 'photos', p)
    mkdirSync(join(abs, '..'), { recursive: true })
    writeFileSync(abs, c)
  }
  return { root, laptop, nas, nasRow, write }
}

async function index (n: InProcessNode): Promise<number> {
  return (await indexVolume({ store: n.store, volume: n.config.volumes.get('photos')!, quick: false, logger: n.logger })).runId
}

describe('peer push', () => {
  it('replicates a volume; the receiver indexes it with the origin preserved and answers with a receipt the pusher records as the peer\'s', async () => {
    const { root, laptop, nas, nasRow, write } = await twoNodes()
    write('2019/p1.jpg', 'photo one')
    write('2019/p2.jpg', 'photo two')
    const run = await index(laptop)
    const r = await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    expect(r).toMatchObject({ status: 'success', filesSent: 2, bytesSent: 18, method: 'peer-sha256' })
    expect(readFileSync(join(root, 'nas-photos/2019/p1.jpg'), 'utf8')).toBe('photo one')
    // origin preserved at the receiver
    const nasVol = nas.store.volumes.get('photos')!
    const received = nas.store.files.live(nasVol.id).get('2019/p1.jpg')!
    expect(nas.store.nodes.byRowId(received.originNodeId)?.nodeId).toBe(laptop.key.nodeId)
    expect(received.originRunId).toBe(run)
    // the receiver's own evidence about itself, and the pusher's record of the receipt
    expect(nas.store.vector.get(nasVol.id, nas.key.nodeId, received.originNodeId)).toMatchObject({ originRunId: run, verifyMethod: 'peer-sha256', sourceNodeId: null })
    const lapVol = laptop.store.volumes.get('photos')!
    const c = laptop.store.vector.get(lapVol.id, nas.key.nodeId, laptop.store.nodes.self().id)
    expect(c).toMatchObject({ originRunId: run, verifyMethod: 'peer-sha256', sourceNodeId: nasRow.id })
    expect(c?.assertionId).not.toBeNull()
    expect(laptop.store.assertions.get(c!.assertionId!)?.receiptFor).toBe(r.runId)
  })

  it('never sends the bytes behind a symlink swapped in for an indexed file', async () => {
    const { root, laptop, nasRow, write } = await twoNodes()
    write('doc.txt', 'the user file, 29 bytes long!')
    await index(laptop)
    const outside = join(root, 'secret')
    writeFileSync(outside, 'SECRET outside the volume 29b')
    rmSync(join(root, 'photos/doc.txt'))
    symlinkSync(outside, join(root, 'photos/doc.txt'))
    const r = await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    // refused at the open (O_NOFOLLOW): not one byte of the target went on the wire
    expect(r).toMatchObject({ status: 'failed', filesSent: 0, bytesSent: 0 })
    expect(existsSync(join(root, 'nas-photos/doc.txt'))).toBe(false)
  })

  it('transfers only the file added since the last push, and copies a content it already holds locally', async () => {
    const { root, laptop, nasRow, write } = await twoNodes()
    write('a', 'aaaa')
    write('b', 'bbbb')
    await index(laptop)
    const volume = laptop.config.volumes.get('photos')!
    await pushToPeer({ store: laptop.store, volume, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    write('c', 'a brand new file')
    write('copy-of-a', 'aaaa')
    await index(laptop)
    const r = await pushToPeer({ store: laptop.store, volume, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    expect(r).toMatchObject({ status: 'success', filesSent: 1, bytesSent: 16, filesSkipped: 3 })
    expect(readFileSync(join(root, 'nas-photos/copy-of-a'), 'utf8')).toBe('aaaa')
  })

  it('copies a content it holds at a path the same push replaces from the old bytes, before the new ones land (found by the simulator)', async () => {
    const { root, laptop, nasRow, write } = await twoNodes()
    write('misc/t5.jpg', 'the first bytes')
    await index(laptop)
    const volume = laptop.config.volumes.get('photos')!
    expect((await pushToPeer({ store: laptop.store, volume, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })).status).toBe('success')
    // one push: s1 has t5's old content (a local copy at nas), t5 gets new content
    write('2020/s1.jpg', 'the first bytes')
    write('misc/t5.jpg', 'the second bytes')
    await index(laptop)
    const r = await pushToPeer({ store: laptop.store, volume, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    expect(r.failures).toEqual([])
    expect(r.status).toBe('success')
    expect(readFileSync(join(root, 'nas-photos/2020/s1.jpg'), 'utf8')).toBe('the first bytes')
    expect(readFileSync(join(root, 'nas-photos/misc/t5.jpg'), 'utf8')).toBe('the second bytes')
  })

  it('never counts a file whose bytes do not hash to the planned hash: the run is partial, the file is not placed at the peer, and the gate refuses it', async () => {
    const { root, laptop, nas, nasRow, write } = await twoNodes()
    write('honest', 'fine')
    write('lie', 'the plan says one thing')
    await index(laptop)
    const r = await pushToPeer({
      store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: nasRow, host: laptop.node!.host, logger: laptop.logger,
      hooks: { tamper: (path, chunk) => path === 'lie' ? Buffer.from('the wire says another!!') : chunk }
    })
    expect(r.status).toBe('partial')
    expect(r.failures.map(f => f.path)).toEqual(['lie'])
    expect(existsSync(join(root, 'nas-photos/lie'))).toBe(false)
    expect(readFileSync(join(root, 'nas-photos/honest'), 'utf8')).toBe('fine')
    // nas's custody (its own signature) covers what it holds; the lie is placed nowhere
    const lapVol = laptop.store.volumes.get('photos')!
    const placed = laptop.store.placements.forVolume(nas.key.nodeId, lapVol.id)
    expect([...placed.keys()]).toEqual(['honest'])
    const config = { ...laptop.config, volumes: new Map([['photos', { ...laptop.config.volumes.get('photos')!, pushTo: ['nas'], offloadRequires: ['nas'] }]]) }
    const policy = loadGatePolicy(laptop.store, config, config.volumes.get('photos')!, laptop.store.clock.nowNs())
    const verdict = new Map([...laptop.store.files.iterateGateRows(lapVol.id)].map(f => [f.path, gateFile(policy, f).map(x => x.cause)]))
    expect(verdict.get('honest')).toEqual([])
    expect(verdict.get('lie')).toEqual(['not-pushed'])
  })

  it('refuses a push for a volume the receiver does not declare, before any plan is sent', async () => {
    const { laptop, nasRow, write, root } = await twoNodes()
    write('a', '1')
    const music = { name: 'music', path: join(root, 'photos'), pushTo: [], offloadRequires: [], offloadMaxEvidenceAgeMs: undefined }
    const r = await pushToPeer({ store: laptop.store, volume: music, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    expect(r).toMatchObject({ status: 'refused' })
    expect(r.error).toContain('UNKNOWN_VOLUME')
  })

  it('streams a file larger than every buffer and window while the receiver writes slower than the sender sends', async () => {
    const { root, laptop, nas, nasRow } = await twoNodes()
    writeFileSync(join(root, 'photos/big.bin'), Buffer.alloc(96 * 1024 * 1024, 5))
    await index(laptop)
    const r = await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    expect(r).toMatchObject({ status: 'success', bytesSent: 96 * 1024 * 1024 })
    expect(readFileSync(join(root, 'nas-photos/big.bin')).equals(readFileSync(join(root, 'photos/big.bin')))).toBe(true)
    expect(nas.logs.records.filter(x => x.level === 'warn')).toEqual([])
  }, 60_000)

  it('leaves no staging file behind after a successful push', async () => {
    const { root, laptop, nasRow, write } = await twoNodes()
    write('a', '1')
    await index(laptop)
    await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    const staging = join(root, 'nas-photos/.cairn-staging')
    expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([])
  })
})
