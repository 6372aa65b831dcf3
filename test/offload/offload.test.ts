import { existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume, type OffloadReport } from '../../src/offload/offload.js'
import { restoreFiles } from '../../src/offload/restore.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { verifyDirectory } from '../../src/push/verify-directory.js'
import { revokeSource } from '../../src/store/revocation.js'
import { addPeer } from '../helpers/nodes.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'
import { snapshotEvidence } from '../helpers/vector.js'

function configOf (f: VolumeFixture, volume: VolumeConfig): Config {
  return { file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([[volume.name, volume]]), destinations: new Map([['usb', f.usb]]) }
}

async function ready (f: VolumeFixture, files: Record<string, string>, volume: VolumeConfig = f.volume, shallow = false): Promise<void> {
  for (const [p, c] of Object.entries(files)) f.write(p, c)
  await indexVolume({ store: f.store, volume, shallow: false, logger: f.logger })
  const r = await pushToDirectory({ store: f.store, volume, destination: f.usb, shallow, logger: f.logger })
  expect(r.status).toBe('success')
}

async function offload (f: VolumeFixture, selectors: string[], over: Partial<Parameters<typeof offloadVolume>[0]> = {}): Promise<OffloadReport> {
  const volume = over.volume ?? f.volume
  return await offloadVolume({ store: f.store, config: configOf(f, volume), volume, selectors, dryRun: false, perFile: true, logger: f.logger, ...over })
}

const causes = (r: OffloadReport): string[] => r.groups.map(g => `${g.target}:${g.cause}`)

