/**
 * From ../shared/audit/data-path/receive-free-space.test.ts, inverted (issue 14, DESIGN
 * invariant 25 and 16): the receiver bounds the plan by its offer while the chunks arrive. An
 * offer that under-states total_bytes, followed by a plan whose sizes sum past it (or one entry
 * larger than the whole offer), is refused with TOO_LARGE before any byte is written or any
 * space reserved; the refusal is logged and writes nothing.
 */
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Framed } from '../../src/p2p/frames.js'
import { Status } from '../../src/protocol/messages.js'
import { receivePush } from '../../src/push/receive.js'
import { decodePlanReply, encodePlanChunk, encodePushOffer } from '../../src/protocol/wire.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

function fakeIo (frames: Uint8Array[], written: Uint8Array[]): Framed {
  const next = async (what: string, ms: number): Promise<Uint8Array> => {
    const f = frames.shift()
    if (f === undefined) { await new Promise(r => setTimeout(r, ms)); throw new Error(`deadline waiting for ${what}`) }
    return f
  }
  return {
    read: async (what, _max, ms) => await next(what, ms),
    readChunks: async (what, _max, ms) => [await next(what, ms)],
    write: async (d) => { written.push(d) },
    stream: undefined as any
  }
}

describe('hostile pusher: a plan larger than its offer', () => {
  it.each([
    ['an entry larger than the whole offer', 1024, [{ path: 'big.bin', size: 64 * 1024 * 1024 * 1024 }]],
    ['entries whose sizes sum past the offer', 3000, [{ path: 'a.bin', size: 2000 }, { path: 'b.bin', size: 2000 }]]
  ])('refuses %s with TOO_LARGE before writing or reserving anything, and logs it', async (_name, totalBytes, files) => {
    const root = tempDir('cairn-plan-bounds-')
    mkdirSync(join(root, 'nas-photos'))
    const laptop = inProcessNode(root, 'laptop')
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    nodes.push(laptop, nas)
    enroll(nas, laptop)
    await nas.initVolumes()
    const entries = files.map(f => ({ path: f.path, hash: new Uint8Array(32), size: f.size, mtimeNs: 1, originIndex: 0, originRun: 1 }))
    const c = { store: nas.store, key: nas.key, config: () => nas.config, logger: nas.logger, frameDeadlineMs: 300 }
    const written: Uint8Array[] = []
    const data = new Uint8Array(1024)
    await receivePush(c, fakeIo([
      encodePushOffer({ volume: 'photos', pusherRun: 2, entries: entries.length, totalBytes, origins: [laptop.key.nodeId] }),
      encodePlanChunk({ entries, last: true }), data, data, data
    ], written), laptop.key.nodeId)
    expect(decodePlanReply(written[0]!, 0).status).toBe(Status.OK)
    const reply = decodePlanReply(written[1]!, entries.length)
    expect(reply.status).toBe(Status.TOO_LARGE)
    expect(reply.need).toEqual([])
    expect(written).toHaveLength(2)
    expect(nas.logs.records.some(r => r.msg === 'refused a push plan')).toBe(true)
    // nothing written: no file, no staging, no file rows, the run refused
    expect(readdirSync(join(root, 'nas-photos')).filter(n => !n.startsWith('.cairn-volume'))).toEqual([])
    const vol = nas.store.volumes.get('photos')!
    expect(nas.store.files.live(vol.id).size).toBe(0)
    expect(nas.store.runs.list({ kind: 'receive' }).map(r => r.status)).toEqual(['refused'])
  })
})
