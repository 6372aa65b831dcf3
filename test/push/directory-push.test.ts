import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { verifyDirectory } from '../../src/push/verify-directory.js'
import { resetDestination } from '../../src/store/revocation.js'
import { claimCovers } from '../../src/evidence/claims.js'
import { gateFile } from '../../src/offload/gate.js'
import { loadGatePolicy } from '../../src/offload/gate-policy.js'
import type { Config } from '../../src/config/types.js'
import { cairn } from '../helpers/cli.js'
import { localKey, sha256, volumeFixture, type VolumeFixture } from '../helpers/volume.js'

async function indexed (f: VolumeFixture): Promise<number> {
  return (await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })).runId
}

/** The store key `usb` resolves to now (its marker's `dir:` key). */
function usbKey (f: VolumeFixture): string {
  return localKey(f.store, 'usb')
}

function component (f: VolumeFixture): ReturnType<VolumeFixture['store']['vector']['get']> {
  return f.store.vector.get(f.store.volumes.get('photos')!.id, usbKey(f), f.store.nodes.self().id)
}

/** The gate's causes per present file, for a volume that requires only `usb`. */
function gateCauses (f: VolumeFixture): Record<string, string[]> {
  const config = { destinations: new Map([['usb', f.usb]]) } as unknown as Config
  const policy = loadGatePolicy(f.store, config, f.volume, f.store.clock.nowNs())
  const out: Record<string, string[]> = {}
  for (const row of f.store.files.iterateGateRows(f.store.volumes.get('photos')!.id)) out[row.path] = gateFile(policy, row).map(x => x.cause)
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a < b ? -1 : 1))
}

/** The one history directory (`<self node id>-run-<run>-<8 hex>`) a push run made at `usb`. */
function historyOf (f: VolumeFixture, runId: number): string {
  const root = join(f.usb.path, 'photos/.cairn-history')
  const dirs = readdirSync(root).filter(d => d.startsWith(`${f.store.nodes.self().nodeId}-run-${runId}-`))
  expect(dirs).toHaveLength(1)
  expect(dirs[0]).toMatch(/-run-\d+-[0-9a-f]{8}$/)
  return join(root, dirs[0]!)
}

