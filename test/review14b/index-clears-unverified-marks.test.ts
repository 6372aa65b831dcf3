/**
 * Review 14b, attack on `clearVolumeReplacing` (src/index/index-volume.ts): after any index
 * that completes its walk, every mark of the volume whose run is not running is dropped, "the
 * index recorded what is there". It did not, for two kinds of row:
 *  - a file the index could not read (unreadable, or changing while hashed) is kept as it was
 *    recorded (`keep`), not re-recorded;
 *  - under --shallow, a file whose size and mtime match its row is not read at all.
 * A row a killed receive marked, whose path now holds the receive's new bytes, then counts as
 * held again: custody of the prior version this node no longer has at its path (invariant 19).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { claimCovers } from '../../src/evidence/claims.js'
import { currentClaims } from '../../src/evidence/settle.js'
import { hashFile } from '../../src/index/hash-file.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

async function killedReplace (): Promise<{ root: string, nas: InProcessNode, v1Run: number, custodyCovers: (path: string, run: number) => boolean }> {
  const root = tempDir('cairn-r14b-index-')
  mkdirSync(join(root, 'photos')); mkdirSync(join(root, 'nas-photos'))
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  let armed = false
  const fs: DirectoryFs = {
    ...nodeDirectoryFs,
    // the new version is linked at the path, then the receive stops (as a kill after link-final)
    linkNoReplace: async (from, to) => {
      await nodeDirectoryFs.linkNoReplace(from, to)
      if (armed && to.endsWith('/a.txt')) throw Object.assign(new Error('I/O error after the link'), { code: 'EIO' })
    }
  }
  await nas.start({ pushFrameDeadlineMs: 2000, fs })
  await nas.initVolumes()
  await laptop.start()
  enroll(laptop, nas); enroll(nas, laptop)
  const nasRow = laptop.store.nodes.byNodeId(nas.key.nodeId)!
  const lv = laptop.config.volumes.get('photos')!
  const push = async (): ReturnType<typeof pushToPeer> => await pushToPeer({ store: laptop.store, volume: lv, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
  const custodyCovers = (path: string, run: number): boolean => {
    const c = currentClaims(nas.store, nas.store.volumes.get('photos')!.id).find(x => x.destination === nas.key.nodeId)
    return c !== undefined && claimCovers(c, path, run)
  }
  writeFileSync(join(root, 'photos/a.txt'), 'v1 from the laptop')
  await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
  expect((await push()).status).toBe('success')
  const v1Run = laptop.store.files.live(laptop.store.volumes.get('photos')!.id).get('a.txt')!.originRunId
  await new Promise(r => setTimeout(r, 20))
  writeFileSync(join(root, 'photos/a.txt'), 'v2, edited on the laptop, longer')
  await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
  armed = true
  expect((await push()).status).not.toBe('success')
  expect(readFileSync(join(root, 'nas-photos/a.txt'), 'utf8')).toBe('v2, edited on the laptop, longer')
  expect(custodyCovers('a.txt', v1Run)).toBe(false)
  return { root, nas, v1Run, custodyCovers }
}

describe('review 14b: an index settles a mark only for a row it re-recorded from the bytes', () => {
  it('an index that cannot read the replaced file keeps the prior version unclaimed', async () => {
    const s = await killedReplace()
    const nv = s.nas.config.volumes.get('photos')!
    const unreadable: typeof hashFile = async (path, buffer) => {
      if (path.endsWith('/a.txt')) throw Object.assign(new Error('permission denied'), { code: 'EACCES' })
      return await hashFile(path, buffer)
    }
    const r = await indexVolume({ store: s.nas.store, volume: nv, quick: false, logger: s.nas.logger, io: { hash: unreadable } })
    expect(r.unreadable.map(u => u.path)).toContain('a.txt')
    // v1 is not at a.txt (v2 is): nas must not claim it
    expect(s.custodyCovers('a.txt', s.v1Run)).toBe(false)
  })
})
