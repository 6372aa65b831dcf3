/**
 * Offload checks the volume root's identity first (issue 14, docs/volumes.md): a missing or
 * changed marker, or none recorded yet, is a `refused` run with a typed error, before the gate
 * reads anything and before any unlink — another disk with the same files mounted there (a
 * backup copy) would pass every hash check and lose its bytes.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { formatVolumeMarker, VOLUME_MARKER_FILE } from '../../src/push/volume-marker.js'
import { testKey } from '../helpers/nodes.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'

function configOf (f: VolumeFixture): Config {
  return { file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([[f.volume.name, f.volume]]), destinations: new Map([['usb', f.usb]]) }
}

async function ready (f: VolumeFixture): Promise<void> {
  f.write('2019/a.jpg', 'alpha')
  f.write('b.jpg', 'beta')
  await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
  expect((await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })).status).toBe('success')
}

async function offload (f: VolumeFixture, dryRun = false): ReturnType<typeof offloadVolume> {
  return await offloadVolume({ store: f.store, config: configOf(f), volume: f.volume, selectors: ['.'], dryRun, perFile: true, logger: f.logger })
}

function lastOffloadRun (f: VolumeFixture): ReturnType<VolumeFixture['store']['runs']['get']> | undefined {
  return f.store.runs.list({ kind: 'offload', limit: 1 })[0]
}

describe('offload and the volume root\'s identity', () => {
  it('refuses to offload from a disk that is not the volume\'s (the marker gone, the same files there): a refused run, nothing deleted', async () => {
    const f = volumeFixture()
    await ready(f)
    // a copy of the tree without its marker is mounted at the volume's path
    rmSync(join(f.volume.path, VOLUME_MARKER_FILE))
    await expect(offload(f)).rejects.toMatchObject({ name: 'VolumeMarkerError', volume: 'photos', found: null })
    expect(lastOffloadRun(f)).toMatchObject({ status: 'refused', error: expect.stringContaining('check the mount') })
    expect(readFileSync(join(f.volume.path, '2019/a.jpg'), 'utf8')).toBe('alpha')
    expect(readFileSync(join(f.volume.path, 'b.jpg'), 'utf8')).toBe('beta')
    const v = f.store.volumes.get('photos')!
    expect([...f.store.files.live(v.id).values()].every(x => x.status === 'present')).toBe(true)
    // a dry run says the same, and records no run
    const runs = f.store.runs.list({ kind: 'offload' }).length
    await expect(offload(f, true)).rejects.toMatchObject({ name: 'VolumeMarkerError' })
    expect(f.store.runs.list({ kind: 'offload' }).length).toBe(runs)
  })

  it('refuses an unmounted disk (the bare mount point) and writes nothing there', async () => {
    const f = volumeFixture()
    await ready(f)
    renameSync(f.volume.path, join(f.root, 'away'))
    mkdirSync(f.volume.path)
    await expect(offload(f)).rejects.toMatchObject({ name: 'VolumeMarkerError', found: null })
    expect(lastOffloadRun(f)?.status).toBe('refused')
    expect(existsSync(join(f.volume.path, VOLUME_MARKER_FILE))).toBe(false)
  })

  it('refuses a root carrying another volume\'s marker, even with the very same files', async () => {
    const f = volumeFixture()
    await ready(f)
    writeFileSync(join(f.volume.path, VOLUME_MARKER_FILE), formatVolumeMarker('00112233445566778899aabbccddeeff', testKey(1).nodeId, 'photos-backup'))
    await expect(offload(f)).rejects.toMatchObject({ name: 'VolumeMarkerError', found: '00112233445566778899aabbccddeeff', foundVolume: 'photos-backup' })
    expect(existsSync(join(f.volume.path, '2019/a.jpg'))).toBe(true)
  })

  it('refuses a volume whose marker is not recorded yet, telling the operator to index first', async () => {
    const f = volumeFixture()
    await ready(f)
    f.store.db.prepare('UPDATE volumes SET marker_id = NULL').run()
    rmSync(join(f.volume.path, VOLUME_MARKER_FILE))
    const err = await offload(f).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'VolumeNotInitializedError', volume: 'photos' })
    expect((err as { hint: string }).hint).toContain('cairn index photos')
    expect(existsSync(join(f.volume.path, 'b.jpg'))).toBe(true)
    // the index writes the marker; then the offload goes on
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(await offload(f)).toMatchObject({ status: 'success', offloaded: 2 })
  })
})
