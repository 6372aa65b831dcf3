import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { peerSource } from '../../src/fetch/peer-source.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { restoreFiles } from '../../src/offload/restore.js'
import { openPeerStream } from '../../src/p2p/dial.js'
import { framed, type Framed } from '../../src/p2p/frames.js'
import { FETCH_PROTOCOL } from '../../src/protocol/ids.js'
import { MAX_DATA_FRAME_BYTES, MAX_FETCH_ENTRIES, MAX_FETCH_HEADER_BYTES, MAX_FETCH_REQUEST_BYTES } from '../../src/protocol/limits.js'
import { FetchFileStatus, Status, type FetchEntry, type FetchFile } from '../../src/protocol/messages.js'
import { decodeFetchFile, decodeFetchRequest, decodeFetchResponse, encodeFetchFile, encodeFetchRequest, encodeFetchResponse } from '../../src/protocol/wire.js'
import type { NodeRow } from '../../src/store/nodes.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'

/**
 * `/cairn/fetch/1.0.0` against hostile peers: a raw client asks a serving "nas" for what it
 * may not have (a volume not shared, a hash it does not hold, a path with .. or through a
 * symlink, too much, nothing at all), and a restoring "laptop" meets a nas that stalls or
 * sends other bytes. The server answers with a status (per file NOT_FOUND), never reads
 * outside the volume root; the client writes nothing at a final path that did not verify.
 */

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

interface Fleet { root: string, laptop: InProcessNode, nas: InProcessNode, nasRow: NodeRow, client: Libp2p }

