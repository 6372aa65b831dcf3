/**
 * From ../shared/audit/data-path/data-path-injection.test.ts test G, inverted (issue 14, DESIGN
 * invariant 25): restore commits create-exclusively, so a file that appears at the path while
 * the copy is made is kept as it is — the restore refuses that path, nothing moves to hidden
 * history, and the next index sees the user's file.
 */
import { existsSync, readFileSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { restoreFiles } from '../../src/offload/restore.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'

function configOf (f: VolumeFixture, volume: VolumeConfig): Config {
  return { file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([[volume.name, volume]]), destinations: new Map([['usb', f.usb]]) }
}

describe('restore never replaces', () => {
  it('keeps a file that appeared at the path during the copy, refuses that path and hides nothing in history', async () => {
    const f = volumeFixture()
    f.write('a.txt', 'durable bytes')
    f.write('b.txt', 'other durable bytes')
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    const off = await offloadVolume({ store: f.store, config: configOf(f, f.volume), volume: f.volume, selectors: ['.'], dryRun: false, perFile: false, logger: f.logger })
    expect(off.offloaded).toBe(2)
    const abs = join(f.volume.path, 'a.txt')
    const fs: DirectoryFs = {
      ...nodeDirectoryFs,
      copyFile: async (s, d) => {
        await nodeDirectoryFs.copyFile(s, d)
        if (s.endsWith('a.txt')) await fsp.writeFile(abs, 'a NEW a.txt the user wrote meanwhile')
      }
    }
    const r = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: ['.'], logger: f.logger, fs })
    expect(r.status).toBe('partial')
    expect(r.restored).toBe(1)
    expect(r.problems.map(p => p.path)).toEqual(['a.txt'])
    expect(readFileSync(abs, 'utf8')).toBe('a NEW a.txt the user wrote meanwhile')
    expect(readFileSync(join(f.volume.path, 'b.txt'), 'utf8')).toBe('other durable bytes')
    expect(existsSync(join(f.volume.path, '.cairn-history'))).toBe(false)
    const idx = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(idx.filesAdded + idx.filesChanged).toBe(1)
  })

  it('takes the exact offloaded bytes already at the path as restored (a restore killed after its commit) and still refuses other bytes there', async () => {
    const f = volumeFixture()
    f.write('a.txt', 'durable bytes')
    f.write('b.txt', 'other durable bytes')
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    const off = await offloadVolume({ store: f.store, config: configOf(f, f.volume), volume: f.volume, selectors: ['.'], dryRun: false, perFile: false, logger: f.logger })
    expect(off.offloaded).toBe(2)
    await fsp.writeFile(join(f.volume.path, 'a.txt'), 'durable bytes')
    await fsp.writeFile(join(f.volume.path, 'b.txt'), 'not the offloaded bytes')
    const r = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: ['.'], logger: f.logger })
    expect(r.restored).toBe(1)
    expect(r.problems.map(p => p.path)).toEqual(['b.txt'])
    expect(readFileSync(join(f.volume.path, 'b.txt'), 'utf8')).toBe('not the offloaded bytes')
    const live = f.store.files.live(f.store.volumes.get(f.volume.name)!.id)
    expect(live.get('a.txt')?.status).toBe('present')
    expect(live.get('b.txt')?.status).toBe('offloaded')
  })
})
