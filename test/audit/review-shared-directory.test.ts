/**
 * Review finding (DESIGN invariant 24, "Destination identity"): "a directory whose marker
 * another node owns is refused (it is pushed through its owner)". The marker written by
 * `ensureDestinationIdentity` carries no owner, and a node with no recorded marker adopts any
 * marker it finds. So two nodes that point a directory destination at one shared directory (a
 * NAS share mounted on both — an ordinary home-lab setup) both write `<root>/photos/<path>`.
 *
 * laptop pushes its version of p.jpg and reads it back (placement: laptop's bytes). desk, an
 * honest node with its own version of the same path in the same logical volume, pushes to the
 * same share: laptop's bytes move to `.cairn-history/` and desk's take the path. laptop's gate
 * judges a directory target on laptop's own placement alone, and no hold is taken for a
 * directory, so laptop's offload deletes the only copy of its version at that path.
 *
 * Honest nodes, no fault injected: a false durable. Closed by the destination-identity work
 * (issue 13, deliverable 1): the marker names its owner, and a marker another node owns
 * refuses the push with who owns it and what to do. See also
 * ../shared/audit/data-path/poc-b-shared-destination.sh.
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

describe('a directory destination another node also writes', () => {
  it('refuses the second node\'s push into a directory whose marker the first owns, so the first node\'s bytes stay and its offload judges what is there', async () => {
    const root = tempDir('cairn-review-shared-')
    const share = join(root, 'share')
    for (const d of ['laptop-photos/2019', 'desk-photos/2019', 'share']) mkdirSync(join(root, d), { recursive: true })
    const toml = (vol: string): string => `[volumes.photos]\npath = "${root}/${vol}"\npush_to = ["share"]\noffload_requires = ["share"]\n[destinations.share]\ntype = "directory"\npath = "${share}"\n`
    const laptop = inProcessNode(root, 'laptop', toml('laptop-photos'))
    const desk = inProcessNode(root, 'desk', toml('desk-photos'))
    nodes.push(laptop, desk)
    writeFileSync(join(root, 'laptop-photos/2019/p.jpg'), 'laptop\'s edit of the photo')
    writeFileSync(join(root, 'desk-photos/2019/p.jpg'), 'desk\'s edit of the photo')
    for (const n of [laptop, desk]) await indexVolume({ store: n.store, volume: n.config.volumes.get('photos')!, quick: false, logger: n.logger })

    const push = async (n: InProcessNode) => await pushToDirectory({ store: n.store, volume: n.config.volumes.get('photos')!, destination: n.config.destinations.get('share')!, shallow: false, logger: n.logger })
    expect((await push(laptop)).status).toBe('success')
    // desk finds laptop's marker: refused, naming the owner, writing nothing
    const deskPush = await push(desk)
    expect(deskPush.status).toBe('refused')
    expect(deskPush.refusal?.name).toBe('DestinationOwnedError')
    expect(deskPush.refusal?.message).toContain(laptop.store.nodes.self().nodeId)
    expect(readFileSync(join(share, 'photos/2019/p.jpg'), 'utf8')).toBe('laptop\'s edit of the photo')
    expect(desk.store.vector.list(desk.store.volumes.get('photos')!.id).filter(c => c.destination.startsWith('dir:'))).toEqual([])
    expect(desk.store.destinations.local('share')).toBeUndefined()

    const report = await offloadVolume({ store: laptop.store, config: laptop.config, volume: laptop.config.volumes.get('photos')!, selectors: ['.'], dryRun: false, perFile: true, logger: laptop.logger })
    // the share holds laptop's exact bytes, so laptop's offload is honest
    expect(report.offloaded).toBe(1)
    expect(existsSync(join(root, 'laptop-photos/2019/p.jpg'))).toBe(false)
    expect(readFileSync(join(share, 'photos/2019/p.jpg'), 'utf8')).toBe('laptop\'s edit of the photo')
  }, 30_000)
})