describe('push to a directory destination', () => {
  it('forgets a placement whose re-copy failed after the old bytes moved to history, so the gate refuses it (found by review)', async () => {
    const f = volumeFixture()
    f.write('a.jpg', 'the bytes')
    await indexed(f)
    expect((await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })).status).toBe('success')
    expect(gateCauses(f)).toEqual({ 'a.jpg': [] })
    // someone touches the copy at the destination: the next push re-copies it, and the commit
    // fails after moving the old bytes aside (a full disk, an unplugged cable)
    const there = join(f.usb.path, 'photos/a.jpg')
    await nodeDirectoryFs.setMtime(there, 1_000_000_000)
    let moves = 0
    const failing: DirectoryFs = {
      ...nodeDirectoryFs,
      // the commit's create-exclusive link of the staged file to its final name
      linkNoReplace: async (from, to) => {
        if (to === there && ++moves > 0 && from.includes('.cairn-staging')) throw new Error('ENOSPC: no space left on device')
        await nodeDirectoryFs.linkNoReplace(from, to)
      }
    }
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs: failing })
    expect(r.status).toBe('partial')
    expect(existsSync(there)).toBe(false)
    expect(gateCauses(f)).toEqual({ 'a.jpg': ['not-pushed'] })
  })

  it('copies every file, reads it back, and advances the vector to the snapshot with sha256-readback', async () => {
    const f = volumeFixture()
    f.write('2019/p1.jpg', 'one')
    f.write('2019/p2.jpg', 'two')
    const run = await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(r).toMatchObject({ status: 'success', filesSent: 2, bytesSent: 6, method: 'sha256-readback', advanced: [{ originNodeId: f.store.nodes.self().id, originRunId: run }] })
    expect(readFileSync(join(f.usb.path, 'photos/2019/p1.jpg'), 'utf8')).toBe('one')
    expect(component(f)).toMatchObject({ originRunId: run, verifyMethod: 'sha256-readback', sourceNodeId: null })
    expect(f.store.runs.get(r.runId)).toMatchObject({ status: 'success', destination: 'usb' })
    // the destination is its marker: a v2 marker owned by this node, keyed `dir:<id>` in the store
    const marker = readFileSync(join(f.usb.path, '.cairn-destination'), 'utf8')
    const markerId = marker.split('\n')[1]!
    expect(markerId).toMatch(/^[0-9a-f]{32}$/)
    expect(marker).toBe(`cairn-destination-v2\n${markerId}\nowner ${f.store.nodes.self().nodeId}\nlabel usb\n`)
    expect(usbKey(f)).toBe(`dir:${markerId}`)
    expect(f.store.vector.get(f.store.volumes.get('photos')!.id, 'usb', f.store.nodes.self().id)).toBeUndefined()
  })

  it('sends only what the destination lacks on the next push', async () => {
    const f = volumeFixture()
    f.write('a', 'aaa')
    f.write('b', 'bbb')
    await indexed(f)
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    f.write('c', 'new file')
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(r).toMatchObject({ status: 'success', filesSent: 1, bytesSent: 8, filesSkipped: 2 })
  })

  it('claims only what was placed: a file indexed after the snapshot is an exception of the claim and never passes the gate', async () => {
    const f = volumeFixture()
    f.write('old', 'before the push')
    const first = await indexed(f)
    const volId = f.store.volumes.get('photos')!.id
    const r = await pushToDirectory({
      store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger,
      hooks: {
        // an index write that lands after the snapshot, before the claims are settled (the race
        // run gates prevent; injected here directly to prove the claim follows placements, not
        // a re-read of the files table)
        afterSnapshot: () => {
          f.write('late', 'after the snapshot')
          const sneaky = Number(f.store.db.prepare("INSERT INTO runs (kind, volume_id, status, started_at_ns, ended_at_ns) VALUES ('index', ?, 'success', 1, 2)").run(volId).lastInsertRowid)
          f.store.files.recordObserved(volId, sneaky, [{ path: 'late', hash: sha256('after the snapshot'), size: 18, mtimeNs: 1, originNodeId: f.store.nodes.self().id, originRunId: sneaky }])
        }
      }
    })
    expect(r.status).toBe('success')
    const late = f.store.files.live(volId).get('late')!
    expect(late.originRunId).toBeGreaterThan(first)
    // nothing of the late file was placed or copied
    expect(f.store.placements.forVolume(usbKey(f), volId).has('old')).toBe(true)
    expect(f.store.placements.forVolume(usbKey(f), volId).has('late')).toBe(false)
    expect(existsSync(join(f.usb.path, 'photos/late'))).toBe(false)
    // the claim may reach the late run, but only with the late file as a named exception
    const c = component(f)!
    expect(claimCovers(c, 'old', first)).toBe(true)
    expect(claimCovers(c, 'late', late.originRunId)).toBe(false)
    expect(c.exceptions).toEqual([{ path: 'late', run: late.originRunId }])
    expect(gateCauses(f)).toEqual({ old: [], late: ['not-pushed'] })
  })

  it('refuses a real concurrent `cairn index` while a push of the volume runs', async () => {
    const f = volumeFixture()
    f.write('a', '1')
    await indexed(f)
    // a home whose store is this fixture's database, so the CLI sees the running push
    let release: () => void = () => {}
    const blocked = new Promise<void>(resolve => { release = resolve })
    const pushing = pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, hooks: { afterSnapshot: async () => { await blocked } } })
    const { makeHome } = await import('../helpers/home.js')
    const h = makeHome('laptop')
    h.configure(`[volumes.photos]\npath = "${f.volume.path}"`)
    // point the home's database at the fixture's: copy is not enough, so link it
    rmSync(join(h.home, 'cairn.db'))
    const { symlinkSync } = await import('node:fs')
    symlinkSync(join(f.root, 'cairn.db'), join(h.home, 'cairn.db'))
    const r = await cairn(h.home, ['index', 'photos'])
    release()
    await pushing
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot start index of photos: push to usb run \d+ started at .* is still running/)
  })

  it('marks a push partial when read-back finds a corrupted byte: the corrupted file is not placed and is an exception of the claim', async () => {
    const f = volumeFixture()
    f.write('good', 'fine')
    f.write('bad', 'will be corrupted')
    const run = await indexed(f)
    const volId = f.store.volumes.get('photos')!.id
    const corrupting: DirectoryFs = {
      ...nodeDirectoryFs,
      copyFile: async (src, dst) => {
        await nodeDirectoryFs.copyFile(src, dst)
        if (src.endsWith('/bad')) {
          const bytes = readFileSync(dst)
          bytes[3] = (bytes[3] ?? 0) ^ 0xff
          writeFileSync(dst, bytes)
        }
      }
    }
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger, fs: corrupting })
    expect(r).toMatchObject({ status: 'partial', advanced: [{ originNodeId: f.store.nodes.self().id, originRunId: run }] })
    expect(r.failures.map(x => x.path)).toEqual(['bad'])
    expect(f.store.runs.get(r.runId)).toMatchObject({ status: 'partial' })
    // a partial push counts for exactly what it placed
    expect([...f.store.placements.forVolume(usbKey(f), volId).keys()]).toEqual(['good'])
    const c = component(f)!
    expect(c).toMatchObject({ originRunId: run, verifyMethod: 'sha256-readback', sourceNodeId: null, exceptions: [{ path: 'bad', run }] })
    expect(claimCovers(c, 'bad', run)).toBe(false)
    expect(claimCovers(c, 'good', run)).toBe(true)
    expect(gateCauses(f)).toEqual({ bad: ['not-pushed'], good: [] })
    // once the fault is gone, a push rewrites the bad file and succeeds; the exception is gone
    const again = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(again.status).toBe('success')
    expect(readFileSync(join(f.usb.path, 'photos/bad'), 'utf8')).toBe('will be corrupted')
    expect(component(f)).toMatchObject({ originRunId: run, exceptions: [] })
    expect(gateCauses(f)).toEqual({ bad: [], good: [] })
  })

  it('keeps an overwritten file\'s old bytes under .cairn-history/<node>-run-<id>-<random>/ and deletes nothing', async () => {
    const f = volumeFixture()
    f.write('2019/p1.jpg', 'version one')
    await indexed(f)
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    f.write('2019/p1.jpg', 'version two')
    rmSync(join(f.volume.path, '2019/p1.jpg'))
    f.write('2019/p1.jpg', 'version two')
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(readFileSync(join(f.usb.path, 'photos/2019/p1.jpg'), 'utf8')).toBe('version two')
    expect(readFileSync(join(historyOf(f, r.runId), '2019/p1.jpg'), 'utf8')).toBe('version one')
  })

  it('refuses a push once the marker is gone, until `destination reset`; history keeps the old rows', async () => {
    const f = volumeFixture()
    f.write('a', '1')
    await indexed(f)
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    rmSync(join(f.usb.path, '.cairn-destination'))
    const refused = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(refused).toMatchObject({ status: 'refused', refusal: { name: 'DestinationMarkerError', destination: 'usb' } })
    expect(refused.error).toContain('cairn destination reset usb')
    expect(f.store.runs.get(refused.runId).status).toBe('refused')
    const volId = f.store.volumes.get('photos')!.id
    const historyBefore = f.store.vector.history(volId)
    resetDestination(f.store, 'usb')
    const again = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(again).toMatchObject({ status: 'success', filesSent: 1 })
    expect(f.store.vector.history(volId).slice(0, historyBefore.length)).toEqual(historyBefore)
    expect(f.store.vector.history(volId)).toHaveLength(historyBefore.length + 1)
  })

  it('refuses a destination whose marker differs from the recorded one', async () => {
    const f = volumeFixture()
    f.write('a', '1')
    await indexed(f)
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    writeFileSync(join(f.usb.path, '.cairn-destination'), 'cairn-destination-v1\n' + 'ab'.repeat(16) + '\n')
    expect(await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger }))
      .toMatchObject({ status: 'refused', refusal: { name: 'DestinationMarkerError', found: 'ab'.repeat(16) } })
  })

  it('refuses a destination root that does not exist instead of creating it (an unmounted disk)', async () => {
    const f = volumeFixture()
    f.write('a', '1')
    await indexed(f)
    rmSync(f.usb.path, { recursive: true })
    expect(await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger }))
      .toMatchObject({ status: 'refused', refusal: { name: 'DestinationUnavailableError' } })
    expect(existsSync(f.usb.path)).toBe(false)
  })

  it('records presence+size for a shallow push, which is not content-verified', async () => {
    const f = volumeFixture()
    f.write('a', '1')
    await indexed(f)
    const r = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: true, logger: f.logger })
    expect(r).toMatchObject({ status: 'success', method: 'presence+size' })
    expect(component(f)?.verifyMethod).toBe('presence+size')
  })
})

