/**
 * Review 13 — "One physical copy counts once" (DESIGN invariant 24) across nodes.
 *
 * Attack (honest nodes, no fault injected): the path checks of invariant 24 run within one
 * node's config, and the marker only guards a directory *destination's* root. A node's *volume*
 * carries no marker at all. laptop requires `["nas", "usb"]`: nas's custody and its own
 * directory `usb`. In a home lab `usb` is a share exported by the NAS; here it is the parent of
 * nas's volume directory (`<root>/srv`, nas's volume `photos` lives at `<root>/srv/photos`), so
 * laptop's directory tree `<root>/srv/photos/<path>` *is* nas's volume.
 *
 * laptop pushes to nas (nas receives `2019/a.jpg` into its volume and signs custody), then
 * pushes to `usb`: it writes a marker at `<root>/srv`, moves nas's received file into
 * `.cairn-history/` and puts its own (identical) bytes at the very path nas's custody is about,
 * and reads them back. Both requirements now pass on one and the same inode; nas grants the hold
 * (size, mtime and hash match its row), and laptop deletes its copy. One live copy — one disk —
 * satisfied two required targets. (With different bytes at the path it is worse: laptop's
 * directory push replaces the file nas holds in custody.)
 *
 * Suggested fix: mark volume roots too (a `.cairn-volume` marker naming the node that owns the
 * volume directory) and have a directory push refuse a destination tree that contains, or lies
 * inside, a volume marker or another destination's marker; the receiver likewise refuses to
 * write its volume into a tree under a destination marker.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('one physical copy behind two required targets on two nodes', () => {
  it('never counts one file for two required targets: a directory destination whose tree is another node\'s volume', async () => {
    const root = tempDir('cairn-review13-onecopy-')
    for (const d of ['photos/2019', 'srv/photos']) mkdirSync(join(root, d), { recursive: true })
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas", "usb"]\noffload_requires = ["nas", "usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/srv"\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/srv/photos"\n`)
    nodes.push(laptop, nas)
    // each operator marks its volume directory: `cairn volume init photos`
    await laptop.initVolumes()
    await nas.initVolumes()
    await laptop.start({ holdDeadlineMs: 2000 })
    await nas.start({ holdDeadlineMs: 2000 })
    enroll(laptop, nas)
    enroll(nas, laptop)
    writeFileSync(join(root, 'photos/2019/a.jpg'), 'photo a')
    const volume = laptop.config.volumes.get('photos')!
    await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
    expect((await pushToPeer({ store: laptop.store, volume, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, host: laptop.node!.host, logger: laptop.logger })).status).toBe('success')
    const toUsb = await pushToDirectory({ store: laptop.store, volume, destination: laptop.config.destinations.get('usb')!, shallow: false, logger: laptop.logger })

    const real = await offloadVolume({ store: laptop.store, config: laptop.config, volume, selectors: ['2019'], dryRun: false, perFile: true, logger: laptop.logger, host: laptop.node?.host })
    // nas's custody is about the file in its volume; laptop's usb placement about the file in its tree
    const nasCopy = join(nas.config.volumes.get('photos')!.path, '2019/a.jpg')
    const usbCopy = join(laptop.config.destinations.get('usb')!.path, 'photos', '2019/a.jpg')
    expect(existsSync(nasCopy) && existsSync(usbCopy) && statSync(nasCopy).ino === statSync(usbCopy).ino).toBe(true)
    // the guarantee: a file whose two required targets are one live copy is not offloaded
    expect({ usbPush: toUsb.status, offloaded: real.offloaded, laptopCopy: existsSync(join(root, 'photos/2019/a.jpg')) })
      .toMatchObject({ offloaded: 0, laptopCopy: true })
  }, 30_000)
})
