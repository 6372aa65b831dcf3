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
import { directoryKey } from '../../src/store/destinations.js'
import { addPeer } from '../helpers/nodes.js'
import { localKey, volumeFixture, type VolumeFixture } from '../helpers/volume.js'
import { snapshotEvidence } from '../helpers/vector.js'

function configOf (f: VolumeFixture, volume: VolumeConfig): Config {
  return { file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([[volume.name, volume]]), destinations: new Map([['usb', f.usb]]) }
}

async function ready (f: VolumeFixture, files: Record<string, string>, volume: VolumeConfig = f.volume, shallow = false): Promise<void> {
  for (const [p, c] of Object.entries(files)) f.write(p, c)
  await indexVolume({ store: f.store, volume, quick: false, logger: f.logger })
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

  it('gates a re-acquired file on its own placement: the same bytes back pass on the copy still placed, other bytes are not-pushed until the next push', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    const volId = f.store.volumes.get('photos')!.id
    const self = f.store.nodes.self().id
    expect((await offload(f, ['.'])).offloaded).toBe(1)
    f.write('a.jpg', 'alpha') // the same bytes are back: re-acquired
    const back = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    // re-entry is a new origin locally: a new row, stamped with the index run
    expect(f.store.files.live(volId).get('a.jpg')).toMatchObject({ status: 'present', originNodeId: self, originRunId: back.runId, statusChangedRunId: back.runId })
    // ...but usb still holds exactly these bytes, content-verified: the placement covers it
    expect(await offload(f, ['.'])).toMatchObject({ offloaded: 1, notDurable: 0 })
    f.write('a.jpg', 'alpha, edited') // other bytes at the same path
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    const refused = await offload(f, ['.'])
    expect(refused).toMatchObject({ offloaded: 0, notDurable: 1 })
    expect(causes(refused)).toEqual(['usb:not-pushed'])
    expect(refused.groups[0]).toMatchObject({ advice: 'the next push to usb covers it' })
    expect(readFileSync(join(f.volume.path, 'a.jpg'), 'utf8')).toBe('alpha, edited')
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect((await offload(f, ['.'])).offloaded).toBe(1)
  })

  it('refuses evidence recorded with presence+size', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' }, f.volume, true)
    expect(causes(await offload(f, ['.']))).toEqual(['usb:not-content-verified'])
  })

  it('refuses a placement whose last real read is older than a max age, a skipped push keeps it old, and a verify pass refreshes it', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    const volId = f.store.volumes.get('photos')!.id
    // the last real read of the bytes at usb was 40 days ago
    expect(f.store.db.prepare('UPDATE placements SET verified_at_ns = verified_at_ns - ? WHERE destination = ? AND volume_id = ?').run(40 * 86_400e9, localKey(f.store, 'usb'), volId).changes).toBe(1)
    const limited = { ...f.volume, offloadMaxEvidenceAgeMs: 30 * 86_400_000 }
    const r = await offload(f, ['.'], { volume: limited, dryRun: true })
    expect(causes(r)).toEqual(['usb:evidence-stale'])
    expect(r.groups[0]?.advice).toBe('a verify pass over usb refreshes it')
    expect((await offload(f, ['.'], { dryRun: true })).durable).toBe(1)
    // a push that skips the unchanged file does not read it, so the read stays 40 days old
    const skipped = await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(skipped).toMatchObject({ status: 'success', filesSent: 0, filesSkipped: 1 })
    expect(causes(await offload(f, ['.'], { volume: limited, dryRun: true }))).toEqual(['usb:evidence-stale'])
    expect((await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })).status).toBe('success')
    expect((await offload(f, ['.'], { volume: limited, dryRun: true })).durable).toBe(1)
  })

  it('refuses a peer custody read at an unknown time under a max age, and a placement can never have an unknown read', async () => {
    const f = volumeFixture()
    const nas = addPeer(f.store, 9, 'nas')
    await ready(f, { 'a.jpg': 'alpha' })
    const volId = f.store.volumes.get('photos')!.id
    const file = f.store.files.live(volId).get('a.jpg')!
    // a directory placement always carries its last real read
    expect(() => f.store.db.prepare('UPDATE placements SET verified_at_ns = NULL WHERE volume_id = ?').run(volId)).toThrow(/NOT NULL/)
    // this node placed a.jpg at nas; nas's custody covers it but says nothing of when it read it
    const run = f.store.runs.begin({ kind: 'pull', volumeId: volId, peerNodeId: nas.rowId })
    f.store.placements.record(nas.nodeId, volId, 'a.jpg', { contentId: file.contentId, size: file.size, mtimeNs: file.mtimeNs, verifyMethod: 'peer-sha256', runId: run.id, originNodeId: file.originNodeId, originRunId: file.originRunId })
    f.store.db.transaction(() => f.store.vector.replaceFromSource(volId, nas.rowId, [
      { destination: nas.nodeId, originNodeId: file.originNodeId, originRunId: file.originRunId, verifyMethod: 'peer-sha256', verifiedAtNs: null, exceptions: [] }
    ], null, run.id)).immediate()
    f.store.runs.finish(run.id, 'success')
    const volume = { ...f.volume, offloadRequires: ['nas'] }
    const r = await offload(f, ['.'], { volume: { ...volume, offloadMaxEvidenceAgeMs: 86_400_000 }, dryRun: true })
    expect(causes(r)).toEqual(['nas:evidence-age-unknown'])
    expect(r.groups[0]).toMatchObject({ provenance: 'asserted by peer nas', advice: 'the next push to nas refreshes it' })
    expect((await offload(f, ['.'], { volume, dryRun: true })).durable).toBe(1)
  })

  it('refuses a directory only a peer reaches until this node placed the file at the peer, the peer\'s custody covers it and its claim about the directory covers the same version', async () => {
    const f = volumeFixture()
    const nas = addPeer(f.store, 9, 'nas')
    await ready(f, { 'a.jpg': 'alpha' })
    const volId = f.store.volumes.get('photos')!.id
    const file = f.store.files.live(volId).get('a.jpg')!
    // a directory only nas reaches: its marker, owned by nas in the registry under nas's label
    const offsite = directoryKey('0f'.repeat(16))
    f.store.db.transaction(() => f.store.destinations.notePeer(offsite, nas.rowId, 'offsite')).immediate()
    const now = f.store.clock.nowNs()
    const assert = (claims: Parameters<typeof f.store.vector.replaceFromSource>[2]): void => {
      const run = f.store.runs.begin({ kind: 'pull', volumeId: volId, peerNodeId: nas.rowId })
      f.store.db.transaction(() => f.store.vector.replaceFromSource(volId, nas.rowId, claims, null, run.id)).immediate()
      f.store.runs.finish(run.id, 'success')
    }
    const offsiteClaim = { destination: offsite, originNodeId: file.originNodeId, originRunId: 99, verifyMethod: 'sha256-readback', verifiedAtNs: now, exceptions: [] }
    const custody = { destination: nas.nodeId, originNodeId: file.originNodeId, originRunId: file.originRunId, verifyMethod: 'peer-sha256', verifiedAtNs: now, exceptions: [] }
    const volume = { ...f.volume, offloadRequires: ['usb', 'nas/offsite'] }
    // nas says offsite holds everything of this origin through run 99, but nas was never given the file
    assert([offsiteClaim])
    let r = await offload(f, ['.'], { volume, dryRun: true })
    expect(causes(r)).toEqual(['nas/offsite:relay-not-holding'])
    expect(r.groups[0]).toMatchObject({ provenance: 'none', detail: 'nas has not confirmed it holds this file, so its word about nas/offsite does not cover it' })
    // even a custody claim of nas does not count for a file this node never placed there
    assert([offsiteClaim, custody])
    expect(causes(await offload(f, ['.'], { volume, dryRun: true }))).toEqual(['nas/offsite:relay-not-holding'])
    // placed at nas, but nas's custody does not (yet) cover it
    const run = f.store.runs.begin({ kind: 'push', volumeId: volId, destination: nas.nodeId })
    f.store.placements.record(nas.nodeId, volId, 'a.jpg', { contentId: file.contentId, size: file.size, mtimeNs: file.mtimeNs, verifyMethod: 'peer-sha256', runId: run.id, originNodeId: file.originNodeId, originRunId: file.originRunId })
    f.store.runs.finish(run.id, 'success')
    assert([offsiteClaim])
    expect(causes(await offload(f, ['.'], { volume, dryRun: true }))).toEqual(['nas/offsite:relay-not-holding'])
    // nas holds it, but its claim about offsite has this version as a hole
    assert([{ ...offsiteClaim, exceptions: [{ path: 'a.jpg', run: file.originRunId }] }, custody])
    r = await offload(f, ['.'], { volume, dryRun: true })
    expect(causes(r)).toEqual(['nas/offsite:evidence-behind'])
    expect(r.groups[0]?.provenance).toBe('asserted by peer nas')
    // the whole chain
    assert([offsiteClaim, custody])
    expect((await offload(f, ['.'], { volume, dryRun: true })).durable).toBe(1)
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

  it('refuses a file whose placement a failed verify forgot as not-pushed, whatever verify runs next, until a push places it again', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha', 'b.jpg': 'beta' })
    const volId = f.store.volumes.get('photos')!.id
    const self = f.store.nodes.self().id
    writeFileSync(join(f.usb.path, 'photos/a.jpg'), 'rotten')
    const failed = await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })
    expect(failed).toMatchObject({ status: 'failed', mismatched: 1, problems: [{ path: 'a.jpg', problem: 'mismatched' }] })
    const usb = localKey(f.store, 'usb')
    expect(f.store.placements.forVolume(usb, volId).has('b.jpg')).toBe(true)
    expect(f.store.placements.forVolume(usb, volId).has('a.jpg')).toBe(false)
    // the claim about usb no longer covers it: an audited write of the verify run carries the hole
    const a = f.store.files.live(volId).get('a.jpg')!
    expect(f.store.vector.get(volId, usb, self)?.exceptions).toEqual([{ path: 'a.jpg', run: a.originRunId }])
    expect(f.store.vector.history(volId).filter(h => h.destination === usb).at(-1)).toMatchObject({ runId: failed.runId, exceptions: [{ path: 'a.jpg', run: a.originRunId }] })
    const r = await offload(f, ['.'], { dryRun: true })
    expect(r).toMatchObject({ durable: 1, notDurable: 1 })
    expect(causes(r)).toEqual(['usb:not-pushed'])
    expect(r.groups[0]).toMatchObject({ example_path: 'a.jpg', advice: 'the next push to usb covers it' })
    // a later verify that finds nothing wrong does not bring the damaged file back
    expect((await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })).status).toBe('success')
    expect(causes(await offload(f, ['.'], { dryRun: true }))).toEqual(['usb:not-pushed'])
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(readFileSync(join(f.usb.path, 'photos/a.jpg'), 'utf8')).toBe('alpha')
    expect((await offload(f, ['.'], { dryRun: true })).durable).toBe(2)
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
    // exactly the one file unlinked before the revocation landed is gone (which one is first
    // follows row order, which the index's hashing workers vary)
    expect(['a.jpg', 'b.jpg', 'c.jpg'].filter(p => !existsSync(join(f.volume.path, p)))).toHaveLength(1)
  })

  it('refuses selectors that could leave the volume, and requires one', async () => {
    const f = volumeFixture()
    await ready(f, { 'a.jpg': 'alpha' })
    for (const bad of [['/etc'], ['../x'], ['a/../../b']]) await expect(offload(f, bad, { dryRun: true })).rejects.toMatchObject({ name: 'SelectorError' })
    await expect(offload(f, [], { dryRun: true })).rejects.toMatchObject({ name: 'SelectorError' })
  })
})

