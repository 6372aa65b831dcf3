/**
 * Review 13 — "Only the owner writes to a destination" (DESIGN "Destination identity",
 * invariants 24 and 25; docs/destinations.md "Only the owner writes to a destination").
 *
 * Attack (honest nodes, no fault injected): the marker guards one directory *root*, but not
 * what lies below or above it. laptop's directory destination `share` is a NAS share
 * (`<root>/share`, laptop's marker at its top). desk, another honest node, mounts a
 * sub-directory of the same share (`<root>/share/photos` — e.g. an NFS export of a sub-folder,
 * so desk's own config-load nesting check sees nothing) as *its* destination. That directory has
 * no marker of its own, so desk's first push creates one there and is accepted, although the
 * directory lies inside a tree whose marker laptop owns.
 *
 * desk's volume `phone` lands at `<root>/share/photos/phone/...`, which is exactly where
 * laptop's volume `photos` keeps its sub-folder `phone/`. desk's push moves laptop's version of
 * `phone/IMG_0001.jpg` into desk's `.cairn-history/` and puts desk's bytes at the path.
 *
 * laptop's offload reads its marker (still there, still laptop's), finds its placement
 * (content-verified by its own push), takes no hold (a directory needs none) and deletes
 * laptop's only copy of its version: the share now holds desk's bytes at that path. A false
 * "durable" on a target no one tampered with outside cairn.
 *
 * Suggested fix: a push refuses a destination root that lies inside another marker's tree
 * (walk the ancestors of the root for `.cairn-destination`) and refuses to descend into / write
 * under a directory holding a `.cairn-destination` that is not its own (the tree writer already
 * checks every path component); optionally the offload's marker check also refuses when a
 * foreign marker appears under the destination's volume tree.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

const LAPTOP_BYTES = 'laptop\'s edit of IMG_0001'
const DESK_BYTES = 'desk\'s original IMG_0001 from the phone'

describe('a directory destination nested inside another node\'s destination', () => {
  it('never lets an offload delete a file whose bytes another node replaced at its destination through a nested destination root', async () => {
    const root = tempDir('cairn-review13-nested-')
    const share = join(root, 'share')
    for (const d of ['laptop-photos/phone', 'desk-phone', 'share']) mkdirSync(join(root, d), { recursive: true })
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/laptop-photos"\npush_to = ["share"]\noffload_requires = ["share"]\n[destinations.share]\ntype = "directory"\npath = "${share}"\n`)
    nodes.push(laptop)
    writeFileSync(join(root, 'laptop-photos/phone/IMG_0001.jpg'), LAPTOP_BYTES)
    writeFileSync(join(root, 'desk-phone/IMG_0001.jpg'), DESK_BYTES)
    const lvol = laptop.config.volumes.get('photos')!
    await indexVolume({ store: laptop.store, volume: lvol, quick: false, logger: laptop.logger })
    expect((await pushToDirectory({ store: laptop.store, volume: lvol, destination: laptop.config.destinations.get('share')!, shallow: false, logger: laptop.logger })).status).toBe('success')
    expect(readFileSync(join(share, 'photos/phone/IMG_0001.jpg'), 'utf8')).toBe(LAPTOP_BYTES)

    // desk's destination is a sub-directory of laptop's share (created by laptop's push)
    const desk = inProcessNode(root, 'desk', `[volumes.phone]\npath = "${root}/desk-phone"\npush_to = ["nas"]\n[destinations.nas]\ntype = "directory"\npath = "${share}/photos"\n`)
    nodes.push(desk)
    const dvol = desk.config.volumes.get('phone')!
    await indexVolume({ store: desk.store, volume: dvol, quick: false, logger: desk.logger })
    const deskPush = await pushToDirectory({ store: desk.store, volume: dvol, destination: desk.config.destinations.get('nas')!, shallow: false, logger: desk.logger })

    const report = await offloadVolume({ store: laptop.store, config: laptop.config, volume: lvol, selectors: ['.'], dryRun: false, perFile: true, logger: laptop.logger })
    const laptopCopyGone = !existsSync(join(root, 'laptop-photos/phone/IMG_0001.jpg'))
    const atShare = readFileSync(join(share, 'photos/phone/IMG_0001.jpg'), 'utf8')
    // the guarantee: if laptop deleted its copy, its required target holds exactly those bytes
    expect({ deskPush: deskPush.status, laptopCopyGone, offloaded: report.offloaded, atShare: laptopCopyGone ? atShare : LAPTOP_BYTES })
      .toMatchObject({ atShare: LAPTOP_BYTES })
  }, 30_000)
})