describe('offload', () => {
  it('deletes the bytes of files the gate proves durable, marks them offloaded after the unlink, and leaves the rest', async () => {
    const f = volumeFixture()
    await ready(f, { '2019/a.jpg': 'alpha', '2019/b.jpg': 'beta', '2020/c.jpg': 'gamma' })
    const r = await offload(f, ['2019'])
    expect(r).toMatchObject({ status: 'success', selected: 2, offloaded: 2, notDurable: 0, drift: 0, requirements: [{ target: 'usb', satisfied: 2, blocked: 0 }] })
    expect(existsSync(join(f.volume.path, '2019/a.jpg'))).toBe(false)
    expect(existsSync(join(f.volume.path, '2020/c.jpg'))).toBe(true)
    const live = f.store.files.live(f.store.volumes.get('photos')!.id)
    expect(live.get('2019/a.jpg')).toMatchObject({ status: 'offloaded', statusChangedRunId: r.runId })
    expect(live.get('2020/c.jpg')?.status).toBe('present')
  })

  it('refuses a file re-acquired after the last push as not-pushed, until the next push', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    expect((await offload(f, ['.'])).offloaded).toBe(1)
    f.write('a.jpg', 'alpha') // the same bytes are back: re-acquired
    await indexVolume({ store: f.store, volume: f.volume, shallow: false, logger: f.logger })
    const refused = await offload(f, ['.'])
    expect(refused).toMatchObject({ offloaded: 0, notDurable: 1 })
    expect(causes(refused)).toEqual(['usb:not-pushed'])
    expect(refused.groups[0]).toMatchObject({ provenance: 'locally verified', advice: 'the next push to usb covers it' })
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect((await offload(f, ['.'])).offloaded).toBe(1)
  })

  it('refuses evidence recorded with presence+size', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' }, f.volume, true)
    expect(causes(await offload(f, ['.']))).toEqual(['usb:not-content-verified'])
  })

  it('refuses stale evidence under a max age and accepts it without one', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    const volId = f.store.volumes.get('photos')!.id
    // age the component by 40 days (as a rewind run, which the monotone trigger allows)
    const run = f.store.runs.begin({ kind: 'rewind', volumeId: volId, destination: 'usb' })
    f.store.db.prepare('UPDATE vector SET verified_at_ns = verified_at_ns - ?, run_id = ? WHERE volume_id = ?').run(40 * 86_400e9, run.id, volId)
    f.store.runs.finish(run.id, 'success')
    const limited = { ...f.volume, offloadMaxEvidenceAgeMs: 30 * 86_400_000 }
    const r = await offload(f, ['.'], { volume: limited, dryRun: true })
    expect(causes(r)).toEqual(['usb:evidence-stale'])
    expect(r.groups[0]?.advice).toBe('a verify pass over usb refreshes it')
    expect((await offload(f, ['.'], { dryRun: true })).durable).toBe(1)
  })

  it('refuses a NULL verified_at under a max age', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    const volId = f.store.volumes.get('photos')!.id
    const run = f.store.runs.begin({ kind: 'rewind', volumeId: volId, destination: 'usb' })
    f.store.db.prepare('UPDATE vector SET verified_at_ns = NULL, run_id = ? WHERE volume_id = ?').run(run.id, volId)
    f.store.runs.finish(run.id, 'success')
    expect(causes(await offload(f, ['.'], { volume: { ...f.volume, offloadMaxEvidenceAgeMs: 86_400_000 }, dryRun: true }))).toEqual(['usb:evidence-age-unknown'])
  })

  it('refuses a target only a peer reaches when no pulled push freshness covers the file', async () => {
    const f = volumeFixture()
    const nas = addPeer(f.store, 9, 'nas')
    await ready(f, { 'a.jpg': 'alpha' })
    const volId = f.store.volumes.get('photos')!.id
    const self = f.store.nodes.self().id
    const run = f.store.runs.begin({ kind: 'pull', volumeId: volId, peerNodeId: nas.rowId })
    f.store.vector.mergePulled({ volumeId: volId, sourceNodeId: nas.rowId, issuedAtNs: f.store.clock.nowNs(), assertionId: null, runId: run.id, allowRewind: false, freshness: [], components: [{ destination: 'offsite', originNodeId: self, originRunId: 99, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: f.store.clock.nowNs() }] })
    f.store.runs.finish(run.id, 'success')
    const volume = { ...f.volume, offloadRequires: ['usb', 'offsite'] }
    const r = await offload(f, ['.'], { volume, dryRun: true })
    expect(causes(r)).toEqual(['offsite:not-pushed'])
    expect(r.groups[0]).toMatchObject({ provenance: 'asserted by peer nas', detail: 'no peer has reported pushing origin laptop to offsite' })
  })

  it('refuses everything when the volume requires nothing', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    await expect(offload(f, ['.'], { volume: { ...f.volume, offloadRequires: [] } })).rejects.toMatchObject({ name: 'OffloadPolicyMissingError' })
    expect(existsSync(join(f.volume.path, 'a.jpg'))).toBe(true)
  })

  it('leaves a file modified after indexing as drift, and it survives', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha', 'b.jpg': 'beta' })
    writeFileSync(join(f.volume.path, 'a.jpg'), 'alphA')
    const r = await offload(f, ['.'])
    expect(r).toMatchObject({ status: 'partial', offloaded: 1, drift: 1 })
    expect(r.problems).toEqual([expect.objectContaining({ path: 'a.jpg', outcome: 'drift' })])
    expect(readFileSync(join(f.volume.path, 'a.jpg'), 'utf8')).toBe('alphA')
    expect(f.store.files.live(f.store.volumes.get('photos')!.id).get('a.jpg')?.status).toBe('present')
  })

  it('treats a symlinked parent directory as drift and deletes nothing through it', async () => {
    const f = volumeFixture()
    await ready(f, { 'album/a.jpg': 'alpha' })
    const elsewhere = join(f.root, 'elsewhere')
    renameSync(join(f.volume.path, 'album'), elsewhere)
    symlinkSync(elsewhere, join(f.volume.path, 'album'))
    const r = await offload(f, ['.'])
    expect(r).toMatchObject({ offloaded: 0, drift: 1 })
    expect(r.problems[0]?.note).toContain('is a symlink')
    expect(readFileSync(join(elsewhere, 'a.jpg'), 'utf8')).toBe('alpha')
  })

  it('treats a file replaced during the check as drift', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    const r = await offload(f, ['.'], {
      hooks: {
        beforeUnlink: async (abs) => {
          rmSync(abs)
          writeFileSync(abs, 'alpha') // same bytes, another inode
        }
      }
    })
    expect(r).toMatchObject({ offloaded: 0, drift: 1 })
    expect(r.problems[0]?.note).toContain('replaced during the check')
    expect(existsSync(join(f.volume.path, 'a.jpg'))).toBe(true)
  })

  it('reads no file bytes and writes nothing on --dry-run', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha', 'b.jpg': 'beta' })
    // with the bytes gone, any reading would notice; a dry run must not
    rmSync(join(f.volume.path, 'a.jpg'))
    const before = snapshotEvidence(f.store) + JSON.stringify(f.store.db.prepare('SELECT * FROM files ORDER BY id').all()) + JSON.stringify(f.store.runs.list())
    const r = await offload(f, ['.'], { dryRun: true })
    expect(r).toMatchObject({ dryRun: true, runId: null, selected: 2, durable: 2, offloaded: 0, drift: 0 })
    expect(r.files?.map(x => x.outcome)).toEqual(['offloaded', 'offloaded'])
    expect(snapshotEvidence(f.store) + JSON.stringify(f.store.db.prepare('SELECT * FROM files ORDER BY id').all()) + JSON.stringify(f.store.runs.list())).toBe(before)
  })

  it('refuses a destination whose last verify failed after the last push', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    writeFileSync(join(f.usb.path, 'photos/a.jpg'), 'rotten')
    expect((await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })).status).toBe('failed')
    const r = await offload(f, ['.'], { dryRun: true })
    expect(causes(r)).toEqual(['usb:not-content-verified'])
    expect(r.groups[0]?.detail).toMatch(/verify run \d+ found files missing or changed at usb/)
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect((await offload(f, ['.'], { dryRun: true })).durable).toBe(1)
  })

  it('stops before the next unlink when a revocation lands during the offload', async () => {
    const f = volumeFixture()
    const nas = addPeer(f.store, 9, 'nas')
    await ready(f, { 'a.jpg': 'alpha', 'b.jpg': 'beta', 'c.jpg': 'gamma' })
    let first = true
    const r = await offload(f, ['.'], {
      hooks: {
        beforeUnlink: async () => {
          if (first) revokeSource(f.store, nas.rowId)
          first = false
        }
      }
    })
    expect(r).toMatchObject({ status: 'failed', offloaded: 1 })
    expect(r.stopped).toMatch(/a revoke \(run \d+\) changed the evidence/)
    expect(existsSync(join(f.volume.path, 'b.jpg'))).toBe(true)
  })

  it('refuses selectors that could leave the volume, and requires one', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    for (const bad of [['/etc'], ['../x'], ['a/../../b']]) await expect(offload(f, bad, { dryRun: true })).rejects.toMatchObject({ name: 'SelectorError' })
    await expect(offload(f, [], { dryRun: true })).rejects.toMatchObject({ name: 'SelectorError' })
  })
})

