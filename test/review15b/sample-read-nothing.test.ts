/**
 * Attack: every file a sample draws is changing while it is hashed (skipped, by design: the
 * sample never decides such a file). The re-read then re-read nothing, yet ends `success`, the
 * peer answers OK, and the requester's verify run is `success` — an operator (or a schedule's
 * status line) reads "verified" for a volume of which not one byte was checked.
 */
import { describe, expect, it } from 'vitest'
import { FileChangedWhileHashingError, type hashFile } from '../../src/index/hash-file.js'
import { rereadForPeer } from '../../src/verify/reread.js'
import { nasWorld, quiet, received } from './world.js'

describe('a sample that re-read nothing', () => {
  it('a sampled verify that re-read no file is not reported as a success', async () => {
    const w = nasWorld()
    await received(w)
    const churning: typeof hashFile = async (path) => { throw new FileChangedWhileHashingError(path, 3) }
    const r = await rereadForPeer({ store: w.store, volume: w.volume, sample: 3, requestedBy: { peerNodeId: w.laptop.rowId, name: 'laptop' }, logger: quiet, random: () => 0.5, hash: churning })
    expect(r.checked).toBe(0)
    expect(r.status).not.toBe('success')
  })
})
