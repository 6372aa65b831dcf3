/**
 * Store-level attacks on the damage quarantine, the quick index and the sampled re-read that
 * HELD (these pass): kept so the next reader knows they were tried.
 */
import { existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hashFile } from '../../src/index/hash-file.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { rereadForPeer } from '../../src/verify/reread.js'
import { nasWorld, quiet, received, rot } from './world.js'

describe('attacks that held', () => {
  it('a save that lands in place between the hash and the move is never moved into history', async () => {
    const w = nasWorld()
    await received(w)
    rot(w, '2019/p3.jpg')
    const p = join(w.volume.path, '2019/p3.jpg')
    const save = Buffer.from('the user saved this on nas, right now')
    const hash: typeof hashFile = async (path, buffer) => {
      const h = await hashFile(path, buffer)
      if (path.endsWith('p3.jpg')) writeFileSync(p, save) // an in-place write: mtime moves
      return h
    }
    const r = await indexVolume({ store: w.store, volume: w.volume, quick: false, logger: quiet, concurrency: 1, io: { hash } })
    expect(r.damaged.map(d => d.movedTo)).toEqual([null])
    expect(readFileSync(p).equals(save)).toBe(true)
    expect(w.vouches('2019/p3.jpg')).toBe(false)
    // no history copy of it either (nothing moved)
    const hist = join(w.volume.path, '.cairn-history')
    const copies = existsSync(hist) ? readdirSync(hist, { recursive: true }).filter(x => String(x).endsWith('p3.jpg')) : []
    expect(copies).toEqual([])
  })

  it('a sample that draws a rotted file escalates, and the completed full re-read moves it aside and retracts it', async () => {
    const w = nasWorld()
    await received(w)
    rot(w, '2019/p1.jpg')
    const r = await rereadForPeer({ store: w.store, volume: w.volume, sample: 5, requestedBy: { peerNodeId: w.laptop.rowId, name: 'laptop' }, logger: quiet, random: () => 0.5 })
    expect(r).toMatchObject({ escalated: true, status: 'success', mismatched: 1, missing: 0 })
    expect(existsSync(join(w.volume.path, '2019/p1.jpg'))).toBe(false)
    expect(w.vouches('2019/p1.jpg')).toBe(false)
    expect(w.vouches('2019/p2.jpg')).toBe(true)
  })

  it('a sample renews the read instant only of the files it re-read', async () => {
    const w = nasWorld()
    await received(w)
    const before = new Map(w.store.files.listLive(w.vol).map(f => [f.path, f.readAtNs]))
    w.clock.advanceNs(3600e9)
    const r = await rereadForPeer({ store: w.store, volume: w.volume, sample: 2, requestedBy: { peerNodeId: w.laptop.rowId, name: 'laptop' }, logger: quiet, random: () => 0.5 })
    expect(r).toMatchObject({ escalated: false, status: 'success', checked: 2 })
    const renewed = w.store.files.listLive(w.vol).filter(f => f.readAtNs !== before.get(f.path))
    expect(renewed).toHaveLength(2)
    // the custody claim's instant is still the oldest read behind it
    const oldest = Math.min(...[...before.values()].map(v => v ?? 0))
    expect(w.custody().every(c => c.verifiedAtNs === oldest)).toBe(true)
  })

  it('a quick index re-hashes a received file rewritten with its mtime put back after a push held it (the held row keeps the old ctime)', async () => {
    const w = nasWorld()
    await received(w)
    const p = join(w.volume.path, '2019/p4.jpg')
    const st = statSync(p, { bigint: true })
    writeFileSync(p, Buffer.alloc(Number(st.size), 0x21))
    utimesSync(p, Number(st.mtimeNs / 1_000_000_000n), Number(st.mtimeNs / 1_000_000_000n))
    // (whole-second mtimes: restore exactly what was recorded)
    w.store.db.prepare('UPDATE files SET mtime_ns = ? WHERE id = ?').run(Number(statSync(p, { bigint: true }).mtimeNs), w.row('2019/p4.jpg')?.id)
    w.clock.advanceNs(60e9)
    const quick = await w.index(true)
    expect(quick.filesHashed).toBe(1)
    expect(w.vouches('2019/p4.jpg')).toBe(false)
  })
})
