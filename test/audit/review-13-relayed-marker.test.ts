/**
 * Review 13 — a relayed directory (`PEER/NAME`) counts only while it is the directory the
 * evidence is about (DESIGN invariants 14, 20 and 29; docs/offload.md "The gate", row 0 for a
 * directory this node writes, and "Holds" step 2 for `PEER/NAME`).
 *
 * Attack (honest fleet, no hostile peer): laptop requires `["nas", "nas/offsite"]` — the README
 * flow. nas pushed to offsite, laptop pulled nas's claim. Then nas's offsite disk is swapped: a
 * blank disk is mounted at the same path (or the disk is unmounted and the mount point is an
 * empty directory). nas has not run anything since, so its placements still say offsite holds
 * every file. nas's own offload would refuse offsite with `destination-unverified` (it reads
 * the marker first), but laptop's offload relies on offsite *through* nas: its gate passes on the
 * pulled claim, and the hold it asks nas for (with `placed_at = [dir:<offsite marker>]`) is
 * checked against nas's placement rows only — nobody reads the marker. nas grants the hold and
 * laptop deletes files whose bytes are no longer on the required target `nas/offsite`.
 *
 * The same disk swap on a directory laptop writes itself refuses (test/offload/
 * destination-unverified.test.ts); through a relay it does not.
 *
 * Suggested fix: the hold handler, for every key in `placed_at`, resolves it to its own config
 * name and runs `checkDestinationIdentity` (once per request) before granting; a key that is not
 * its live local marker, or whose marker is gone/changed/another owner's, refuses NOT_PLACED
 * (or a new reason) for every entry.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pullVolume } from '../../src/pull/pull.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('a relayed directory whose disk was swapped at the relay', () => {
  it('deletes nothing on nas/offsite while offsite\'s marker is gone at nas, as nas\'s own offload would refuse it', async () => {
    const root = tempDir('cairn-review13-relay-marker-')
    for (const d of ['photos/2019', 'nas-photos', 'offsite']) mkdirSync(join(root, d), { recursive: true })
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\noffload_requires = ["nas", "nas/offsite"]\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\npush_to = ["offsite"]\noffload_requires = ["offsite"]\n[destinations.offsite]\ntype = "directory"\npath = "${root}/offsite"\n`)
    nodes.push(laptop, nas)
    // each operator marks its volume directory: `cairn volume init photos`
    await laptop.initVolumes()
    await nas.initVolumes()
    await laptop.start({ holdDeadlineMs: 2000 })
    await nas.start({ holdDeadlineMs: 2000 })
    enroll(laptop, nas)
    enroll(nas, laptop)
    writeFileSync(join(root, 'photos/2019/a.jpg'), 'photo a')
    await indexVolume({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, quick: false, logger: laptop.logger })
    expect((await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, host: laptop.node!.host, logger: laptop.logger })).status).toBe('success')
    expect((await pushToDirectory({ store: nas.store, volume: nas.config.volumes.get('photos')!, destination: nas.config.destinations.get('offsite')!, shallow: false, logger: nas.logger })).status).toBe('success')
    expect((await pullVolume({ store: laptop.store, config: laptop.config, host: laptop.node!.host, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, volume: 'photos', allowRewind: false, logger: laptop.logger })).status).toBe('success')

    // the offsite disk is swapped for a blank one at the same mount point
    renameSync(join(root, 'offsite'), join(root, 'offsite-old-disk'))
    mkdirSync(join(root, 'offsite'))

    // nas itself no longer counts offsite: its own gate reads the marker
    const nasOwn = await offloadVolume({ store: nas.store, config: nas.config, volume: nas.config.volumes.get('photos')!, selectors: ['.'], dryRun: true, perFile: false, logger: nas.logger })
    expect(nasOwn.groups.map(g => [g.target, g.cause])).toEqual([['offsite', 'destination-unverified']])

    // laptop relies on the same directory through nas
    const real = await offloadVolume({ store: laptop.store, config: laptop.config, volume: laptop.config.volumes.get('photos')!, selectors: ['2019'], dryRun: false, perFile: true, logger: laptop.logger, host: laptop.node?.host })
    expect(existsSync(join(root, 'offsite/photos/2019/a.jpg'))).toBe(false)
    expect(real.offloaded).toBe(0)
    expect(existsSync(join(root, 'photos/2019/a.jpg'))).toBe(true)
  }, 30_000)
})
