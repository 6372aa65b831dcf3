/**
 * DESIGN invariant 26: two paths that one destination would store as one (case folding,
 * Unicode normalization) are refused before transfer; a push never reports both as durable.
 * The folding destinations are injected (test/helpers/folding-fs.ts): the real tmp filesystem
 * here folds nothing, and mounting exFAT or an ext4 casefold directory needs privileges.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { gateFile } from '../../src/offload/gate.js'
import { loadGatePolicy } from '../../src/offload/gate-policy.js'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { foldProbe } from '../../src/push/fold-probe.js'
import { findPathCollisions } from '../../src/push/path-collisions.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { foldingFs } from '../helpers/folding-fs.js'
import { tempDir } from '../helpers/store.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'

const NFC = 'caf\u00e9.jpg'
const NFD = 'cafe\u0301.jpg'

async function indexed (f: VolumeFixture): Promise<void> {
  await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
}

/** The gate's causes per present file, for a volume that requires only `usb`. */
function gateCauses (f: VolumeFixture): Record<string, string[]> {
  const config = { destinations: new Map([['usb', f.usb]]) } as unknown as Config
  const policy = loadGatePolicy(f.store, config, f.volume, f.store.clock.nowNs())
  const out: Record<string, string[]> = {}
  for (const row of f.store.files.iterateGateRows(f.store.volumes.get('photos')!.id)) out[row.path] = gateFile(policy, row).map(x => x.cause)
  return out
}

/** Every name under `dir`, recursively, skipping cairn's own directories. */
function namesUnder (dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    if (e.name === '.cairn-staging' || e.name === '.cairn-history') return []
    return e.isDirectory() ? namesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  }).sort()
}

describe('probing how a directory folds names', () => {
  it('finds that the real tmp filesystem folds nothing, a case-folding one folds case, a normalizing one NFC/NFD, and leaves no probe behind', async () => {
    const dir = tempDir('cairn-probe-')
    expect(await foldProbe(nodeDirectoryFs).behaviourOf(dir)).toEqual({ foldsCase: false, foldsNormalization: false, probed: true })
    expect(await foldProbe(foldingFs({ root: dir, fold: 'case' })).behaviourOf(dir)).toEqual({ foldsCase: true, foldsNormalization: false, probed: true })
    expect(await foldProbe(foldingFs({ root: dir, fold: 'normalization' })).behaviourOf(dir)).toEqual({ foldsCase: false, foldsNormalization: true, probed: true })
    expect(readdirSync(dir)).toEqual([])
  })

  it('answers for a directory that does not exist yet with its nearest existing parent, probing that parent once', async () => {
    const dir = tempDir('cairn-probe-')
    const created: string[] = []
    const fs = { ...foldingFs({ root: dir, fold: 'case' }) }
    const createProbe = fs.createProbe
    fs.createProbe = async (p) => { created.push(p); await createProbe(p) }
    const probe = foldProbe(fs)
    const answers = await Promise.all([probe.behaviourOf(join(dir, 'a/b/c')), probe.behaviourOf(join(dir, 'a')), probe.behaviourOf(dir)])
    expect(answers.map(a => a.foldsCase)).toEqual([true, true, true])
    expect(created.map(p => p.slice(dir.length + 1).startsWith('.cairn-probe-'))).toEqual([true])
  })

  it('takes a directory it cannot probe to fold case and normalization', async () => {
    const dir = tempDir('cairn-probe-')
    const fs = { ...nodeDirectoryFs, createProbe: async () => { throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }) } }
    expect(await foldProbe(fs).behaviourOf(dir)).toEqual({ foldsCase: true, foldsNormalization: true, probed: false })
  })

  it('probes nothing when no two planned paths could fold together', async () => {
    const dir = tempDir('cairn-probe-')
    let probes = 0
    const fs = { ...nodeDirectoryFs, createProbe: async (p: string) => { probes++; await nodeDirectoryFs.createProbe(p) } }
    expect(await findPathCollisions(foldProbe(fs), dir, ['a.jpg', 'b.jpg', 'x/a.jpg'], [], 'usb')).toEqual(new Map())
    expect(probes).toBe(0)
  })
})

