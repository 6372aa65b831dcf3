import { appendFileSync, mkdirSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs'
import { opendir } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hashFile } from '../../src/index/hash-file.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { sha256, volumeFixture } from '../helpers/volume.js'

describe('index', () => {
  it('records every file with its content, origin = this node and this run, and skips symlinks and .cairn names', async () => {
    const f = volumeFixture()
    f.write('2019/p1.jpg', 'one')
    f.write('with space/ünïcödé ✓.txt', 'two')
    f.write('.cairn-staging/x', 'never indexed')
    symlinkSync('/etc/passwd', join(f.volume.path, 'link'))
    const r = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(r).toMatchObject({ status: 'success', filesSeen: 2, filesAdded: 2, symlinksSkipped: 1, bytesHashed: 6 })
    const live = [...f.store.files.live(f.store.volumes.get('photos')!.id).values()]
    expect(live.map(l => [l.path, l.hash.toString('hex'), l.status, l.originNodeId, l.originRunId, l.statusChangedRunId]).sort()).toEqual([
      ['2019/p1.jpg', sha256('one').toString('hex'), 'present', f.store.nodes.self().id, r.runId, r.runId],
      ['with space/ünïcödé ✓.txt', sha256('two').toString('hex'), 'present', f.store.nodes.self().id, r.runId, r.runId]
    ].sort())
  })

  it('moves status_changed_run_id exactly when the status changes, keeping one live row per path, and records a path that is back as a new row of a new origin', async () => {
    const f = volumeFixture()
    f.write('a', 'v1')
    f.write('b', 'same')
    const r1 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    f.write('a', 'v2') // changed content: old row superseded, new row present
    rmSync(join(f.volume.path, 'b')) // gone: missing
    const r2 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(r2).toMatchObject({ filesChanged: 1, filesMissing: 1 })
    f.write('b', 'same') // back with the same content
    const r3 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(r3).toMatchObject({ filesReturned: 1, filesAdded: 0, filesChanged: 0 })
    const vol = f.store.volumes.get('photos')!.id
    const rows = f.store.db.prepare('SELECT path, status, first_seen_run_id, last_seen_run_id, status_changed_run_id, origin_run_id FROM files WHERE volume_id = ? ORDER BY id').all(vol)
    expect(rows).toEqual([
      { path: 'a', status: 'superseded', first_seen_run_id: r1.runId, last_seen_run_id: r1.runId, status_changed_run_id: r2.runId, origin_run_id: r1.runId },
      // b went missing at r2; when it came back at r3 its missing row was superseded...
      { path: 'b', status: 'superseded', first_seen_run_id: r1.runId, last_seen_run_id: r1.runId, status_changed_run_id: r3.runId, origin_run_id: r1.runId },
      { path: 'a', status: 'present', first_seen_run_id: r2.runId, last_seen_run_id: r3.runId, status_changed_run_id: r2.runId, origin_run_id: r2.runId },
      // ...and it is a new row of origin r3: no claim made while it was away covers it
      { path: 'b', status: 'present', first_seen_run_id: r3.runId, last_seen_run_id: r3.runId, status_changed_run_id: r3.runId, origin_run_id: r3.runId }
    ])
    expect(new Set(f.store.db.prepare('SELECT origin_node_id FROM files WHERE volume_id = ?').pluck().all(vol))).toEqual(new Set([f.store.nodes.self().id]))
    // the SQL refuses a status change without a new stamp, and two live rows for one path
    expect(() => f.store.db.prepare("UPDATE files SET status = 'missing' WHERE path = 'b' AND status = 'present'").run()).toThrow(/status_changed_run_id/)
    expect(() => f.store.db.prepare("UPDATE files SET status = 'present', status_changed_run_id = ? WHERE path = 'a' AND status = 'superseded'").run(r3.runId)).toThrow(/superseded/)
  })

  it('stamps a known content under a new path with the current run as origin, while the content row keeps the first origin for the record', async () => {
    const f = volumeFixture()
    f.write('a', 'x')
    const r1 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    f.write('copy-of-a', 'x')
    const r2 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    const live = f.store.files.live(f.store.volumes.get('photos')!.id)
    const self = f.store.nodes.self().id
    // a renamed or copied tree is covered only after it is pushed under its new paths
    expect(live.get('copy-of-a')).toMatchObject({ originNodeId: self, originRunId: r2.runId })
    expect(live.get('a')).toMatchObject({ originNodeId: self, originRunId: r1.runId })
    expect(live.get('copy-of-a')?.contentId).toBe(live.get('a')?.contentId)
    expect(f.store.files.contentByHash(sha256('x'))).toMatchObject({ originNodeId: self, originRunId: r1.runId })
  })

  it('does not re-hash unchanged files in a quick index, and re-hashes a file whose size or mtime moved', async () => {
    const f = volumeFixture()
    f.write('a', 'aaaa')
    f.write('b', 'bbbb')
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    // the read came well after the files' last change (not "racy": test/index/quick-index.test.ts)
    f.store.db.prepare('UPDATE files SET read_at_ns = read_at_ns + 10e9').run()
    const hashed: string[] = []
    const spy: typeof hashFile = async (p, b, h) => { hashed.push(p); return await hashFile(p, b, h) }
    utimesSync(join(f.volume.path, 'b'), new Date(1_700_000_000_000), new Date(1_700_000_000_000))
    const r = await indexVolume({ store: f.store, volume: f.volume, quick: true, logger: f.logger, io: { hash: spy } })
    expect(hashed.map(p => p.slice(f.volume.path.length + 1))).toEqual(['b'])
    expect(r).toMatchObject({ filesSeen: 2, bytesHashed: 4, filesMissing: 0 })
  })

  it('indexes 10,000 small files', async () => {
    const f = volumeFixture()
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(f.volume.path, `d${d}`))
      for (let i = 0; i < 100; i++) writeFileSync(join(f.volume.path, `d${d}`, `f${i}`), `${d}/${i}`)
    }
    const r = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(r).toMatchObject({ status: 'success', filesSeen: 10_000, filesAdded: 10_000 })
    expect(f.store.files.live(f.store.volumes.get('photos')!.id).size).toBe(10_000)
  }, 60_000)

  it('streams a 1 GB file through SHA-256 without holding it in memory', async () => {
    const f = volumeFixture()
    const big = join(f.volume.path, 'big.bin')
    writeFileSync(big, '')
    truncateSync(big, 1024 ** 3)
    appendFileSync(big, 'tail')
    const expected = await new Promise<string>((resolve, reject) => {
      const h = createHash('sha256')
      createReadStream(big).on('data', (d) => h.update(d)).on('end', () => { resolve(h.digest('hex')) }).on('error', reject)
    })
    const rssBefore = process.memoryUsage().rss
    const r = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024)
    expect(r).toMatchObject({ status: 'success', bytesHashed: 1024 ** 3 + 4 })
    expect(f.store.files.live(f.store.volumes.get('photos')!.id).get('big.bin')?.hash.toString('hex')).toBe(expected)
  }, 60_000)

  it('counts and reports unreadable files and directories, runs partial, and never marks them missing', async () => {
    const f = volumeFixture()
    f.write('ok', '1')
    f.write('secret', '2')
    f.write('locked/inside', '3')
    const r1 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(r1.filesSeen).toBe(3)
    // the suite may run as root, where mode bits do not deny reads: inject the refusals
    const denyFile: typeof hashFile = async (p, b, h) => {
      if (p.endsWith('/secret')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
      return await hashFile(p, b, h)
    }
    const denyDir = (async (p: string, o?: unknown) => {
      if (p.endsWith('/locked')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
      return await opendir(p, o as never)
    }) as typeof opendir
    const r2 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger, io: { hash: denyFile, openDir: denyDir } })
    expect(r2).toMatchObject({ status: 'partial', filesMissing: 0 })
    expect(r2.unreadable).toEqual(expect.arrayContaining([{ path: 'secret', code: 'EACCES' }, { path: 'locked', code: 'EACCES' }]))
    const live = f.store.files.live(f.store.volumes.get('photos')!.id)
    expect([...live.values()].map(l => [l.path, l.status]).sort()).toEqual([['locked/inside', 'present'], ['ok', 'present'], ['secret', 'present']])
    expect(f.store.runs.events(r2.runId).filter(e => e.transition === 'unreadable')).toHaveLength(2)
  })

  it('refuses a symlink swapped in between the walk and the hash: skipped, reported, its target never read', async () => {
    const f = volumeFixture()
    f.write('doc.txt', 'the user file')
    const outside = join(f.root, 'outside-secret')
    writeFileSync(outside, 'bytes outside the volume')
    // the walk saw a regular file; by the time it is opened the path is a symlink out of the volume
    const swap: typeof hashFile = async (p, b, h) => {
      if (p.endsWith('/doc.txt')) { rmSync(p); symlinkSync(outside, p) }
      return await hashFile(p, b, h)
    }
    const r = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger, io: { hash: swap } })
    expect(r).toMatchObject({ status: 'partial', filesAdded: 0, bytesHashed: 0, unreadable: [{ path: 'doc.txt', code: 'ELOOP' }] })
    expect(f.store.files.live(f.store.volumes.get('photos')!.id).size).toBe(0)
    await expect(hashFile(join(f.volume.path, 'doc.txt'))).rejects.toMatchObject({ code: 'ELOOP' })
  })

  it('detects a file that changes while it is hashed: re-hashes it, or reports it when it keeps changing', async () => {
    const f = volumeFixture()
    const path = join(f.volume.path, 'growing.log')
    writeFileSync(path, Buffer.alloc(3 * 1024 * 1024, 1))
    const changeOnce: typeof hashFile = async (p, b) => await hashFile(p, b, { afterFirstChunk: async (attempt) => { if (attempt === 1) appendFileSync(p, 'more') } })
    const r1 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger, io: { hash: changeOnce } })
    expect(r1.status).toBe('success')
    const final = Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 1), Buffer.from('more')])
    expect(f.store.files.live(f.store.volumes.get('photos')!.id).get('growing.log')?.hash.equals(sha256(final))).toBe(true)

    const changeAlways: typeof hashFile = async (p, b) => await hashFile(p, b, { afterFirstChunk: async () => { appendFileSync(p, 'x') } })
    const r2 = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger, io: { hash: changeAlways } })
    expect(r2).toMatchObject({ status: 'partial', unstable: ['growing.log'], filesMissing: 0 })
  })

  it('refuses a volume whose root is gone (an unmounted disk) and marks nothing missing', async () => {
    const f = volumeFixture()
    f.write('a', '1')
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    rmSync(f.volume.path, { recursive: true })
    await expect(indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })).rejects.toMatchObject({ name: 'VolumeRootMissingError' })
    expect([...f.store.files.live(f.store.volumes.get('photos')!.id).values()].map(l => l.status)).toEqual(['present'])
  })

  it('refuses a volume whose configured path differs from the recorded one, naming both', async () => {
    const f = volumeFixture()
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    const moved = { ...f.volume, path: join(f.root, 'elsewhere') }
    mkdirSync(moved.path)
    await expect(indexVolume({ store: f.store, volume: moved, quick: false, logger: f.logger })).rejects.toMatchObject({
      name: 'VolumePathMismatchError', volume: 'photos', configPath: moved.path, databasePath: f.volume.path
    })
  })
})
