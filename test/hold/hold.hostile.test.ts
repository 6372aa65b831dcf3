import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { requestHold } from '../../src/hold/client.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { openPeerStream } from '../../src/p2p/dial.js'
import { framed } from '../../src/p2p/frames.js'
import { sealHold } from '../../src/protocol/hold-envelope.js'
import { HOLD_PROTOCOL } from '../../src/protocol/ids.js'
import { MAX_FRAME_BYTES, MAX_HOLD_DURATION_MS, MAX_HOLD_ENTRIES, MAX_HOLD_REQUEST_BYTES } from '../../src/protocol/limits.js'
import { HOLD_NONCE_BYTES, Status, type Hold, type HoldEntry } from '../../src/protocol/messages.js'
import { decodeHoldRequest, decodeHoldResponse, encodeHoldRequest, encodeHoldResponse, holdEntriesDigest } from '../../src/protocol/wire.js'
import type { NodeRow } from '../../src/store/nodes.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'

/**
 * `/cairn/hold/1.0.0` against hostile input: a serving "nas" answers a raw client, and a
 * requesting "laptop" meets a nas that forges its answer. Every bad input ends with a status
 * and no hold recorded on either side.
 */

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

const nonce = new Uint8Array(HOLD_NONCE_BYTES).fill(7)

async function fleet (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode, nasRow: NodeRow, client: Libp2p }> {
  const root = tempDir('cairn-hold-')
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'nas-photos'))
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  await nas.start({ holdDeadlineMs: 2000 })
  enroll(nas, laptop)
  enroll(laptop, nas)
  writeFileSync(join(root, 'nas-photos/a.jpg'), 'alpha')
  writeFileSync(join(root, 'nas-photos/b.jpg'), 'beta')
  await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
  return { root, laptop, nas, nasRow: laptop.store.nodes.byNodeId(nas.key.nodeId)!, client: await laptop.client() }
}

const holdRows = (n: InProcessNode): number => n.store.db.prepare('SELECT count(*) FROM holds').pluck().get() as number

async function rawExchange (client: Libp2p, nasRow: NodeRow, frame: Uint8Array, requested: number): Promise<ReturnType<typeof decodeHoldResponse>> {
  const stream = await openPeerStream(client, nasRow, HOLD_PROTOCOL, AbortSignal.timeout(5000))
  const io = framed(stream, MAX_FRAME_BYTES)
  await io.write(frame, 5000)
  const r = decodeHoldResponse(await io.read('a hold response', MAX_FRAME_BYTES, 5000), requested)
  await stream.close().catch(() => {})
  return r
}

const entry = (path: string, content: string): HoldEntry => ({ path, hash: sha256(content) })

