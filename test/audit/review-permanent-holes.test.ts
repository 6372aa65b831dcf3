/**
 * Review finding (liveness; DESIGN "What a component claims": "A hole must not stall a whole
 * origin ... a gate that never opens").
 *
 * A custodian's holes are computed from every file row it ever had, and rows are never
 * deleted: a version that left its disk stays a hole forever, even when no node holds or needs
 * that version any more. Past MAX_EXCEPTIONS_PER_CLAIM (256) holes, the claim is capped below
 * the first hole that does not fit — so every later run of that origin is "behind" for good.
 *
 * Honest story: laptop backs up an old folder of 300 photos to nas; later the user deletes the
 * folder on both machines (and both index). From then on, no new photo of laptop's ever
 * becomes durable at nas: after an honest index → push → pull cycle the gate says
 * `evidence-behind` for a file nas verifiably holds.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('holes of versions nobody holds any more', () => {
  it('opens the gate for a new file after an honest index, push and receipt, whatever old versions were deleted everywhere', async () => {
    const root = tempDir('cairn-review-holes-')
    mkdirSync(join(root, 'laptop-photos/old'), { recursive: true })
    mkdirSync(join(root, 'nas-photos'), { recursive: true })
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/laptop-photos"\npush_to = ["nas"]\noffload_requires = ["nas"]\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
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
    const push = async (): Promise<string> => (await pushToPeer({ store: laptop.store, volume: vol(laptop), peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, host: laptop.node!.host, logger: laptop.logger })).status

    for (let i = 0; i < 300; i++) writeFileSync(join(root, `laptop-photos/old/${i}.jpg`), `old photo ${i}`)
    await index(laptop)
    expect(await push()).toBe('success')
    // the user deletes the old folder on both machines
    rmSync(join(root, 'laptop-photos/old'), { recursive: true })
    rmSync(join(root, 'nas-photos/old'), { recursive: true })
    await index(laptop)
    await index(nas)

    // a new photo: index, push (nas re-hashes it and signs its receipt)
    mkdirSync(join(root, 'laptop-photos/2024'))
    writeFileSync(join(root, 'laptop-photos/2024/new.jpg'), 'a new photo')
    await index(laptop)
    const status = await push()
    const dry = await offloadVolume({ store: laptop.store, config: laptop.config, volume: vol(laptop), selectors: ['2024'], dryRun: true, perFile: true, logger: laptop.logger })
    expect({ status, durable: dry.durable, reasons: dry.files?.[0]?.reasons.map(r => r.cause) }).toEqual({ status: 'success', durable: 1, reasons: [] })
  }, 60_000)
})
