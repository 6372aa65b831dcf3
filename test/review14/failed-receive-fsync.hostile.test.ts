/**
 * Review of issue 14 (deliverable 2, invariant 19): "fsync the file, its directory, and every
 * directory the commit created" before anything claims the files. A receive that stops midway
 * (a pusher that stalls past the frame deadline, a dropped connection) indexes the files it
 * committed — and settles this node's custody over them — on the failure path, which never
 * calls `writer.syncDirs()`: the new directory's entry and the file's entry in it were never
 * fsynced, yet this node's claims cover them. Later pushes of the same bytes find them "held"
 * and dirty no directory, so nothing ever syncs them.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
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
import { decodePlanReply, encodePlanChunk, encodePushOffer } from '../../src/protocol/wire.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { inProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const hostileKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x5b))
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

describe('review 14: a receive claims no file whose directory entries were not fsynced', () => {
  it('fsyncs the directories a stopped receive committed into before it records those files present', async () => {
    const root = tempDir('cairn-r14-fsync-')
    mkdirSync(join(root, 'nas-photos'))
    writeFileSync(join(root, 'nas-photos/own.txt'), 'something, so the index marks the root')
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    const synced: string[] = []
    const fs: DirectoryFs = { ...nodeDirectoryFs, syncDir: async (p) => { synced.push(p); await nodeDirectoryFs.syncDir(p) } }
    await nas.start({ pushFrameDeadlineMs: 600, fs })
    cleanups.push(async () => { await nas.close() })
    await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
    nas.store.nodes.enrollPeer(hostileKey.nodeId, 'laptop', [])
    const hostile: Libp2p = await createHost({ key: hostileKey, listen: ['/ip4/127.0.0.1/tcp/0'], gate: { allows: () => true }, logger: createLogger([], systemClock) })
    await hostile.start()
    cleanups.push(async () => { await hostile.stop() })

    const a = Buffer.from('first file, fully sent')
    const b = Buffer.from('second file, never sent')
    const sha = (x: Buffer): Uint8Array => createHash('sha256').update(x).digest()
    const s = await hostile.dialProtocol(multiaddr(`${nas.node!.addrs()[0] ?? ''}/p2p/${nas.key.nodeId}`), PUSH_PROTOCOL)
    const lp = lpStream(s)
    await lp.write(encodePushOffer({ volume: 'photos', pusherRun: 7, entries: 2, totalBytes: a.length + b.length, origins: [hostileKey.nodeId] }))
    expect(decodePlanReply(await lp.read({ signal: AbortSignal.timeout(3000) }), 0).status).toBe(Status.OK)
    await lp.write(encodePlanChunk({
      entries: [
        { path: 'newdir/a.txt', hash: sha(a), size: a.length, mtimeNs: 1_700_000_000e9, originIndex: 0, originRun: 3 },
        { path: 'newdir/b.txt', hash: sha(b), size: b.length, mtimeNs: 1_700_000_000e9, originIndex: 0, originRun: 3 }
      ],
      last: true
    }))
    const reply = decodePlanReply(await lp.read({ signal: AbortSignal.timeout(3000) }), 2)
    expect(reply.need).toEqual([0, 1])
    await lp.write(a)
    // ... and the pusher stalls: the receive stops at its frame deadline
    await new Promise(r => setTimeout(r, 1500))
    await s.close().catch(() => {})

    const vol = nas.store.volumes.get('photos')!.id
    const row = nas.store.files.live(vol).get('newdir/a.txt')
    const run = nas.store.runs.list({ volumeId: vol, kind: 'receive', limit: 1 })[0]
    expect(run?.status).toBe('failed')
    // either the file is not claimed, or its new directory and the volume root were fsynced
    if (row?.status === 'present') {
      expect(synced).toContain(join(root, 'nas-photos/newdir'))
      expect(synced).toContain(join(root, 'nas-photos'))
    }
  }, 30_000)
})