describe('verify a directory destination', () => {
  it('re-hashes every placed file and refreshes its last read on a clean pass, the claim unchanged in reach', async () => {
    const f = volumeFixture()
    f.write('a', '1')
    f.write('b', '2')
    await indexed(f)
    const volId = f.store.volumes.get('photos')!.id
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    const before = component(f)!
    const readsBefore = f.store.placements.forVolume(usbKey(f), volId)
    await new Promise(resolve => setTimeout(resolve, 5))
    const r = await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })
    expect(r).toMatchObject({ status: 'success', checked: 2, mismatched: 0, missing: 0, reconfirmed: 2, problems: [] })
    const after = component(f)!
    expect(after).toMatchObject({ originRunId: before.originRunId, verifyMethod: 'sha256-readback', sourceNodeId: null, exceptions: [] })
    expect(after.verifiedAtNs).toBeGreaterThan(before.verifiedAtNs ?? 0)
    for (const [path, p] of f.store.placements.forVolume(usbKey(f), volId)) expect(p.verifiedAtNs).toBeGreaterThan(readsBefore.get(path)!.verifiedAtNs)
    expect(f.store.vector.retractions(volId)).toEqual([])
  })

  it('fails on a mismatch or a missing file, forgets their placements, takes them out of the claim at once (in vector_history), records alarms, and the next push rewrites them', async () => {
    const f = volumeFixture()
    f.write('a', 'original a')
    f.write('b', 'original b')
    f.write('c', 'original c')
    const run = await indexed(f)
    const volId = f.store.volumes.get('photos')!.id
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(component(f)).toMatchObject({ originRunId: run, exceptions: [] })
    writeFileSync(join(f.usb.path, 'photos/a'), 'bit rot')
    rmSync(join(f.usb.path, 'photos/b'))
    const r = await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })
    expect(r).toMatchObject({ status: 'failed', checked: 3, mismatched: 1, missing: 1, reconfirmed: 1 })
    expect(f.store.runs.get(r.runId).status).toBe('failed')
    expect(f.store.runs.events(r.runId).filter(e => e.transition === 'alarm').map(e => e.note).sort()).toEqual(['a: mismatched at usb', 'b: missing at usb'])
    // the damaged files' placements are forgotten; the intact one stays
    expect([...f.store.placements.forVolume(usbKey(f), volId).keys()]).toEqual(['c'])
    // the claim no longer covers the damaged files, at once, whatever runs next
    const c = component(f)!
    expect(claimCovers(c, 'a', run)).toBe(false)
    expect(claimCovers(c, 'b', run)).toBe(false)
    expect(claimCovers(c, 'c', run)).toBe(true)
    expect(gateCauses(f)).toEqual({ a: ['not-pushed'], b: ['not-pushed'], c: [] })
    expect(f.store.vector.history(volId).at(-1)).toMatchObject({ destination: usbKey(f), runId: r.runId, exceptions: [{ path: 'a', run }, { path: 'b', run }] })
    // a second verify does not bring them back
    const again = await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })
    expect(again).toMatchObject({ status: 'success', checked: 1 })
    expect(gateCauses(f)).toEqual({ a: ['not-pushed'], b: ['not-pushed'], c: [] })
    const push = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(push).toMatchObject({ status: 'success', filesSent: 2 })
    expect(readFileSync(join(f.usb.path, 'photos/a'), 'utf8')).toBe('original a')
    expect(readFileSync(join(historyOf(f, push.runId), 'a'), 'utf8')).toBe('bit rot')
    expect(component(f)).toMatchObject({ originRunId: run, exceptions: [] })
    expect(gateCauses(f)).toEqual({ a: [], b: [], c: [] })
  })

  it('retracts the whole claim, audited in vector_retractions, when verify finds every placed file damaged', async () => {
    const f = volumeFixture()
    f.write('a', 'original a')
    f.write('b', 'original b')
    const run = await indexed(f)
    const volId = f.store.volumes.get('photos')!.id
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(component(f)).toMatchObject({ originRunId: run })
    writeFileSync(join(f.usb.path, 'photos/a'), 'bit rot')
    rmSync(join(f.usb.path, 'photos/b'))
    const r = await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })
    expect(r).toMatchObject({ status: 'failed', checked: 2, mismatched: 1, missing: 1 })
    expect(component(f)).toBeUndefined()
    expect(f.store.placements.forVolume(usbKey(f), volId).size).toBe(0)
    expect(f.store.vector.retractions(volId)).toEqual([
      expect.objectContaining({ destination: usbKey(f), originNodeId: f.store.nodes.self().id, fromRun: run, toRun: 0, sourceNodeId: null, runId: r.runId })
    ])
    expect(gateCauses(f)).toEqual({ a: ['not-pushed'], b: ['not-pushed'] })
  })
})
