/**
 * Review of issue 14 (deliverable 5): a missing or changed volume marker refuses index, receive
 * and offload "so an unmounted disk is never mistaken for an empty one". Restore writes into
 * the same volume root but never checks its marker: with the disk unmounted, a restore copies
 * the offloaded files into the bare mount point (the system disk), records them present, and
 * they vanish under the disk when it is mounted again.
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { restoreFiles } from '../../src/offload/restore.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'

function configOf (f: VolumeFixture, volume: VolumeConfig): Config {
  return { file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([[volume.name, volume]]), destinations: new Map([['usb', f.usb]]) }
}

describe('review 14: restore refuses a volume root that is not the volume\'s disk', () => {
  it('writes nothing into an unmounted volume\'s bare mount point', async () => {
    const f = volumeFixture()
    f.write('a.txt', 'durable bytes')
    f.write('sub/b.txt', 'other durable bytes')
    const idx = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(idx.markerId).not.toBeNull()
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    const off = await offloadVolume({ store: f.store, config: configOf(f, f.volume), volume: f.volume, selectors: ['.'], dryRun: false, perFile: false, logger: f.logger })
    expect(off.offloaded).toBe(2)

    // the disk is unmounted: the path is the bare, empty mount point
    renameSync(f.volume.path, `${f.volume.path}-unmounted-disk`)
    mkdirSync(f.volume.path)

    const r = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: ['.'], logger: f.logger }).catch((err: Error) => err)
    expect(readdirSync(f.volume.path)).toEqual([])
    expect(r instanceof Error ? r.name : r.status).toBe('VolumeMarkerError')
  })
})
