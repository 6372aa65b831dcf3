import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { whereIs } from '../../src/offload/where.js'
import { parseSelectors } from '../../src/offload/selectors.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { verifyPeer } from '../../src/verify/verify-peer.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

/**
 * Peer verify (`/cairn/verify/1.0.0`) with two real nodes on 127.0.0.1: laptop pushes `photos`
 * to nas, then asks nas to re-read what it holds. The peer's custody advances only by what it
 * really re-read; a file damaged or gone at nas comes down on both sides at once, the gate
 * refuses it, and the next push sends it again.
 */

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

const FILES: Record<string, Buffer> = {
  '2019/01/p1.jpg': Buffer.from('the only photo of the summer'),
  '2019/01/p2.jpg': Buffer.alloc(200_000, 3),
  '2019/02/p3.jpg': Buffer.alloc(100_000, 9)
}

async function pushed (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode, push: () => Promise<void>, verify: (sample?: number) => ReturnType<typeof verifyPeer> }> {
  const root = tempDir('cairn-verify-')
  mkdirSync(join(root, 'photos'), { recursive: true })
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\noffload_requires = ["nas"]\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  await laptop.initVolumes()
  await nas.initVolumes()
  await laptop.start()
  await nas.start({ pushFrameDeadlineMs: 5000, verifyFrameDeadlineMs: 5000, verifyProgressMs: 100 })
  enroll(laptop, nas)
  enroll(nas, laptop)
  for (const [p, bytes] of Object.entries(FILES)) {
    mkdirSync(join(root, 'photos', p, '..'), { recursive: true })
    writeFileSync(join(root, 'photos', p), bytes)
    // whole seconds, so a test can put an mtime back exactly (as bit rot leaves it)
    utimesSync(join(root, 'photos', p), 1_700_000_000, 1_700_000_000)
  }
  const volume = laptop.config.volumes.get('photos')!
  const peer = laptop.store.nodes.byNodeId(nas.key.nodeId)!
  await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
  const push = async (): Promise<void> => {
    const r = await pushToPeer({ store: laptop.store, volume, peer, host: laptop.node!.host, logger: laptop.logger })
    expect(r.status, r.error ?? '').toBe('success')
  }
  await push()
  const verify = async (sample = 0) => await verifyPeer({ store: laptop.store, config: laptop.config, host: laptop.node!.host, volume, peer, sample, logger: laptop.logger, frameDeadlineMs: 5000 })
  return { root, laptop, nas, push, verify }
}

/** What the laptop's gate says of each file about nas. */
function heldAtNas (laptop: InProcessNode): Record<string, { held: boolean, at: number | null, cause: string | null }> {
  const volume = laptop.config.volumes.get('photos')!
  const out: Record<string, { held: boolean, at: number | null, cause: string | null }> = {}
  for (const e of whereIs(laptop.store, laptop.config, volume, parseSelectors(['.'], undefined, Date.now() * 1e6), { offloadedOnly: false, nowNs: Date.now() * 1e6 })) {
    const h = e.held_by.find(x => x.target === 'nas')
    out[e.path] = { held: h !== undefined, at: h?.verified_at_ns ?? null, cause: e.not_held_by.find(x => x.target === 'nas')?.cause ?? null }
  }
  return out
}

