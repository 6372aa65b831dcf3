/**
 * Review 14b, attack on the catch path of receivePush (src/push/receive.ts): when a commit-pool
 * job throws, the next `pool.add` rethrows at once, without waiting for the jobs still running.
 * The catch path then settles this run's marks (settleUnclaimed) while another job is still in
 * the middle of replacing its file: the lstat sees the prior file still in place, the mark is
 * cleared and the run finishes; then the job moves the prior bytes to history. The prior row
 * counts as held while its bytes are no longer at the path (invariant 19), with no run left to
 * settle it and no kill involved.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
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
const sleep = async (ms: number): Promise<void> => { await new Promise(r => setTimeout(r, ms)) }

describe('review 14b: a failed receive settles its marks only after every commit it started has ended', () => {
  it('never claims a prior version that a still-running commit moved to history after the receive failed', async () => {
    const root = tempDir('cairn-r14b-inflight-')
    mkdirSync(join(root, 'photos')); mkdirSync(join(root, 'nas-photos'))
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    nodes.push(laptop, nas)
    let armed = false
    let bLinked = false
    let aMoved = false
    const fs: DirectoryFs = {
      ...nodeDirectoryFs,
      // a.txt's history move is slow (a busy disk)
      rename: async (from, to) => {
        if (armed && from.endsWith('/nas-photos/a.txt')) { await sleep(300); aMoved = true }
        await nodeDirectoryFs.rename(from, to)
      },
      // b.txt's commit finds its name taken, and the check of what is there fails (an I/O
      // error): its pool job throws, so the receive stops at the next file
      linkNoReplace: async (from, to) => {
        if (armed && to.endsWith('/nas-photos/b.txt')) { bLinked = true; throw Object.assign(new Error('taken'), { code: 'EEXIST' }) }
        await nodeDirectoryFs.linkNoReplace(from, to)
      },
      lstat: async (path) => {
        if (bLinked && path.endsWith('/nas-photos/b.txt')) throw Object.assign(new Error('I/O error'), { code: 'EIO' })
        return await nodeDirectoryFs.lstat(path)
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
    expect(custodyCovers('a.txt', v1Run)).toBe(true)

    await sleep(20)
    writeFileSync(join(root, 'photos/a.txt'), 'v2, edited on the laptop')
    writeFileSync(join(root, 'photos/b.txt'), 'new file b')
    // more files behind b.txt: the data loop is still adding jobs when b.txt's job fails
    for (let i = 0; i < 60; i++) writeFileSync(join(root, 'photos', `f${String(i).padStart(2, '0')}.txt`), Buffer.alloc(64 * 1024, i))
    await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
    armed = true
    await push().catch(() => undefined)
    // every job the receive started has ended by now
    for (let i = 0; i < 40 && !aMoved; i++) await sleep(25)
    await sleep(300)
    expect(aMoved).toBe(true)
    const nasA = (() => { try { return readFileSync(join(root, 'nas-photos/a.txt'), 'utf8') } catch { return undefined } })()
    expect(nasA).not.toBe('v1 from the laptop')
    // v1 is not at a.txt: nas claims it nowhere
    expect(custodyCovers('a.txt', v1Run)).toBe(false)
  })
})
