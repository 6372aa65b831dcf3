/**
 * The identity of a node's own volume root at index time (issue 14, docs/volumes.md): an index
 * marks a non-empty root and never an empty one (maybe a bare mount point), and refuses a root
 * whose recorded marker is missing or another one, marking nothing missing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { ensureVolumeIdentity, formatVolumeMarker, parseVolumeMarker, VOLUME_MARKER_FILE } from '../../src/push/volume-marker.js'
import { testKey } from '../helpers/nodes.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'

const OTHER_ID = 'feedfacefeedfacefeedfacefeedface'

async function index (f: VolumeFixture): ReturnType<typeof indexVolume> {
  return await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
}

function markerAt (f: VolumeFixture): ReturnType<typeof parseVolumeMarker> {
  const p = join(f.volume.path, VOLUME_MARKER_FILE)
  return parseVolumeMarker(existsSync(p) ? readFileSync(p, 'utf8') : undefined)
}

/** Unmounts the volume's disk: its whole tree goes away and leaves the bare mount point. */
function unmount (f: VolumeFixture): string {
  const away = join(f.root, 'unmounted-disk')
  renameSync(f.volume.path, away)
  mkdirSync(f.volume.path)
  return away
}

function presentPaths (f: VolumeFixture): string[] {
  const v = f.store.volumes.get('photos')!
  return [...f.store.files.live(v.id).values()].filter(x => x.status === 'present').map(x => x.path).sort()
}

