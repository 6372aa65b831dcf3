/**
 * Review of issue 14 (invariant 25): the receive judge lets an entry replace this node's own
 * indexed file when "the same origin node at an equal or later run" (receive-judge.ts
 * `descendsFrom`). The origin node and run are whatever the pusher's plan says. A pusher that
 * names the RECEIVER ITSELF as origin, at a run the receiver never reached, makes the receiver
 * replace its own indexed edit (it moves to .cairn-history/, which index never sees) — exactly
 * the clobber issue 14 set out to stop. The receiver knows every run of its own origin: an
 * entry claiming a version of this node that this node never had is provably not a
 * descendant of anything here.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeKeyFromSeed } from '../../src/identity/node-key.js'
import { createLogger } from '../../src/logger.js'
import { createHost } from '../../src/p2p/host.js'
import { PUSH_PROTOCOL } from '../../src/protocol/ids.js'
import { Status } from '../../src/protocol/messages.js'
import { decodePlanReply, decodePushResult, encodePlanChunk, encodePushOffer } from '../../src/protocol/wire.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const hostileKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x5a))
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

describe('review 14: a pusher cannot pass a version off as a descendant of the receiver\'s own', () => {
  it('keeps the receiver\'s own indexed file when an entry claims the receiver as origin at a run it never had', async () => {
    const root = tempDir('cairn-r14-spoof-')
    mkdirSync(join(root, 'nas-photos'))
    writeFileSync(join(root, 'nas-photos/own.txt'), 'the nas user\'s own file')
    const nas: InProcessNode = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    await nas.start({ pushFrameDeadlineMs: 2000 })
    cleanups.push(async () => { await nas.close() })
    await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
    const vol = nas.store.volumes.get('photos')!.id
    const own = nas.store.files.live(vol).get('own.txt')!
    expect(own.originNodeId).toBe(nas.store.nodes.self().id)
    nas.store.nodes.enrollPeer(hostileKey.nodeId, 'laptop', [])
    const hostile: Libp2p = await createHost({ key: hostileKey, listen: ['/ip4/127.0.0.1/tcp/0'], gate: { allows: () => true }, logger: createLogger([], systemClock) })
    await hostile.start()
    cleanups.push(async () => { await hostile.stop() })

    const body = Buffer.from('REPLACED by the pusher')
    const s = await hostile.dialProtocol(multiaddr(`${nas.node!.addrs()[0] ?? ''}/p2p/${nas.key.nodeId}`), PUSH_PROTOCOL)
    const lp = lpStream(s)
    // origin: the nas itself, at a run far beyond any the nas ever had
    await lp.write(encodePushOffer({ volume: 'photos', pusherRun: 7, entries: 1, totalBytes: body.length, origins: [nas.key.nodeId] }))
    expect(decodePlanReply(await lp.read({ signal: AbortSignal.timeout(3000) }), 0).status).toBe(Status.OK)
    await lp.write(encodePlanChunk({ entries: [{ path: 'own.txt', hash: createHash('sha256').update(body).digest(), size: body.length, mtimeNs: 1_700_000_000e9, originIndex: 0, originRun: own.originRunId + 1_000_000 }], last: true }))
    const reply = decodePlanReply(await lp.read({ signal: AbortSignal.timeout(3000) }), 1)
    if (reply.need.includes(0)) await lp.write(body)
    const result = decodePushResult(await lp.read({ signal: AbortSignal.timeout(5000) }), 1)
    await s.close().catch(() => {})

    expect(readFileSync(join(root, 'nas-photos/own.txt'), 'utf8')).toBe('the nas user\'s own file')
    expect(result.failures.map(f => f.entry)).toEqual([0])
  }, 30_000)
})