describe('a push to a directory destination that folds names', () => {
  it('refuses two paths that differ only in case on a case-folding destination: neither is written or durable, the other files go on, and the run is partial', async () => {
    const f = volumeFixture()
    f.write('IMG_0001.JPG', 'the original camera file')
    f.write('img_0001.jpg', 'an edited export, different bytes')
    for (let i = 0; i < 6; i++) f.write(`a${i}.jpg`, `filler ${i}`)
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs: foldingFs({ root: f.usb.path, fold: 'case' }) })
    expect(r.status).toBe('partial')
    expect(r.filesSent).toBe(6)
    expect(r.failures.map(x => x.path).sort()).toEqual(['IMG_0001.JPG', 'img_0001.jpg'])
    expect(r.failures.find(x => x.path === 'IMG_0001.JPG')?.reason).toBe('case-collision: "IMG_0001.JPG" and "img_0001.jpg" would be one file at usb')
    expect(namesUnder(join(f.usb.path, 'photos'))).toEqual(['a0.jpg', 'a1.jpg', 'a2.jpg', 'a3.jpg', 'a4.jpg', 'a5.jpg'])
    const causes = gateCauses(f)
    expect(causes['IMG_0001.JPG']).toEqual(['not-pushed'])
    expect(causes['img_0001.jpg']).toEqual(['not-pushed'])
    expect(causes['a0.jpg']).toEqual([])
  })

  it('refuses the NFC and NFD spellings of one name on a normalization-folding destination, and pushes the rest', async () => {
    const f = volumeFixture()
    f.write(NFC, 'composed')
    f.write(NFD, 'decomposed')
    f.write('other.jpg', 'other')
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs: foldingFs({ root: f.usb.path, fold: 'normalization' }) })
    expect(r.status).toBe('partial')
    expect(r.failures.map(x => x.path).sort()).toEqual([NFC, NFD].sort())
    expect(r.failures.every(x => x.reason.startsWith('normalization-collision: '))).toBe(true)
    expect(namesUnder(join(f.usb.path, 'photos'))).toEqual(['other.jpg'])
    const causes = gateCauses(f)
    expect(causes[NFC]).toEqual(['not-pushed'])
    expect(causes[NFD]).toEqual(['not-pushed'])
    expect(causes['other.jpg']).toEqual([])
  })

  it('refuses paths whose directories differ only in case where the tree root folds case', async () => {
    const f = volumeFixture()
    f.write('Camera/x.jpg', 'one')
    f.write('camera/x.jpg', 'two')
    f.write('camera/y.jpg', 'three')
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs: foldingFs({ root: f.usb.path, fold: 'case' }) })
    expect(r.status).toBe('partial')
    expect(r.failures.map(x => x.path).sort()).toEqual(['Camera/x.jpg', 'camera/x.jpg'])
    expect(gateCauses(f)['camera/y.jpg']).toEqual([])
  })

  it('pushes both spellings where the destination does not fold (the real filesystem)', async () => {
    const f = volumeFixture()
    f.write('IMG_0001.JPG', 'upper')
    f.write('img_0001.jpg', 'lower')
    f.write(NFC, 'composed')
    f.write(NFD, 'decomposed')
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(r.failures).toEqual([])
    expect(r).toMatchObject({ status: 'success', filesSent: 4 })
    expect(readFileSync(join(f.usb.path, 'photos/IMG_0001.JPG'), 'utf8')).toBe('upper')
    expect(readFileSync(join(f.usb.path, 'photos/img_0001.jpg'), 'utf8')).toBe('lower')
    expect(readFileSync(join(f.usb.path, 'photos', NFD), 'utf8')).toBe('decomposed')
    expect(Object.values(gateCauses(f))).toEqual([[], [], [], []])
    expect(readdirSync(join(f.usb.path, 'photos')).filter(n => n.startsWith('.cairn-probe'))).toEqual([])
  })

  it('probes each directory: a case-folding subdirectory refuses its pair while a non-folding sibling takes both', async () => {
    const f = volumeFixture()
    f.write('Camera/IMG_1.JPG', 'upper')
    f.write('Camera/img_1.jpg', 'lower')
    f.write('docs/A.txt', 'big a')
    f.write('docs/a.txt', 'small a')
    await indexed(f)
    // an ext4 casefold attribute on usb/photos/Camera only
    mkdirSync(join(f.usb.path, 'photos/Camera'), { recursive: true })
    const fs = foldingFs({ root: f.usb.path, fold: 'case', folds: d => d === 'photos/Camera' })
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs })
    expect(r.status).toBe('partial')
    expect(r.failures.map(x => x.path).sort()).toEqual(['Camera/IMG_1.JPG', 'Camera/img_1.jpg'])
    expect(namesUnder(join(f.usb.path, 'photos'))).toEqual(['docs/A.txt', 'docs/a.txt'])
    expect(gateCauses(f)).toMatchObject({ 'Camera/IMG_1.JPG': ['not-pushed'], 'Camera/img_1.jpg': ['not-pushed'], 'docs/A.txt': [], 'docs/a.txt': [] })
  })

  it('forgets what an earlier push placed for a path once its twin appears, so the gate refuses both', async () => {
    const f = volumeFixture()
    const fs = foldingFs({ root: f.usb.path, fold: 'case' })
    f.write('IMG_0001.JPG', 'the original')
    await indexed(f)
    expect((await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs })).status).toBe('success')
    expect(gateCauses(f)).toEqual({ 'IMG_0001.JPG': [] })
    f.write('img_0001.jpg', 'an export')
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs })
    expect(r.status).toBe('partial')
    expect(gateCauses(f)).toEqual({ 'IMG_0001.JPG': ['not-pushed'], 'img_0001.jpg': ['not-pushed'] })
    // what was there is left as it was
    expect(readFileSync(join(f.usb.path, 'photos/IMG_0001.JPG'), 'utf8')).toBe('the original')
  })
})

