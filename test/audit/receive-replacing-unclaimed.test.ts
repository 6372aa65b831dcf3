/**
 * Found by the crash harness (test/crash, issue 14): between a receive moving a file's prior
 * bytes to history and recording the new version, the receiver's rows still said the prior
 * version was at its path, so its custody (and a pull in that window, or after a kill there)
 * covered bytes that were no longer there (invariant 19). A row a receive is replacing is now
 * not held from before the move until the receive settles it; a receive that dies after the
 * move leaves it not held until an index records what is there.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { claimCovers } from '../../src/evidence/claims.js'
import { currentClaims } from '../../src/evidence/settle.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('a receive that is replacing a file', () => {
  it('never claims the prior version once its bytes may have left the path, even when the receive dies right after the move', async () => {
    const root = tempDir('cairn-replacing-')
    mkdirSync(join(root, 'photos')); mkdirSync(join(root, 'nas-photos'))
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    nodes.push(laptop, nas)
    // the receiver's link of the new version fails once the prior bytes moved to history (a
    // kill at that point, as the crash harness does, leaves the same rows and disk)
    let failLink = false
    const dying: DirectoryFs = {
      ...nodeDirectoryFs,
      linkNoReplace: async (from, to) => {
        if (failLink && to.endsWith('/a.txt')) throw new Error('killed after the prior bytes moved to history')
        await nodeDirectoryFs.linkNoReplace(from, to)
      }
    }
    await nas.start({ pushFrameDeadlineMs: 2000, fs: dying })
    await nas.initVolumes()
    await laptop.start()
    enroll(laptop, nas); enroll(nas, laptop)
    const nasRow = laptop.store.nodes.byNodeId(nas.key.nodeId)!
    const lv = laptop.config.volumes.get('photos')!
    const nv = nas.config.volumes.get('photos')!
    const push = async (): ReturnType<typeof pushToPeer> => await pushToPeer({ store: laptop.store, volume: lv, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })

    writeFileSync(join(root, 'photos/a.txt'), 'v1 from the laptop')
    await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
    expect((await push()).status).toBe('success')
    const v1Run = laptop.store.files.live(laptop.store.volumes.get('photos')!.id).get('a.txt')!.originRunId
    const nasVolume = nas.store.volumes.get('photos')!.id
    const custodyCovers = (path: string, run: number): boolean => {
      const c = currentClaims(nas.store, nasVolume).find(x => x.destination === nas.key.nodeId)
      return c !== undefined && claimCovers(c, path, run)
    }
    expect(custodyCovers('a.txt', v1Run)).toBe(true)

    // the laptop edits a.txt; the push that replaces it on nas dies after the history move
    await new Promise(r => setTimeout(r, 20))
    writeFileSync(join(root, 'photos/a.txt'), 'v2, edited on the laptop')
    await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
    failLink = true
    const r = await push()
    expect(r.status).not.toBe('success')
    // v1 is in nas's history, not at its path: nas claims it nowhere
    expect(custodyCovers('a.txt', v1Run)).toBe(false)
    const vector = nas.store.vector.list(nasVolume).find(c => c.destination === nas.key.nodeId)
    expect(vector === undefined || !claimCovers(vector, 'a.txt', v1Run)).toBe(true)

    // an index records what is there (nothing at a.txt) and settles the mark; still no claim
    await indexVolume({ store: nas.store, volume: nv, quick: false, logger: nas.logger })
    expect(nas.store.conflicts.replacingIds(nasVolume).size).toBe(0)
    expect(custodyCovers('a.txt', v1Run)).toBe(false)

    // and the next push lands the new version, claimed
    failLink = false
    expect((await push()).status).toBe('success')
    const v2Run = laptop.store.files.live(laptop.store.volumes.get('photos')!.id).get('a.txt')!.originRunId
    expect(custodyCovers('a.txt', v2Run)).toBe(true)
  })
})