describe('restore', () => {
  it('brings offloaded files back byte-identical as a new row under a new origin, and gates them on the placement they came back from', async () => {
    const f = volumeFixture()
    await ready(f, { '2019/a.jpg': 'alpha bytes', '2019/b.jpg': 'beta bytes' })
    const volId = f.store.volumes.get('photos')!.id
    const self = f.store.nodes.self().id
    const before = f.store.files.live(volId).get('2019/a.jpg')!
    await offload(f, ['2019'])
    const r = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: ['2019/a.jpg'], logger: f.logger })
    expect(r).toMatchObject({ status: 'success', restored: 1, failed: 0 })
    expect(readFileSync(join(f.volume.path, '2019/a.jpg'), 'utf8')).toBe('alpha bytes')
    const live = f.store.files.live(volId)
    // re-entry is a new origin locally: a new row of the restore run; the offloaded row is superseded
    expect(live.get('2019/a.jpg')).toMatchObject({ status: 'present', contentId: before.contentId, originNodeId: self, originRunId: r.runId, firstSeenRunId: r.runId, statusChangedRunId: r.runId })
    expect(live.get('2019/a.jpg')?.id).not.toBe(before.id)
    expect(f.store.db.prepare('SELECT status, status_changed_run_id AS changed FROM files WHERE id = ?').get(before.id)).toEqual({ status: 'superseded', changed: r.runId })
    expect(live.get('2019/b.jpg')?.status).toBe('offloaded')
    // usb still holds exactly these bytes, content-verified: the file may go again without a push
    expect(await offload(f, ['2019'], { dryRun: true })).toMatchObject({ selected: 1, durable: 1 })
    // ...but only on that placement: once a verify finds usb's copy damaged, a push is needed
    writeFileSync(join(f.usb.path, 'photos/2019/a.jpg'), 'rotten')
    expect((await verifyDirectory({ store: f.store, volume: f.volume, destination: f.usb, logger: f.logger })).status).toBe('failed')
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