describe('restore', () => {
  it('brings offloaded files back byte-identical, marks them present with a new status change, and they must be pushed again', async () => {
    const f = volumeFixture()
    await ready(f, { '2019/a.jpg': 'alpha bytes', '2019/b.jpg': 'beta bytes' })
    await offload(f, ['2019'])
    const r = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: ['2019/a.jpg'], logger: f.logger })
    expect(r).toMatchObject({ status: 'success', restored: 1, failed: 0 })
    expect(readFileSync(join(f.volume.path, '2019/a.jpg'), 'utf8')).toBe('alpha bytes')
    const live = f.store.files.live(f.store.volumes.get('photos')!.id)
    expect(live.get('2019/a.jpg')).toMatchObject({ status: 'present', statusChangedRunId: r.runId })
    expect(live.get('2019/b.jpg')?.status).toBe('offloaded')
    expect(causes(await offload(f, ['2019'], { dryRun: true }))).toEqual(['usb:not-pushed'])
  })

  it('refuses a copy at the destination that does not hash to the indexed content', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    await offload(f, ['.'])
    writeFileSync(join(f.usb.path, 'photos/a.jpg'), 'corrupt')
    const r = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: [], logger: f.logger })
    expect(r).toMatchObject({ status: 'partial', restored: 0, failed: 1 })
    expect(existsSync(join(f.volume.path, 'a.jpg'))).toBe(false)
  })
})
