/**
 * Review of issue 14 (invariant 29 with invariant 25): the hold handler refuses to hold while a
 * push is being received ("a push being received may replace files its plan saw unheld: hold
 * nothing until it ends"), because the receive judged `heldForPeer` at plan time and never
 * again. It looks for that receive among the volume's 8 NEWEST receive runs only
 * (`runs.list({ volumeId, kind: 'receive', limit: 8 })`). Receives from different pushers run
 * concurrently (run-gates.ts), so a slow receive from one pusher followed by 8 short receives
 * from another is invisible: the hold is granted on a file the slow receive then moves to
 * history — the requester offloads its copy on a promise the holder cannot keep.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { openPeerStream } from '../../src/p2p/dial.js'
import { framed } from '../../src/p2p/frames.js'
import { HOLD_PROTOCOL } from '../../src/protocol/ids.js'
import { MAX_FRAME_BYTES } from '../../src/protocol/limits.js'
import { HOLD_NONCE_BYTES, Status } from '../../src/protocol/messages.js'
import { decodeHoldResponse, encodeHoldRequest } from '../../src/protocol/wire.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('review 14: no hold is granted while any receive of the volume runs', () => {
  it('refuses a hold while a slow receive runs, even after 8 shorter receives from another pusher', async () => {
    const root = tempDir('cairn-r14-hold-')
    mkdirSync(join(root, 'photos')); mkdirSync(join(root, 'nas-photos')); mkdirSync(join(root, 'desk-photos'))
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
    const desktop = inProcessNode(root, 'desktop', `[volumes.photos]\npath = "${root}/desk-photos"\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    nodes.push(laptop, desktop, nas)
    await nas.start({ holdDeadlineMs: 2000 })
    enroll(nas, laptop); enroll(nas, desktop); enroll(laptop, nas)
    writeFileSync(join(root, 'nas-photos/a.jpg'), 'alpha')
    await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
    const vol = nas.store.volumes.get('photos')!.id
    const desktopRow = nas.store.nodes.byNodeId(desktop.key.nodeId)!
    const laptopRow = nas.store.nodes.byNodeId(laptop.key.nodeId)!

    // desktop's receive is in progress (its plan replaces a.jpg; bytes still arriving) ...
    const slow = nas.store.runs.begin({ kind: 'receive', volumeId: vol, peerNodeId: desktopRow.id })
    // ... while 8 short receives from the laptop come and go (allowed: another pusher)
    for (let i = 0; i < 8; i++) {
      const r = nas.store.runs.begin({ kind: 'receive', volumeId: vol, peerNodeId: laptopRow.id })
      nas.store.runs.finish(r.id, 'success', { fileCount: 0 })
    }
    expect(nas.store.runs.list({ volumeId: vol }).find(r => r.id === slow.id)?.status).toBe('running')

    const client = await laptop.client()
    const stream = await openPeerStream(client, laptop.store.nodes.byNodeId(nas.key.nodeId)!, HOLD_PROTOCOL, AbortSignal.timeout(5000))
    const io = framed(stream, MAX_FRAME_BYTES)
    await io.write(encodeHoldRequest({ volume: 'photos', durationMs: 60_000, nonce: new Uint8Array(HOLD_NONCE_BYTES).fill(9), entries: [{ path: 'a.jpg', hash: sha256('alpha') }] }), 5000)
    const r = decodeHoldResponse(await io.read('a hold response', MAX_FRAME_BYTES, 5000), 1)
    await stream.close().catch(() => {})
    expect(r.status).toBe(Status.BUSY)
    expect(nas.store.holds.liveGrantedPaths(vol, nas.store.clock.nowNs()).size).toBe(0)
  }, 30_000)
})
