import { appendFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FileChangedWhileHashingError, hashFile } from '../../src/index/hash-file.js'
import { createHashPool, MAX_QUEUED_FILES_PER_THREAD, type HashPool } from '../../src/index/hash-pool.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { volumeFixture } from '../helpers/volume.js'

const dirs: string[] = []
const pools: HashPool[] = []
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tree (sizes: number[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pool-'))
  dirs.push(dir)
  return sizes.map((size, i) => {
    const path = join(dir, `f-${i}`)
    const b = Buffer.alloc(size)
    for (let j = 0; j < size; j += 997) b[j] = (i + j) & 0xff
    writeFileSync(path, b)
    return path
  })
}

function pool (init: Parameters<typeof createHashPool>[0] = {}): HashPool {
  const p = createHashPool({ threads: 2, inlineFiles: 0, inlineBytes: 0, ...init })
  pools.push(p)
  return p
}

/** Hashes every path through the pool as the index does: room() before each, all in flight. */
async function hashAll (p: HashPool, paths: string[]): Promise<Array<Awaited<ReturnType<typeof hashFile>> | Error>> {
  const out: Array<Promise<Awaited<ReturnType<typeof hashFile>> | Error>> = []
  for (const path of paths) {
    if (!p.hasRoom()) await p.room()
    out.push(p.hash(path).catch((err: Error) => err))
  }
  return await Promise.all(out)
}

describe('hash pool', () => {
  it('hashes on worker threads exactly what hashFile hashes, whatever the order and size', async () => {
    const sizes = [0, 1, 4095, 4096, 4097, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 7, ...Array.from({ length: 300 }, (_, i) => (i * 131) % 9000)]
    const paths = tree(sizes)
    const shuffled = [...paths].sort((a, b) => ((a.length * 7919 + a.charCodeAt(a.length - 1) * 31) % 101) - ((b.length * 7919 + b.charCodeAt(b.length - 1) * 31) % 101))
    const p = pool()
    const got = await hashAll(p, shuffled)
    expect(p.stats.threadsStarted).toBe(2)
    expect(p.stats.filesInWorkers).toBe(paths.length)
    for (let i = 0; i < shuffled.length; i++) {
      const want = await hashFile(shuffled[i] as string)
      const h = got[i]
      if (h instanceof Error) throw h
      expect({ hash: h?.hash.toString('hex'), size: h?.size, mtimeNs: h?.mtimeNs, ctimeNs: h?.ctimeNs, ino: h?.ino })
        .toEqual({ hash: want.hash.toString('hex'), size: want.size, mtimeNs: want.mtimeNs, ctimeNs: want.ctimeNs, ino: want.ino })
    }
  })

  it('starts no thread for a small run: the first files are hashed on the calling thread', async () => {
    const paths = tree(Array.from({ length: 10 }, () => 2048))
    const p = createHashPool({})
    pools.push(p)
    const got = await hashAll(p, paths)
    expect(got.every(h => !(h instanceof Error))).toBe(true)
    expect(p.stats).toMatchObject({ threadsStarted: 0, filesInline: 10, filesInWorkers: 0 })
  })

  it('hashes again a file that changes while a worker reads it, and reports one that keeps changing', async () => {
    const [once, always] = tree([5 * 1024 * 1024, 5 * 1024 * 1024])
    const p = pool()
    const h = await p.hash(once as string, { hooks: { afterFirstChunk: async (attempt) => { if (attempt === 1) appendFileSync(once as string, 'more') } } })
    expect(p.stats.filesInWorkers).toBe(1)
    const want = await hashFile(once as string)
    expect(h.size).toBe(5 * 1024 * 1024 + 4)
    expect(h.hash.equals(want.hash)).toBe(true)
    await expect(p.hash(always as string, { hooks: { afterFirstChunk: async () => { appendFileSync(always as string, 'x') } } }))
      .rejects.toBeInstanceOf(FileChangedWhileHashingError)
    expect(p.stats.workersFailed).toBe(0)
  })

  it('refuses a symlink (O_NOFOLLOW) and reports a missing file with its code', async () => {
    const [real] = tree([100])
    const link = `${real as string}-link`
    symlinkSync(real as string, link)
    const p = pool()
    const [l, gone] = await hashAll(p, [link, `${real as string}-gone`])
    expect(l).toMatchObject({ code: 'ELOOP' })
    expect(gone).toMatchObject({ code: 'ENOENT' })
  })

  it('loses nothing when a worker dies: its files are hashed again on the calling thread', async () => {
    const paths = tree(Array.from({ length: 200 }, (_, i) => 100 + i))
    const p = pool({ workerSource: "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom') })" })
    const got = await hashAll(p, paths)
    expect(p.stats.workersFailed).toBe(2)
    for (let i = 0; i < paths.length; i++) {
      const h = got[i]
      if (h instanceof Error) throw h
      expect(h?.hash.equals((await hashFile(paths[i] as string)).hash)).toBe(true)
    }
  })

  it('keeps what is outstanding bounded, in files and bytes, however many the caller has', async () => {
    const paths = tree(Array.from({ length: 3000 }, () => 512))
    const p = pool()
    await hashAll(p, paths)
    expect(p.stats.maxOutstandingFiles).toBeLessThanOrEqual(2 * MAX_QUEUED_FILES_PER_THREAD)
    expect(p.stats.maxOutstandingFiles).toBeGreaterThan(64)
  })

  it('an index through the pool records the same rows as one on the calling thread', async () => {
    const a = volumeFixture()
    for (let i = 0; i < 500; i++) a.write(`d${i % 7}/f-${i}`, `content ${i % 450}`)
    const p = pool()
    const r = await indexVolume({ store: a.store, volume: a.volume, quick: true, logger: a.logger, io: { pool: p } })
    expect(r).toMatchObject({ status: 'success', filesSeen: 500, filesHashed: 500 })
    expect(p.stats.filesInWorkers).toBe(500)
    const b = volumeFixture()
    for (let i = 0; i < 500; i++) b.write(`d${i % 7}/f-${i}`, `content ${i % 450}`)
    await indexVolume({ store: b.store, volume: b.volume, quick: true, logger: b.logger, hashThreads: 0 })
    const rows = (f: typeof a): unknown[] => [...f.store.files.live(f.store.volumes.get('photos')!.id).values()]
      .map(l => [l.path, l.hash.toString('hex'), l.size, l.status]).sort()
    expect(rows(a)).toEqual(rows(b))
  })
})