describe('index and the volume root\'s identity marker', () => {
  it('writes the marker (a random id, this node, the volume) at the first index of a non-empty root and records its id', async () => {
    const f = volumeFixture()
    f.write('2019/a.jpg', 'alpha')
    const r = await index(f)
    const m = markerAt(f)
    expect(m).toMatchObject({ kind: 'v2', ownerNodeId: testKey(1).nodeId, volume: 'photos' })
    expect(r).toMatchObject({ status: 'success', filesSeen: 1, markerWritten: true, markerId: m.kind === 'v2' ? m.markerId : 'none' })
    expect(f.store.volumes.get('photos')?.markerId).toBe(r.markerId)
    // the marker is not a file of the volume, and no temp file is left beside it
    expect(presentPaths(f)).toEqual(['2019/a.jpg'])
    expect(readdirSync(f.volume.path).sort()).toEqual(['.cairn-volume', '2019'])
    // the next index finds it and writes nothing
    const again = await index(f)
    expect(again).toMatchObject({ status: 'success', markerWritten: false, markerId: r.markerId })
  })

  it('never writes the marker over an empty root by itself (it may be the mount point of a disk that is not mounted)', async () => {
    const f = volumeFixture()
    const r = await index(f)
    expect(r).toMatchObject({ status: 'success', filesSeen: 0, markerId: null, markerWritten: false })
    expect(existsSync(join(f.volume.path, VOLUME_MARKER_FILE))).toBe(false)
    expect(f.store.volumes.get('photos')?.markerId).toBeNull()
  })

  it('refuses to index an unmounted disk (marker gone, root empty): a refused run, nothing marked missing, nothing written', async () => {
    const f = volumeFixture()
    f.write('2019/a.jpg', 'alpha')
    f.write('b.jpg', 'beta')
    const first = await index(f)
    unmount(f)
    await expect(index(f)).rejects.toMatchObject({ name: 'VolumeMarkerError', volume: 'photos', root: f.volume.path, recorded: first.markerId, found: null })
    const run = f.store.runs.list({ kind: 'index', limit: 1 })[0]
    expect(run).toMatchObject({ status: 'refused' })
    expect(run?.error).toContain('check the mount')
    expect(presentPaths(f)).toEqual(['2019/a.jpg', 'b.jpg'])
    expect(readdirSync(f.volume.path)).toEqual([])
    expect(f.store.volumes.get('photos')?.markerId).toBe(first.markerId)
  })

  it('refuses a root that carries another volume\'s marker (another disk mounted there) and leaves that marker as it is', async () => {
    const f = volumeFixture()
    f.write('a.jpg', 'alpha')
    const first = await index(f)
    const away = unmount(f)
    // another disk: a tree with the same file names, marked by this node for another volume
    const other = formatVolumeMarker(OTHER_ID, testKey(1).nodeId, 'music')
    writeFileSync(join(f.volume.path, VOLUME_MARKER_FILE), other)
    writeFileSync(join(f.volume.path, 'a.jpg'), 'alpha')
    writeFileSync(join(f.volume.path, 'c.jpg'), 'not this volume\'s')
    await expect(index(f)).rejects.toMatchObject({ name: 'VolumeMarkerError', recorded: first.markerId, found: OTHER_ID, foundVolume: 'music' })
    expect(readFileSync(join(f.volume.path, VOLUME_MARKER_FILE), 'utf8')).toBe(other)
    expect(presentPaths(f)).toEqual(['a.jpg'])
    // the right disk comes back: the index goes on as before
    renameSync(f.volume.path, join(f.root, 'the-other-disk'))
    renameSync(away, f.volume.path)
    expect(await index(f)).toMatchObject({ status: 'success', markerId: first.markerId, filesMissing: 0 })
  })

  it('refuses a non-empty unmarked root that carries another node\'s marker, before any marker is recorded', async () => {
    const f = volumeFixture()
    f.write('a.jpg', 'alpha')
    writeFileSync(join(f.volume.path, VOLUME_MARKER_FILE), formatVolumeMarker(OTHER_ID, testKey(2).nodeId, 'photos'))
    await expect(index(f)).rejects.toMatchObject({ name: 'VolumeMarkerError', recorded: null, found: OTHER_ID, foundOwner: testKey(2).nodeId })
    expect(f.store.volumes.get('photos')?.markerId).toBeNull()
    expect(presentPaths(f)).toEqual([])
  })

  it('refuses an empty unmarked root where files were recorded (an existing home whose disk is not mounted) instead of marking them all missing', async () => {
    const f = volumeFixture()
    f.write('a.jpg', 'alpha')
    await index(f)
    // as a home from before volume markers: files recorded, no marker recorded or written
    f.store.db.prepare('UPDATE volumes SET marker_id = NULL').run()
    unmount(f)
    await expect(index(f)).rejects.toMatchObject({ name: 'VolumeRootEmptyError', volume: 'photos', filesRecorded: 1 })
    expect(presentPaths(f)).toEqual(['a.jpg'])
    expect(readdirSync(f.volume.path)).toEqual([])
  })

  it('writes one marker when two writers race for an unmarked root, and both record its id', async () => {
    const f = volumeFixture()
    f.write('a.jpg', 'alpha')
    f.store.volumes.ensure('photos', f.volume.path)
    const [x, y] = await Promise.all([0, 1].map(async () => await ensureVolumeIdentity(f.store, nodeDirectoryFs, 'photos', f.volume.path)))
    expect(x?.markerId).toBe(y?.markerId)
    expect([x?.written, y?.written].filter(Boolean)).toHaveLength(1)
    expect(readdirSync(f.volume.path).filter(n => n.startsWith('.cairn'))).toEqual(['.cairn-volume'])
    expect(f.store.volumes.get('photos')?.markerId).toBe(x?.markerId)
  })

  it('takes back this node\'s own marker for the volume when none is recorded (a crash between the write and the record)', async () => {
    const f = volumeFixture()
    f.write('a.jpg', 'alpha')
    writeFileSync(join(f.volume.path, VOLUME_MARKER_FILE), formatVolumeMarker(OTHER_ID, testKey(1).nodeId, 'photos'))
    expect(await index(f)).toMatchObject({ status: 'success', markerId: OTHER_ID, markerWritten: false })
    expect(f.store.volumes.get('photos')?.markerId).toBe(OTHER_ID)
  })

  it('rewrites this node\'s own marker from before markers had ids with an id, and records it', async () => {
    const f = volumeFixture()
    f.write('a.jpg', 'alpha')
    writeFileSync(join(f.volume.path, VOLUME_MARKER_FILE), `cairn-volume-v1\n${testKey(1).nodeId}\nvolume photos\n`)
    const r = await index(f)
    expect(r.markerWritten).toBe(true)
    expect(markerAt(f)).toMatchObject({ kind: 'v2', markerId: r.markerId, ownerNodeId: testKey(1).nodeId, volume: 'photos' })
  })
})
