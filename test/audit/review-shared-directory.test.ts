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
 * Honest nodes, no fault injected: a false durable. It is the destination-identity work's to
 * close (issue "Destination identity: keys, not labels", deliverable 1: the marker names its
 * owner and a marker another node owns refuses the push; see also
 * ../shared/audit/data-path/poc-b-shared-destination.sh). Until that lands this reproduction is
 * skipped, visibly: un-skip it with that change, and it must pass.
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
  it.skip('refuses to count a shared directory as durable once another node has replaced the path (a marker another node owns is refused)', async () => {
    const root = tempDir('cairn-review-shared-')
    const share = join(root, 'share')
    for (const d of ['laptop-photos/2019', 'desk-photos/2019', 'share']) mkdirSync(join(root, d), { recursive: true })
    const toml = (vol: string): string => `[volumes.photos]\npath = "${root}/${vol}"\npush_to = ["share"]\noffload_requires = ["share"]\n[destinations.share]\ntype = "directory"\npath = "${share}"\n`
    const laptop = inProcessNode(root, 'laptop', toml('laptop-photos'))
    const desk = inProcessNode(root, 'desk', toml('desk-photos'))
    nodes.push(laptop, desk)
    writeFileSync(join(root, 'laptop-photos/2019/p.jpg'), 'laptop\'s edit of the photo')
    writeFileSync(join(root, 'desk-photos/2019/p.jpg'), 'desk\'s edit of the photo')
    for (const n of [laptop, desk]) await indexVolume({ store: n.store, volume: n.config.volumes.get('photos')!, shallow: false, logger: n.logger })

    const push = async (n: InProcessNode): Promise<string> => (await pushToDirectory({ store: n.store, volume: n.config.volumes.get('photos')!, destination: n.config.destinations.get('share')!, shallow: false, logger: n.logger })).status
    expect(await push(laptop)).toBe('success')
    // desk adopts the marker laptop wrote: invariant 24 says this push is refused
    const deskPush = await push(desk)
    const sharedBytes = readFileSync(join(share, 'photos/2019/p.jpg'), 'utf8')

    const report = await offloadVolume({ store: laptop.store, config: laptop.config, volume: laptop.config.volumes.get('photos')!, selectors: ['.'], dryRun: false, perFile: true, logger: laptop.logger })
    const gone = !existsSync(join(root, 'laptop-photos/2019/p.jpg'))
    // the setup: desk's push succeeded and the share now holds desk's bytes at the path
    expect(deskPush).toBe('success')
    expect(sharedBytes).toBe('desk\'s edit of the photo')
    // the guarantee: laptop never deletes its bytes while the required target does not hold them
    expect({ offloaded: report.offloaded, gone }).toEqual({ offloaded: 0, gone: false })
  }, 30_000)
})