describe('a peer push to a receiver whose volume directory folds names', () => {
  const nodes: InProcessNode[] = []
  afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

  async function twoNodes (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode, push: () => ReturnType<typeof pushToPeer>, write: (p: string, c: string) => void }> {
    const root = tempDir('cairn-casefold-')
    mkdirSync(join(root, 'photos'))
    mkdirSync(join(root, 'nas-photos'))
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    nodes.push(laptop, nas)
    await nas.initVolumes() // its operator marks the (empty) volume directory: `cairn volume init photos`
    await nas.start({ pushFrameDeadlineMs: 2000, fs: foldingFs({ root: join(root, 'nas-photos'), fold: 'case' }) })
    await laptop.start()
    enroll(laptop, nas)
    enroll(nas, laptop)
    const nasRow = laptop.store.nodes.byNodeId(nas.key.nodeId)!
    const volume = laptop.config.volumes.get('photos')!
    const push = async (): ReturnType<typeof pushToPeer> => {
      await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
      return await pushToPeer({ store: laptop.store, volume, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
    }
    const write = (p: string, c: string): void => { writeFileSync(join(root, 'photos', p), c) }
    return { root, laptop, nas, push, write }
  }

  function placedAtNas (laptop: InProcessNode, nas: InProcessNode): string[] {
    return [...laptop.store.placements.forVolume(nas.key.nodeId, laptop.store.volumes.get('photos')!.id).keys()].sort()
  }

  it('refuses both paths that differ only in case in its reply, so neither is placed at the peer, and takes the rest', async () => {
    const { root, laptop, nas, push, write } = await twoNodes()
    write('IMG_0001.JPG', 'the original camera file')
    write('img_0001.jpg', 'an edited export, different bytes')
    write('other.jpg', 'other')
    const r = await push()
    expect(r.status).toBe('partial')
    expect(r.failures.map(x => x.path).sort()).toEqual(['IMG_0001.JPG', 'img_0001.jpg'])
    expect(placedAtNas(laptop, nas)).toEqual(['other.jpg'])
    expect(readdirSync(join(root, 'nas-photos')).filter(n => !n.startsWith('.cairn'))).toEqual(['other.jpg'])
    const nasLive = nas.store.files.live(nas.store.volumes.get('photos')!.id)
    expect([...nasLive.keys()]).toEqual(['other.jpg'])
    expect(nas.logs.records.filter(x => x.msg === 'refused a pushed file').map(x => String(x.fields?.reason))).toEqual([
      'case-collision: "IMG_0001.JPG" and "img_0001.jpg" would be one file at volume photos here',
      'case-collision: "img_0001.jpg" and "IMG_0001.JPG" would be one file at volume photos here'
    ])
  })

  it('refuses a path that folds onto a file it already holds, and keeps that file as it is', async () => {
    const { root, laptop, nas, push, write } = await twoNodes()
    write('IMG_0001.JPG', 'the original camera file')
    expect((await push()).status).toBe('success')
    // renamed at the laptop: nas still holds (and may be relied on for) the old spelling
    renameSync(join(root, 'photos/IMG_0001.JPG'), join(root, 'photos/img_0001.jpg'))
    writeFileSync(join(root, 'photos/img_0001.jpg'), 'new bytes under the new name')
    const r = await push()
    expect(r.status).toBe('partial')
    expect(r.failures.map(x => x.path)).toEqual(['img_0001.jpg'])
    expect(placedAtNas(laptop, nas)).not.toContain('img_0001.jpg')
    expect(readFileSync(join(root, 'nas-photos/IMG_0001.JPG'), 'utf8')).toBe('the original camera file')
    expect(existsSync(join(root, 'nas-photos/img_0001.jpg'))).toBe(false)
  })
})
