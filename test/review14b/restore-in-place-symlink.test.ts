/**
 * Review 14b, attack on restore's "the exact offloaded bytes already at the path count as
 * restored" (src/offload/restore.ts): the check is an lstat and a hash of join(volume, path),
 * which follow every symlink among the path's directories. The commit path refuses a symlinked
 * component (ensureRealDirs: "no path component may be a symlink, so nothing can be redirected
 * outside the tree"); the shortcut does not. A directory of the volume replaced by a symlink to
 * somewhere else that holds the same bytes makes restore record the file present in the volume
 * (custody claimed, offloadable again) while its bytes live outside the volume, where the next
 * index (which never follows symlinks) does not find them, and an offload would unlink them.
 */
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
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

describe('review 14b: restore counts bytes as already restored only inside the volume tree', () => {
  it('a symlinked directory holding the offloaded bytes elsewhere is not taken as restored', async () => {
    const f = volumeFixture()
    f.write('sub/b.txt', 'durable bytes')
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    const off = await offloadVolume({ store: f.store, config: configOf(f, f.volume), volume: f.volume, selectors: ['.'], dryRun: false, perFile: false, logger: f.logger })
    expect(off.offloaded).toBe(1)

    // `sub` is now a symlink to another directory (outside the volume) with the same bytes
    const elsewhere = join(f.root, 'elsewhere')
    mkdirSync(elsewhere)
    writeFileSync(join(elsewhere, 'b.txt'), 'durable bytes')
    if (existsSync(join(f.volume.path, 'sub'))) rmSync(join(f.volume.path, 'sub'), { recursive: true })
    symlinkSync(elsewhere, join(f.volume.path, 'sub'))

    const r = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: ['.'], logger: f.logger }).catch((err: Error) => err)
    const volRow = f.store.volumes.get('photos')!
    const row = f.store.files.live(volRow.id).get('sub/b.txt')
    // nothing is recorded present in the volume through a symlink
    expect(row?.status).not.toBe('present')
    expect(r instanceof Error ? 0 : r.restored).toBe(0)
  })
})