describe('the hold handler refuses bad input with a status and records nothing', () => {
  it('refuses a frame larger than MAX_HOLD_REQUEST_BYTES as TOO_LARGE', async () => {
    const { nas, nasRow, client } = await fleet()
    const r = await rawExchange(client, nasRow, new Uint8Array(MAX_HOLD_REQUEST_BYTES + 1), 0)
    expect(r.status).toBe(Status.TOO_LARGE)
    expect(holdRows(nas)).toBe(0)
  })

  it('refuses garbage as INVALID_REQUEST', async () => {
    const { nas, nasRow, client } = await fleet()
    const r = await rawExchange(client, nasRow, new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02, 0x03]), 0)
    expect(r.status).toBe(Status.INVALID_REQUEST)
    expect(holdRows(nas)).toBe(0)
    expect(nas.logs.messages()).toContain('refused an invalid hold request')
  })

  it('refuses more than MAX_HOLD_ENTRIES entries as TOO_LARGE', async () => {
    const { nas, nasRow, client } = await fleet()
    const entries = Array.from({ length: MAX_HOLD_ENTRIES + 1 }, (_, i) => ({ path: `f${i}`, hash: new Uint8Array(32) }))
    const r = await rawExchange(client, nasRow, encodeHoldRequest({ volume: 'photos', durationMs: 1000, nonce, entries }), 0)
    expect(r.status).toBe(Status.TOO_LARGE)
    expect(holdRows(nas)).toBe(0)
  })

  it('refuses a volume it does not declare as UNKNOWN_VOLUME', async () => {
    const { nas, nasRow, client } = await fleet()
    const r = await rawExchange(client, nasRow, encodeHoldRequest({ volume: 'music', durationMs: 1000, nonce, entries: [entry('a.jpg', 'alpha')] }), 1)
    expect(r.status).toBe(Status.UNKNOWN_VOLUME)
    expect(holdRows(nas)).toBe(0)
  })

  it.each([
    ['a path with ..', { entries: [entry('../a.jpg', 'alpha')] }],
    ['a .cairn path', { entries: [entry('.cairn-history/a.jpg', 'alpha')] }],
    ['a path twice', { entries: [entry('a.jpg', 'alpha'), entry('a.jpg', 'alpha')] }],
    ['a short hash', { entries: [{ path: 'a.jpg', hash: new Uint8Array(31) }] }],
    ['no entries', { entries: [] }],
    ['a hold longer than MAX_HOLD_DURATION_MS', { durationMs: MAX_HOLD_DURATION_MS + 1 }],
    ['a zero duration', { durationMs: 0 }],
    ['a short nonce', { nonce: new Uint8Array(3) }]
  ])('refuses %s as INVALID_REQUEST', async (_what, over) => {
    const { nas, nasRow, client } = await fleet()
    const request = { volume: 'photos', durationMs: 1000, nonce, entries: [entry('a.jpg', 'alpha')], ...over }
    const r = await rawExchange(client, nasRow, encodeHoldRequest(request), request.entries.length)
    expect(r.status).toBe(Status.INVALID_REQUEST)
    expect(holdRows(nas)).toBe(0)
  })

  it('holds what it has as indexed, and refuses a file edited or deleted since its index, a wrong hash, and a file it is offloading', async () => {
    const { root, nas, nasRow, client } = await fleet()
    writeFileSync(join(root, 'nas-photos/c.jpg'), 'gamma')
    await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
    writeFileSync(join(root, 'nas-photos/b.jpg'), 'BETA') // same size, edited after the index
    const vol = nas.store.volumes.get('photos')!.id
    const run = nas.store.runs.begin({ kind: 'offload', volumeId: vol }).id
    nas.store.holds.beginIntents(vol, run, [entry('c.jpg', 'gamma')], nas.store.clock.nowNs() + 60e9)
    const entries = [entry('a.jpg', 'alpha'), entry('b.jpg', 'beta'), entry('c.jpg', 'gamma'), entry('z.jpg', 'zeta'), entry('a2.jpg', 'alpha')]
    const r = await rawExchange(client, nasRow, encodeHoldRequest({ volume: 'photos', durationMs: 1000, nonce, entries }), entries.length)
    expect(r.status).toBe(Status.PARTIAL)
    expect(r.refused).toEqual([{ entry: 1, reason: 3 }, { entry: 2, reason: 1 }, { entry: 3, reason: 2 }, { entry: 4, reason: 2 }])
    expect([...nas.store.holds.liveGrantedPaths(vol, nas.store.clock.nowNs()).keys()]).toEqual(['a.jpg'])
  })
})

