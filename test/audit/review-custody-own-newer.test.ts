/**
 * Review finding (DESIGN invariant 19, "What a component claims", docs/vector.md's gate table:
 * "custody says P still holds every version it accepted, except its holes").
 *
 * `computeLocalClaims` does not count a version as a hole when the path now holds a newer
 * version of the same origin node ("a newer version from the same origin node replacing its
 * own older one is not a hole: that node's present file at the path is the newer one"). That
 * argument holds only for the origin node itself asking. Any other node that relies on the
 * custodian — nas, in a mutual backup with laptop — still holds the OLD version of laptop's
 * file, and laptop's custody keeps "covering" it after laptop edited the file.
 *
 * Honest nodes, one ordinary edit: laptop backs photos up to nas, nas backs its copy up to
 * laptop (the simulator's fleet shape); laptop edits p.jpg and indexes. nas's gate (dry run,
 * and `cairn status`) then reports p.jpg durable at laptop, whose disk holds other bytes. The
 * real offload is saved only by the hold (laptop's present hash differs).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume, type OffloadReport } from '../../src/offload/offload.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { pullVolume } from '../../src/pull/pull.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const P = '2019/p.jpg'
const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('custody after the origin node edits its own file', () => {
  it('never reports a version durable at a custodian whose disk holds a newer version of that path (dry run and real offload agree)', async () => {
    const root = tempDir('cairn-review-own-newer-')
    const dirs = { laptop: join(root, 'laptop-photos'), nas: join(root, 'nas-photos') }
    mkdirSync(join(dirs.laptop, '2019'), { recursive: true })
    mkdirSync(dirs.nas, { recursive: true })
    const toml = (path: string, other: string): string => `[volumes.photos]\npath = "${path}"\npush_to = ["${other}"]\noffload_requires = ["${other}"]\n`
    const laptop = inProcessNode(root, 'laptop', toml(dirs.laptop, 'nas'))
    const nas = inProcessNode(root, 'nas', toml(dirs.nas, 'laptop'))
    nodes.push(laptop, nas)
    // each operator marks its volume directory: `cairn volume init photos`
    await laptop.initVolumes()
    await nas.initVolumes()
    await laptop.start()
    await nas.start()
    enroll(laptop, nas)
    enroll(nas, laptop)
    const vol = (n: InProcessNode) => n.config.volumes.get('photos')!
    const index = async (n: InProcessNode): Promise<void> => { await indexVolume({ store: n.store, volume: vol(n), quick: false, logger: n.logger }) }
    const push = async (from: InProcessNode, to: InProcessNode): Promise<void> => {
      const r = await pushToPeer({ store: from.store, volume: vol(from), peer: from.store.nodes.byNodeId(to.key.nodeId)!, host: from.node!.host, logger: from.logger })
      expect(r.status).toBe('success')
    }
    const offload = async (n: InProcessNode, dryRun: boolean): Promise<OffloadReport> => await offloadVolume({
      store: n.store, config: n.config, volume: vol(n), selectors: ['2019'], dryRun, perFile: true, logger: n.logger, host: n.node!.host
    })

    writeFileSync(join(dirs.laptop, P), 'the photo as first taken')
    await index(laptop)
    await push(laptop, nas)
    await index(nas)
    await push(nas, laptop)
    // laptop edits its photo; nas still has (and relies on laptop for) the first version
    writeFileSync(join(dirs.laptop, P), 'the photo, cropped and retouched')
    await index(laptop)
    const pulled = await pullVolume({ store: nas.store, config: nas.config, host: nas.node!.host, peer: nas.store.nodes.byNodeId(laptop.key.nodeId)!, volume: 'photos', allowRewind: false, logger: nas.logger })
    expect(pulled.status).toBe('success')

    const dry = await offload(nas, true)
    const real = await offload(nas, false)
    // the real offload is refused by the hold (laptop holds other bytes)...
    expect(existsSync(join(dirs.nas, P))).toBe(true)
    expect(real.offloaded).toBe(0)
    // ...but the gate itself must not call the first version durable at laptop
    expect(dry.files?.find(f => f.path === P)?.reasons.map(r => [r.target, r.cause])).toContainEqual(['laptop', 'custody-hole'])
    expect(dry.durable).toBe(0)
  }, 30_000)
})
