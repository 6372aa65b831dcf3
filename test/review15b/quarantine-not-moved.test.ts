/**
 * Attack: the quarantine of a damaged received file fails to move it (the rename is refused:
 * EPERM/EACCES on a read-only or immutable directory, EXDEV, a save racing the move). The
 * index then records the damaged bytes as a change with THIS node (nas) as origin: the rot
 * becomes nas's own version of laptop's photo. laptop's next push of its (good) version is then
 * judged `diverged` (nas's row is neither laptop's origin nor the version laptop's entry
 * replaces): the photo is never sent again and laptop's gate never opens for it; and nas would
 * push its "edit" onward as its own.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { judgeEntry } from '../../src/push/receive-judge.js'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { sha256 } from '../helpers/volume.js'
import { content, nasWorld, received, rot } from './world.js'

const refusingRename = { ...nodeDirectoryFs, rename: async () => { throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' }) } }

describe('quarantine that cannot move the damaged file', () => {
  it('damaged bytes of a received file never become this node\'s own version, even when they cannot be moved aside', async () => {
    const w = nasWorld()
    await received(w)
    rot(w, '2019/p3.jpg')
    const full = await w.index(false, { fs: refusingRename })
    expect(full.damaged.map(d => d.path)).toEqual(['2019/p3.jpg'])
    expect(full.damaged[0]?.movedTo).toBeNull()
    // custody of laptop's version is retracted (that part holds)
    expect(w.vouches('2019/p3.jpg')).toBe(false)
    // but the rot must not be recorded as nas's own edit of the photo
    const selfId = w.store.nodes.self().id
    expect(w.row('2019/p3.jpg')?.originNodeId).not.toBe(selfId)
  })

  it('the pusher\'s next push re-sends a damaged file that could not be moved aside (the gate can open again)', async () => {
    const w = nasWorld()
    await received(w)
    rot(w, '2019/p3.jpg')
    await w.index(false, { fs: refusingRename })
    // the rename works again (the operator fixed the permission); laptop pushes its version again
    const c = content(3)
    const abs = join(w.volume.path, '2019/p3.jpg')
    const verdict = await judgeEntry({
      fs: nodeDirectoryFs,
      abs,
      entry: { path: '2019/p3.jpg', hash: sha256(c), size: c.length, mtimeNs: Number(statSync(abs, { bigint: true }).mtimeNs), originIndex: 0, originRun: 3, replaces: null } as any,
      entryOriginNodeId: w.laptop.rowId,
      here: w.row('2019/p3.jpg'),
      // what receive.ts passes: the row is one this node's own re-hash marked as damaged
      damaged: w.store.conflicts.damageMarked(w.store.volumes.get('photos')!.id).has(w.row('2019/p3.jpg')!.id)
    })
    // laptop's own version must be able to replace the damaged bytes (they move to history)
    expect(verdict.kind).toBe('write')
  })
})
