/**
 * Attack: the volume's `.cairn-history` is a symlink to a directory outside the volume (an
 * operator "saving space", or anything that put a link there). The receive's own history moves
 * refuse a symlink on the way (place-file's ensureRealDirs); the damage quarantine uses a plain
 * mkdirp + rename and follows it: the damaged file leaves the volume for wherever the link
 * points, and the report still says it is in the volume's history.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs'
import { hashFile } from '../../src/index/hash-file.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/store.js'
import { nasWorld, quiet, received, rot } from './world.js'

describe('quarantine with a symlinked history directory', () => {
  it('a damaged file is never moved outside the volume (no symlink is followed on the way into history)', async () => {
    const w = nasWorld()
    await received(w)
    const elsewhere = tempDir('cairn-r15b-elsewhere-')
    mkdirSync(elsewhere, { recursive: true })
    symlinkSync(elsewhere, join(w.volume.path, '.cairn-history'))
    rot(w, '2019/p3.jpg')
    const full = await w.index(false)
    expect(full.damaged.map(d => d.path)).toEqual(['2019/p3.jpg'])
    // whatever happened to it, nothing of the volume may have landed outside it
    expect(readdirSync(elsewhere)).toEqual([])
    // and custody of the damaged version is not claimed
    expect(w.vouches('2019/p3.jpg')).toBe(false)
    expect(existsSync(elsewhere)).toBe(true)
  })

  it('a damaged file\'s quarantine never takes a file from outside the volume through a directory swapped for a symlink after the hash', async () => {
    const w = nasWorld()
    await received(w)
    rot(w, '2019/p3.jpg')
    const outside = tempDir('cairn-r15b-outside-')
    mkdirSync(outside, { recursive: true })
    // right after p3 was hashed, its directory leaves the volume and a symlink takes its place
    const hash: typeof hashFile = async (path, buffer) => {
      const h = await hashFile(path, buffer)
      if (path.endsWith('p3.jpg')) {
        renameSync(join(w.volume.path, '2019'), join(outside, '2019'))
        symlinkSync(join(outside, '2019'), join(w.volume.path, '2019'))
      }
      return h
    }
    await indexVolume({ store: w.store, volume: w.volume, quick: false, logger: quiet, concurrency: 1, io: { hash } })
    // the file now outside the volume stays where it is
    expect(existsSync(join(outside, '2019/p3.jpg'))).toBe(true)
  })
})