/** nas holds photos (a.jpg, sub/b.jpg) received from laptop; `shared: false` leaves out the receive. */
async function fleet (shared = true): Promise<Fleet> {
  const root = tempDir('cairn-fetch-hostile-')
  mkdirSync(join(root, 'nas-photos/sub'), { recursive: true })
  mkdirSync(join(root, 'photos'), { recursive: true })
  writeFileSync(join(root, 'outside.txt'), 'secret')
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n[volumes.music]\npath = "${root}/nas-music"\n`)
  nodes.push(laptop, nas)
  await nas.initVolumes()
  await nas.start({ fetchFrameDeadlineMs: 1000 })
  enroll(nas, laptop)
  enroll(laptop, nas)
  writeFileSync(join(root, 'nas-photos/a.jpg'), 'alpha')
  writeFileSync(join(root, 'nas-photos/sub/b.jpg'), 'beta')
  await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
  if (shared) {
    const vol = nas.store.volumes.get('photos')!.id
    const run = nas.store.runs.begin({ kind: 'receive', volumeId: vol, peerNodeId: nas.store.nodes.byNodeId(laptop.key.nodeId)!.id })
    nas.store.runs.finish(run.id, 'success')
  }
  return { root, laptop, nas, nasRow: laptop.store.nodes.byNodeId(nas.key.nodeId)!, client: await laptop.client() }
}

const entry = (path: string, content: string): FetchEntry => ({ path, hash: sha256(content) })

interface Answer { status: number, files: Array<FetchFile & { bytes: string }> }

/** Sends one raw request frame and reads the whole answer (a refusal, or every file). */
async function raw (f: Fleet, frame: Uint8Array, expected: number): Promise<Answer> {
  const stream = await openPeerStream(f.client, f.nasRow, FETCH_PROTOCOL, AbortSignal.timeout(5000))
  const io = framed(stream, MAX_DATA_FRAME_BYTES)
  await io.write(frame, 5000)
  const response = decodeFetchResponse(await io.read('a response', MAX_FETCH_HEADER_BYTES, 5000))
  const files: Answer['files'] = []
  if (response.status === Status.OK) {
    for (let i = 0; i < expected; i++) {
      const h = decodeFetchFile(await io.read('a header', MAX_FETCH_HEADER_BYTES, 5000), i)
      let bytes = ''
      while (Buffer.byteLength(bytes) < h.size) bytes += Buffer.from(await io.read('bytes', MAX_DATA_FRAME_BYTES, 5000)).toString()
      files.push({ ...h, bytes })
    }
  }
  await stream.close().catch(() => {})
  return { status: response.status, files }
}

const request = (entries: FetchEntry[], over: { volume?: string, directory?: string } = {}): Uint8Array => encodeFetchRequest({ volume: 'photos', directory: '', entries, ...over })

describe('the fetch handler serves only what the two nodes share and it holds', () => {
  it('serves a file it holds by path and hash, and answers NOT_FOUND per file for a hash it does not hold or a path it has not', async () => {
    const f = await fleet()
    const r = await raw(f, request([entry('a.jpg', 'alpha'), entry('a.jpg2', 'alpha'), entry('sub/b.jpg', 'BETA'), entry('zz.jpg', 'beta')]), 4)
    expect(r.status).toBe(Status.OK)
    expect(r.files.map(x => [x.status, x.bytes])).toEqual([[FetchFileStatus.FOUND, 'alpha'], [FetchFileStatus.NOT_FOUND, ''], [FetchFileStatus.NOT_FOUND, ''], [FetchFileStatus.NOT_FOUND, '']])
  })

  it('refuses a volume it does not share with the peer (neither pushes it to the other) as REFUSED, sending no byte', async () => {
    const f = await fleet(false)
    const r = await raw(f, request([entry('a.jpg', 'alpha')]), 1)
    expect(r.status).toBe(Status.REFUSED)
    expect(r.files).toEqual([])
    expect(f.nas.logs.messages()).toContain('refused a fetch of a volume this node does not share with the peer')
  })

  it('refuses a volume it does not declare as UNKNOWN_VOLUME', async () => {
    const f = await fleet()
    expect((await raw(f, request([entry('a.jpg', 'alpha')], { volume: 'films' }), 1)).status).toBe(Status.UNKNOWN_VOLUME)
  })

  it.each([
    ['a path with ..', [entry('../outside.txt', 'secret')]],
    ['an absolute path', [entry('/etc/passwd', 'x')]],
    ['a .cairn path', [entry('.cairn-volume', 'x')]],
    ['a path twice', [entry('a.jpg', 'alpha'), entry('a.jpg', 'alpha')]],
    ['a short hash', [{ path: 'a.jpg', hash: new Uint8Array(31) }]],
    ['no entries', []]
  ])('refuses %s as INVALID_REQUEST', async (_what, entries) => {
    const f = await fleet()
    const r = await raw(f, request(entries), entries.length)
    expect(r.status).toBe(Status.INVALID_REQUEST)
    expect(r.files).toEqual([])
  })

  it('never follows a symlink: a file or a directory swapped for one after the index is NOT_FOUND', async () => {
    const f = await fleet()
    rmSync(join(f.root, 'nas-photos/a.jpg'))
    writeFileSync(join(f.root, 'elsewhere-a.jpg'), 'alpha')
    symlinkSync(join(f.root, 'elsewhere-a.jpg'), join(f.root, 'nas-photos/a.jpg'))
    rmSync(join(f.root, 'nas-photos/sub'), { recursive: true })
    mkdirSync(join(f.root, 'elsewhere-sub'))
    writeFileSync(join(f.root, 'elsewhere-sub/b.jpg'), 'beta')
    symlinkSync(join(f.root, 'elsewhere-sub'), join(f.root, 'nas-photos/sub'))
    const r = await raw(f, request([entry('a.jpg', 'alpha'), entry('sub/b.jpg', 'beta')]), 2)
    expect(r.status).toBe(Status.OK)
    expect(r.files.map(x => x.status)).toEqual([FetchFileStatus.NOT_FOUND, FetchFileStatus.NOT_FOUND])
  })

  it('refuses more than MAX_FETCH_ENTRIES entries, and a frame over MAX_FETCH_REQUEST_BYTES, as TOO_LARGE', async () => {
    const f = await fleet()
    const many = Array.from({ length: MAX_FETCH_ENTRIES + 1 }, (_, i) => ({ path: `f${i}`, hash: new Uint8Array(32) }))
    expect((await raw(f, request(many), 0)).status).toBe(Status.TOO_LARGE)
    expect((await raw(f, new Uint8Array(MAX_FETCH_REQUEST_BYTES + 1), 0)).status).toBe(Status.TOO_LARGE)
  })

  it('ends a stream whose request never comes within the frame deadline', async () => {
    const f = await fleet()
    const stream = await openPeerStream(f.client, f.nasRow, FETCH_PROTOCOL, AbortSignal.timeout(5000))
    const io = framed(stream, MAX_DATA_FRAME_BYTES)
    const started = Date.now()
    await expect(io.read('anything', MAX_FETCH_HEADER_BYTES, 5000)).rejects.toThrow(/stream ended/)
    expect(Date.now() - started).toBeLessThan(4000)
    expect(f.nas.logs.records.filter(x => x.msg === 'refused an invalid fetch request').map(x => x.fields?.code)).toEqual(['StreamDeadlineError'])
  })
})

/** Replaces nas's fetch handler with `serve` (a hostile server). */
async function hostileNas (f: Fleet, serve: (io: Framed, stream: Stream, entries: FetchEntry[]) => Promise<void>): Promise<void> {
  await f.nas.node!.host.unhandle(FETCH_PROTOCOL)
  await f.nas.node!.host.handle(FETCH_PROTOCOL, async (stream) => {
    const io = framed(stream, MAX_FETCH_REQUEST_BYTES)
    const req = decodeFetchRequest(await io.read('request', MAX_FETCH_REQUEST_BYTES, 5000))
    await serve(io, stream, req.entries).catch(() => {})
  })
}

/** laptop's photos with a.jpg ('alpha') and sub/b.jpg ('beta') indexed, then offloaded (rows only: the files are gone). */
async function laptopOffloaded (f: Fleet): Promise<void> {
  await f.laptop.initVolumes()
  writeFileSync(join(f.root, 'photos/a.jpg'), 'alpha')
  mkdirSync(join(f.root, 'photos/sub'))
  writeFileSync(join(f.root, 'photos/sub/b.jpg'), 'beta')
  await indexVolume({ store: f.laptop.store, volume: f.laptop.config.volumes.get('photos')!, quick: false, logger: f.laptop.logger })
  const vol = f.laptop.store.volumes.get('photos')!.id
  const run = f.laptop.store.runs.begin({ kind: 'offload', volumeId: vol })
  for (const row of f.laptop.store.files.listLive(vol)) {
    f.laptop.store.files.setStatus(row.id, 'offloaded', run.id)
    rmSync(join(f.root, 'photos', row.path))
  }
  f.laptop.store.runs.finish(run.id, 'success')
}

async function restoreFromNas (f: Fleet): Promise<Awaited<ReturnType<typeof restoreFiles>>> {
  const from = peerSource({ host: async () => f.client, peer: f.nasRow, directory: '', volume: 'photos', logger: f.laptop.logger, frameDeadlineMs: 800 })
  return await restoreFiles({ store: f.laptop.store, volume: f.laptop.config.volumes.get('photos')!, from, selectors: [], logger: f.laptop.logger })
}

function nothingWritten (f: Fleet): void {
  expect(existsSync(join(f.root, 'photos/a.jpg'))).toBe(false)
  expect(existsSync(join(f.root, 'photos/sub/b.jpg'))).toBe(false)
  const staging = join(f.root, 'photos/.cairn-staging')
  expect(existsSync(staging) ? readdirSync(staging, { recursive: true }).filter(n => !String(n).startsWith('run-') || String(n).includes('/')) : []).toEqual([])
  const vol = f.laptop.store.volumes.get('photos')!.id
  expect(f.laptop.store.files.listLive(vol).map(x => x.status)).toEqual(['offloaded', 'offloaded'])
}

describe('the restoring client refuses a hostile server and writes nothing', () => {
  it('refuses bytes that do not hash to the recorded content (same size), and keeps reading the next file', async () => {
    const f = await fleet()
    await laptopOffloaded(f)
    await hostileNas(f, async (io, stream, entries) => {
      await io.write(encodeFetchResponse({ status: Status.OK, message: '' }), 5000)
      for (let i = 0; i < entries.length; i++) {
        await io.write(encodeFetchFile({ entry: i, status: FetchFileStatus.FOUND, size: entries[i]!.path === 'a.jpg' ? 5 : 4 }), 5000)
        await io.write(Buffer.from(entries[i]!.path === 'a.jpg' ? 'ALPHA' : 'BETA'), 5000)
      }
      await stream.close()
    })
    const r = await restoreFromNas(f)
    expect(r.restored).toBe(0)
    expect(r.problems.map(p => p.path)).toEqual(['a.jpg', 'sub/b.jpg'])
    expect(r.problems[0]!.reason).toMatch(/do not hash to the recorded content/)
    nothingWritten(f)
  })

  it('refuses a size other than recorded, more bytes than announced, and a header for another entry', async () => {
    for (const evil of ['size', 'overrun', 'entry'] as const) {
      const f = await fleet()
      await laptopOffloaded(f)
      await hostileNas(f, async (io, stream) => {
        await io.write(encodeFetchResponse({ status: Status.OK, message: '' }), 5000)
        if (evil === 'entry') await io.write(encodeFetchFile({ entry: 1, status: FetchFileStatus.FOUND, size: 5 }), 5000)
        else await io.write(encodeFetchFile({ entry: 0, status: FetchFileStatus.FOUND, size: evil === 'size' ? 6 : 5 }), 5000)
        await io.write(Buffer.from(evil === 'overrun' ? 'alphaXXXX' : 'alpha!'), 5000)
        await stream.close()
      })
      const r = await restoreFromNas(f)
      expect(r.restored, evil).toBe(0)
      expect(r.failed, evil).toBe(2)
      nothingWritten(f)
      await f.laptop.close(); await f.nas.close(); nodes.splice(0)
    }
  }, 30_000)

  it('gives up on a server that stalls mid-file within the frame deadline, writing nothing', async () => {
    const f = await fleet()
    await laptopOffloaded(f)
    await hostileNas(f, async (io) => {
      await io.write(encodeFetchResponse({ status: Status.OK, message: '' }), 5000)
      await io.write(encodeFetchFile({ entry: 0, status: FetchFileStatus.FOUND, size: 5 }), 5000)
      await io.write(Buffer.from('al'), 5000)
      await new Promise(resolve => setTimeout(resolve, 3000))
    })
    const started = Date.now()
    const r = await restoreFromNas(f)
    expect(Date.now() - started).toBeLessThan(2500)
    expect(r.failed).toBe(2)
    expect(r.problems[0]!.reason).toMatch(/timed out/)
    nothingWritten(f)
  }, 10_000)
})
