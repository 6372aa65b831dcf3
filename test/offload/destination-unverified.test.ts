/**
 * A directory this node writes proves nothing while it is not the directory the evidence is
 * about: an offload checks each required directory's marker first (invariants 14 and 24).
 * An unmounted or swapped disk, or a directory another node took over after its marker was
 * lost, refuses with `destination-unverified`, never on old placements.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { MARKER_FILE } from '../../src/push/destination-marker.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('offload checks the marker of every directory it relies on', () => {
  it('refuses every file on a directory whose marker is gone or another node\'s, and passes them again once it is back', async () => {
    const root = tempDir('cairn-unverified-')
    for (const d of ['photos', 'usb']) mkdirSync(join(root, d))
    writeFileSync(join(root, 'photos/p.jpg'), 'the only copy')
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"\n`)
    nodes.push(laptop)
    const volume = laptop.config.volumes.get('photos')!
    await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
    expect((await pushToDirectory({ store: laptop.store, volume, destination: laptop.config.destinations.get('usb')!, shallow: false, logger: laptop.logger })).status).toBe('success')
    const dry = async () => await offloadVolume({ store: laptop.store, config: laptop.config, volume, selectors: ['.'], dryRun: true, perFile: true, logger: laptop.logger })
    expect((await dry()).durable).toBe(1)

    const marker = readFileSync(join(root, 'usb', MARKER_FILE), 'utf8')
    rmSync(join(root, 'usb', MARKER_FILE))
    const gone = await dry()
    expect(gone.durable).toBe(0)
    expect(gone.groups.map(g => [g.target, g.cause])).toEqual([['usb', 'destination-unverified']])
    // a real offload deletes nothing
    const real = await offloadVolume({ store: laptop.store, config: laptop.config, volume, selectors: ['.'], dryRun: false, perFile: true, logger: laptop.logger })
    expect(real.offloaded).toBe(0)
    expect(readFileSync(join(root, 'photos/p.jpg'), 'utf8')).toBe('the only copy')

    // another node's marker there now (it took the directory over): still refused
    writeFileSync(join(root, 'usb', MARKER_FILE), marker.replace(/owner .*/, 'owner 12D3KooWSomeoneElseSomeoneElseSomeoneElseSomeon'))
    expect((await dry()).groups.map(g => g.cause)).toEqual(['destination-unverified'])
    writeFileSync(join(root, 'usb', MARKER_FILE), marker)
    expect((await dry()).durable).toBe(1)
  }, 30_000)
})
