/**
 * Review finding (DESIGN invariant 23: "A label never falls back to another meaning"; and
 * "Destination identity": a bare name in `offload_requires` that is neither a local
 * destination nor a peer "is refused at config load").
 *
 * `loadGatePolicy` still resolves a bare name to "the directory of that name that exactly one
 * live peer asserts". The meaning of `offload_requires = ["offsite"]` therefore moves with
 * whoever happens to assert a directory labelled `offsite` at the moment. laptop relies on
 * nas's offsite disk; nas's offsite evidence goes away (its verify finds the disk empty — a
 * disk swapped, and the claim is honestly retracted); desk, an honest peer laptop also pushes
 * to, happens to call its own backup disk `offsite` too. laptop's next offload deletes files
 * on desk's disk's evidence, and they are nowhere on nas's offsite disk.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pullVolume } from '../../src/pull/pull.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { verifyDirectory } from '../../src/push/verify-directory.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('a bare label in offload_requires', () => {
  it('never re-targets a requirement to another node\'s directory of the same name (a label never falls back to another meaning)', async () => {
    const root = tempDir('cairn-review-bare-')
    for (const d of ['laptop-photos/2019', 'nas-photos', 'desk-photos', 'nas-offsite', 'desk-offsite']) mkdirSync(join(root, d), { recursive: true })
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/laptop-photos"\npush_to = ["nas", "desk"]\noffload_requires = ["nas/offsite"]\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\npush_to = ["offsite"]\n[destinations.offsite]\ntype = "directory"\npath = "${root}/nas-offsite"\n`)
    const desk = inProcessNode(root, 'desk', `[volumes.photos]\npath = "${root}/desk-photos"\npush_to = ["offsite"]\n[destinations.offsite]\ntype = "directory"\npath = "${root}/desk-offsite"\n`)
    nodes.push(laptop, nas, desk)
    for (const n of nodes) await n.initVolumes() // each operator marks its volume directory: `cairn volume init photos`
    for (const n of nodes) await n.start({ holdDeadlineMs: 2000 })
    for (const a of nodes) for (const b of nodes) if (a !== b) enroll(a, b)
    const vol = (n: InProcessNode) => n.config.volumes.get('photos')!
    const index = async (n: InProcessNode): Promise<void> => { await indexVolume({ store: n.store, volume: vol(n), quick: false, logger: n.logger }) }
    const push = async (from: InProcessNode, to: InProcessNode): Promise<void> => {
      expect((await pushToPeer({ store: from.store, volume: vol(from), peer: from.store.nodes.byNodeId(to.key.nodeId)!, host: from.node!.host, logger: from.logger })).status).toBe('success')
    }
    const toOffsite = async (n: InProcessNode): Promise<void> => {
      expect((await pushToDirectory({ store: n.store, volume: vol(n), destination: n.config.destinations.get('offsite')!, shallow: false, logger: n.logger })).status).toBe('success')
    }
    const pull = async (from: InProcessNode): Promise<void> => {
      expect((await pullVolume({ store: laptop.store, config: laptop.config, host: laptop.node!.host, peer: laptop.store.nodes.byNodeId(from.key.nodeId)!, volume: 'photos', allowRewind: false, logger: laptop.logger })).status).toBe('success')
    }

    // the requirement means nas's offsite disk; desk calls its own backup disk "offsite" too
    writeFileSync(join(root, 'laptop-photos/2019/a.jpg'), 'photo a')
    await index(laptop)
    await push(laptop, nas)
    await index(nas)
    await toOffsite(nas)
    await pull(nas)
    const first = await offloadVolume({ store: laptop.store, config: laptop.config, volume: vol(laptop), selectors: ['2019/a.jpg'], dryRun: true, perFile: true, logger: laptop.logger })
    expect(first.durable).toBe(1)

    // nas's offsite disk is swapped: nas's verify retracts its claim, laptop pulls that
    rmSync(join(root, 'nas-offsite/photos'), { recursive: true })
    await verifyDirectory({ store: nas.store, volume: vol(nas), destination: nas.config.destinations.get('offsite')!, logger: nas.logger })
    await pull(nas)
    // a new photo, backed up to nas and to desk; desk copies it to its own disk called offsite
    writeFileSync(join(root, 'laptop-photos/2019/b.jpg'), 'photo b')
    await index(laptop)
    await push(laptop, nas)
    await push(laptop, desk)
    await index(desk)
    await toOffsite(desk)
    await pull(desk)

    const real = await offloadVolume({ store: laptop.store, config: laptop.config, volume: vol(laptop), selectors: ['2019/b.jpg'], dryRun: false, perFile: true, logger: laptop.logger, host: laptop.node!.host })
    expect(existsSync(join(root, 'nas-offsite/photos/2019/b.jpg'))).toBe(false)
    // the guarantee: b.jpg is not at the offsite disk the requirement meant, so it stays
    expect({ offloaded: real.offloaded, kept: existsSync(join(root, 'laptop-photos/2019/b.jpg')) }).toEqual({ offloaded: 0, kept: true })
    // and a bare label that is neither a destination of this node nor a peer never means
    // "whichever peer has a directory of that name": it refuses
    const bare = await offloadVolume({ store: laptop.store, config: laptop.config, volume: { ...vol(laptop), offloadRequires: ['offsite'] }, selectors: ['.'], dryRun: true, perFile: true, logger: laptop.logger })
    expect(bare.durable).toBe(0)
  }, 60_000)
})
