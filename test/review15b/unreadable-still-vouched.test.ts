/**
 * Attack: the commonest face of a dying disk is not silently changed bytes but a read that fails
 * (EIO on a bad sector). A full re-hash — `index --rehash`, or the re-read a peer verify asks for
 * (src/verify/reread.ts runs the same indexVolume) — that cannot read a received file keeps the
 * row present (rightly: it is not known missing) and keeps vouching for it in custody, with the
 * verify answered PARTIAL and the envelope still carrying the claim. laptop's gate keeps passing
 * a photo whose bytes nas could not produce; the hold (size and mtime) is granted; the offload
 * deletes laptop's copy.
 */
import { describe, expect, it } from 'vitest'
import { hashFile } from '../../src/index/hash-file.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { nasWorld, quiet, received } from './world.js'

describe('a re-hash that cannot read a received file', () => {
  it('custody never vouches for a received file whose bytes the last full re-hash could not read', async () => {
    const w = nasWorld()
    await received(w)
    const eio: typeof hashFile = async (path, buffer) => {
      if (path.endsWith('2019/p3.jpg')) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
      return await hashFile(path, buffer)
    }
    const r = await indexVolume({ store: w.store, volume: w.volume, quick: false, logger: quiet, io: { hash: eio } })
    expect(r.status).toBe('partial')
    expect(r.unreadable).toEqual([{ path: '2019/p3.jpg', code: 'EIO' }])
    expect(w.vouches('2019/p2.jpg')).toBe(true)
    expect(w.vouches('2019/p3.jpg')).toBe(false)
  })
})