describe('verify --at PEER', () => {
  it('advances the peer\'s custody only by a real re-read of everything it covers', async () => {
    const { laptop, nas, verify } = await pushed()
    const before = heldAtNas(laptop)
    expect(Object.values(before).every(h => h.held)).toBe(true)
    const t0 = before['2019/01/p1.jpg']?.at ?? 0

    // one file re-read out of three: the claim's verified_at is the oldest read behind it, unchanged
    const sampled = await verify(1)
    expect(sampled.status, sampled.error ?? '').toBe('success')
    expect(sampled.checked).toBe(1)
    expect(heldAtNas(laptop)['2019/01/p1.jpg']?.at).toBe(t0)
    // nas recorded the sample as its own run, naming who asked
    const sampleRun = nas.store.runs.get(sampled.peerRun)
    expect(sampleRun.kind).toBe('index')
    expect(sampleRun.detail).toMatchObject({ requested_by: 'laptop', sample: 1 })

    // everything re-read: the claim is as young as the oldest of the new reads
    const started = Date.now() * 1e6
    const full = await verify()
    expect(full.status, full.error ?? '').toBe('success')
    expect(full.checked).toBe(3)
    expect(full.bytesChecked).toBe(Object.values(FILES).reduce((n, b) => n + b.length, 0))
    const after = heldAtNas(laptop)
    for (const h of Object.values(after)) {
      expect(h.held).toBe(true)
      expect(h.at ?? 0).toBeGreaterThanOrEqual(started)
    }
    expect(laptop.store.runs.get(full.runId)).toMatchObject({ kind: 'verify', status: 'success', destination: nas.key.nodeId })
  }, 60_000)

  it('retracts a file damaged at the peer on both sides, and the next push sends it again', async () => {
    const { root, laptop, nas, push, verify } = await pushed()
    // bit rot at nas: other bytes, the same size and mtime
    const at = join(root, 'nas-photos', '2019/01/p2.jpg')
    const st = statSync(at)
    writeFileSync(at, Buffer.alloc(st.size, 0x77))
    utimesSync(at, 1_700_000_000, 1_700_000_000)
    expect(statSync(at).mtimeMs).toBe(st.mtimeMs)

    const r = await verify()
    expect(r.status).toBe('failed')
    expect([r.mismatched, r.missing]).toEqual([1, 0])
    expect(r.problems).toEqual([{ path: '2019/01/p2.jpg', problem: 'mismatched' }])
    expect(r.error).toMatch(/their evidence is retracted until a push places them again/)
    // the damaged bytes were moved aside at nas, never deleted
    const nasRun = nas.store.runs.get(r.peerRun)
    expect(nasRun.detail).toMatchObject({ damaged: 1, requested_by: 'laptop' })
    // laptop's gate refuses exactly that file now; the others still pass
    const held = heldAtNas(laptop)
    expect(held['2019/01/p2.jpg']).toMatchObject({ held: false, cause: 'custody-hole' })
    expect(held['2019/01/p1.jpg']?.held).toBe(true)
    expect(held['2019/02/p3.jpg']?.held).toBe(true)

    await push()
    expect(readFileSync(at).equals(FILES['2019/01/p2.jpg']!)).toBe(true)
    const again = await verify()
    expect(again.status, again.error ?? '').toBe('success')
    expect(Object.values(heldAtNas(laptop)).every(h => h.held)).toBe(true)
  }, 60_000)

  it('finds bit rot behind the size, times and inode nas recorded at its own last read, and heals it with the next push', async () => {
    const { root, laptop, nas, push, verify } = await pushed()
    // nas reads its copy once itself (recording ctime and inode), and a second push holds every file
    const nasVolume = nas.config.volumes.get('photos')!
    await indexVolume({ store: nas.store, volume: nasVolume, quick: false, logger: nas.logger })
    const vol = nas.store.volumes.get('photos')!.id
    const row = () => nas.store.files.listLive(vol).find(f => f.path === '2019/02/p3.jpg')!
    const read = { ctimeNs: row().ctimeNs, ino: row().ino, readAtNs: row().readAtNs }
    expect(read.ctimeNs).not.toBeNull()
    await push()
    // a held file keeps what its last real read saw, so a quick index at nas trusts all of them
    // (the reads are moved a minute back from the files' times: none is "racy")
    expect({ ctimeNs: row().ctimeNs, ino: row().ino, readAtNs: row().readAtNs }).toEqual(read)
    nas.store.db.prepare('UPDATE files SET read_at_ns = read_at_ns + 60000000000').run()
    expect((await indexVolume({ store: nas.store, volume: nasVolume, quick: true, logger: nas.logger })).filesHashed).toBe(0)

    // bit rot: the bytes change, and size and every time nas recorded stay (the row is aligned
    // with the new stat to model a change no write(2) made)
    const at = join(root, 'nas-photos', '2019/02/p3.jpg')
    writeFileSync(at, Buffer.alloc(statSync(at).size, 0x11))
    const st = statSync(at, { bigint: true })
    nas.store.db.prepare('UPDATE files SET mtime_ns = ?, ctime_ns = ?, ino = ? WHERE id = ?').run(Number(st.mtimeNs), Number(st.ctimeNs), st.ino.toString(), row().id)
    // a quick index cannot see it; the gate still passes the file on nas's stale word
    expect((await indexVolume({ store: nas.store, volume: nasVolume, quick: true, logger: nas.logger })).filesHashed).toBe(0)

    const r = await verify()
    expect(r.status).toBe('failed')
    expect(r.problems).toEqual([{ path: '2019/02/p3.jpg', problem: 'mismatched' }])
    expect(heldAtNas(laptop)['2019/02/p3.jpg']).toMatchObject({ held: false, cause: 'custody-hole' })
    await push()
    expect(readFileSync(at).equals(FILES['2019/02/p3.jpg']!)).toBe(true)
    expect((await verify()).status).toBe('success')
  }, 60_000)

  it('retracts a file gone at the peer, found by a sample that then re-reads everything', async () => {
    const { root, laptop, nas, push, verify } = await pushed()
    rmSync(join(root, 'nas-photos', '2019/02/p3.jpg'))
    // a sample of all three files is sure to draw the missing one
    const r = await verify(3)
    expect(r.status).toBe('failed')
    expect(r.problems).toEqual([{ path: '2019/02/p3.jpg', problem: 'missing' }])
    expect(nas.store.runs.get(r.peerRun).detail).toMatchObject({ rehash: 1, requested_by: 'laptop' })
    expect(heldAtNas(laptop)['2019/02/p3.jpg']).toMatchObject({ held: false, cause: 'custody-hole' })
    await push()
    expect((await verify()).status).toBe('success')
  }, 60_000)

  it('is answered BUSY while the peer runs something on the volume, and writes nothing', async () => {
    const { laptop, nas, verify } = await pushed()
    const vol = nas.store.volumes.get('photos')!.id
    const blocking = nas.store.runs.begin({ kind: 'index', volumeId: vol })
    const vectorBefore = laptop.store.vector.list(laptop.store.volumes.get('photos')!.id)
    const r = await verify()
    nas.store.runs.finish(blocking.id, 'success')
    expect(r.status).toBe('failed')
    expect(r.error).toMatch(/answered BUSY.*try again later/)
    expect(laptop.store.vector.list(laptop.store.volumes.get('photos')!.id)).toEqual(vectorBefore)
  }, 60_000)
})