describe('the requester trusts nothing the holder answers before the signed hold checks out', () => {
  type Forge = (hold: Hold, entries: HoldEntry[]) => { hold: Hold, envelope?: (sealed: Uint8Array) => Uint8Array, status?: number }

  /** Replaces nas's hold handler with one that grants everything, through `forge`. */
  async function forging (nas: InProcessNode, laptopId: string, forge: Forge): Promise<void> {
    const host = nas.node!.host
    await host.unhandle(HOLD_PROTOCOL)
    await host.handle(HOLD_PROTOCOL, async (stream: Stream) => {
      const io = framed(stream, MAX_FRAME_BYTES)
      const req = decodeHoldRequest(await io.read('req', MAX_FRAME_BYTES, 5000))
      const now = nas.store.clock.nowNs()
      const honest: Hold = { signer: nas.key.nodeId, holder: laptopId as Hold['holder'], volume: req.volume, issuedAtNs: now, expiresAtNs: now + req.durationMs * 1e6, nonce: req.nonce, granted: req.entries.length, grantedSha256: holdEntriesDigest(req.entries) }
      const f = forge(honest, req.entries)
      const key = f.hold.signer === nas.key.nodeId ? nas.key : testKey(9)
      const sealed = sealHold(key, f.hold)
      await io.write(encodeHoldResponse({ status: (f.status ?? Status.OK) as 1, envelope: f.envelope?.(sealed) ?? sealed, refused: [], message: '' }), 5000)
      await stream.close().catch(() => {})
    })
  }

  const flipLast = (b: Uint8Array): Uint8Array => { const c = Uint8Array.from(b); c[c.length - 1] = (c[c.length - 1] as number) ^ 1; return c }

  it.each<[string, Forge]>([
    ['a forged signature', (h) => ({ hold: h, envelope: flipLast })],
    ['a hold signed by another key', (h) => ({ hold: { ...h, signer: testKey(9).nodeId } })],
    ['a hold made to another node', (h) => ({ hold: { ...h, holder: testKey(9).nodeId } })],
    ['a hold for another volume', (h) => ({ hold: { ...h, volume: 'music' } })],
    ['a hold for another request', (h) => ({ hold: { ...h, nonce: new Uint8Array(HOLD_NONCE_BYTES) } })],
    ['a hold over fewer entries', (h, e) => ({ hold: { ...h, granted: e.length - 1, grantedSha256: holdEntriesDigest(e.slice(1)) } })],
    ['a hold over other entries', (h, e) => ({ hold: { ...h, grantedSha256: holdEntriesDigest([...e].reverse()) } })],
    ['a hold longer than asked', (h) => ({ hold: { ...h, expiresAtNs: h.expiresAtNs + 1e9 } })]
  ])('refuses %s: every file is refused and no hold is recorded', async (_what, forge) => {
    const { laptop, nas, nasRow, client } = await fleet()
    await forging(nas, laptop.key.nodeId, forge)
    const vol = laptop.store.volumes.ensure('photos', laptop.config.volumes.get('photos')!.path).id
    const run = laptop.store.runs.begin({ kind: 'offload', volumeId: vol }).id
    const files = [entry('a.jpg', 'alpha'), entry('b.jpg', 'beta')]
    const r = await requestHold(client, nasRow, 'photos', files, 60_000, 3000, { store: laptop.store, volumeId: vol, runId: run, logger: laptop.logger })
    expect(r.granted.size).toBe(0)
    expect([...r.refused.values()]).toEqual(['invalid-response', 'invalid-response'])
    expect(r.expiresAtNs).toBeNull()
    expect(holdRows(laptop)).toBe(0)
  })

  it('an honest hold is recorded as taken, ending no later than the request start plus the promised span', async () => {
    const { laptop, nasRow, client } = await fleet()
    const vol = laptop.store.volumes.ensure('photos', laptop.config.volumes.get('photos')!.path).id
    const run = laptop.store.runs.begin({ kind: 'offload', volumeId: vol }).id
    const before = laptop.store.clock.nowNs()
    const r = await requestHold(client, nasRow, 'photos', [entry('a.jpg', 'alpha'), entry('z.jpg', 'zeta')], 60_000, 3000, { store: laptop.store, volumeId: vol, runId: run, logger: laptop.logger })
    expect([...r.granted]).toEqual(['a.jpg'])
    expect(r.refused).toEqual(new Map([['z.jpg', 'not-present']]))
    expect(r.expiresAtNs).toBeGreaterThan(before)
    expect(r.expiresAtNs).toBeLessThanOrEqual(laptop.store.clock.nowNs() + 60_000e6)
    expect(laptop.store.db.prepare("SELECT path, kind FROM holds").all()).toEqual([{ path: 'a.jpg', kind: 'taken' }])
  })

  it('a peer that cannot be reached refuses every file as unreachable', async () => {
    const { laptop, nas, nasRow, client } = await fleet()
    await nas.node!.stop()
    const vol = laptop.store.volumes.ensure('photos', laptop.config.volumes.get('photos')!.path).id
    const run = laptop.store.runs.begin({ kind: 'offload', volumeId: vol }).id
    const r = await requestHold(client, nasRow, 'photos', [entry('a.jpg', 'alpha')], 60_000, 1000, { store: laptop.store, volumeId: vol, runId: run, logger: laptop.logger })
    expect(r.refused).toEqual(new Map([['a.jpg', 'unreachable']]))
    expect(holdRows(laptop)).toBe(0)
  })
})
