/**
 * Review 14b, attack on `receive_replacing`: a mark is cleared when the row's file "is in place
 * exactly as recorded", judged by size and mtime only (src/evidence/unclaimed.ts). But the run
 * that marked the row is the one that wrote over the path: the new version it linked there can
 * have the prior version's size and mtime (a same-length edit on a filesystem with coarse
 * mtimes, a tool that keeps mtimes, or a pusher's chosen mtime — the receiver sets the pusher's
 * mtime on what it writes). Then the mark is cleared, the prior row counts as held again, and
 * this node claims custody of v1 while only v2's bytes are at the path: a false durable for any
 * node relying on this node's copy of v1 (DESIGN invariant 19).
 */
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { claimCovers } from '../../src/evidence/claims.js'
import { currentClaims } from '../../src/evidence/settle.js'
import { settleStaleUnclaimed } from '../../src/evidence/unclaimed.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

/** The same mtime for both versions (whole seconds, so the receiver's utimes keeps it exactly). */
const SAME_MTIME_S = 1_700_000_000

async function setup (mode: 'link-then-fail' | 'fail-before-link'): Promise<{
  root: string, laptop: InProcessNode, nas: InProcessNode, push: () => ReturnType<typeof pushToPeer>, v1Run: () => number, custodyCovers: (path: string, run: number) => boolean, arm: () => void
}> {
  const root = tempDir('cairn-r14b-same-')
  mkdirSync(join(root, 'photos')); mkdirSync(join(root, 'nas-photos'))
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  let armed = false
  const fs: DirectoryFs = {
    ...nodeDirectoryFs,
    linkNoReplace: async (from, to) => {
      if (armed && to.endsWith('/a.txt')) {
        // 'link-then-fail': the new bytes are at the path but the receive does not learn it
        // (an I/O error reported after the link; the same disk as a kill right after link-final)
        if (mode === 'link-then-fail') await nodeDirectoryFs.linkNoReplace(from, to)
        throw Object.assign(new Error('I/O error after the history move'), { code: 'EIO' })
      }
      await nodeDirectoryFs.linkNoReplace(from, to)
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
    const nasVolume = nas.store.volumes.get('photos')!.id
    const c = currentClaims(nas.store, nasVolume).find(x => x.destination === nas.key.nodeId)
    return c !== undefined && claimCovers(c, path, run)
  }
  const a = join(root, 'photos/a.txt')
  writeFileSync(a, 'v1 from the laptop')
  utimesSync(a, SAME_MTIME_S, SAME_MTIME_S)
  await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
  expect((await push()).status).toBe('success')
  const v1 = laptop.store.files.live(laptop.store.volumes.get('photos')!.id).get('a.txt')!.originRunId
  expect(custodyCovers('a.txt', v1)).toBe(true)
  // the laptop edits a.txt: same length, same mtime (coarse mtimes, or a tool keeping them)
  writeFileSync(a, 'v2 from the laptop')
  utimesSync(a, SAME_MTIME_S, SAME_MTIME_S)
  await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
  return { root, laptop, nas, push, v1Run: () => v1, custodyCovers, arm: () => { armed = true } }
}

describe('review 14b: a mark is cleared only when the marked version\'s bytes are at the path', () => {
  it('a receive whose commit linked a same-size, same-mtime new version and then failed never claims the prior version', async () => {
    const s = await setup('link-then-fail')
    s.arm()
    const r = await s.push()
    expect(r.status).not.toBe('success')
    // v2's bytes are at nas's path; v1 is only in nas's history
    expect(readFileSync(join(s.root, 'nas-photos/a.txt'), 'utf8')).toBe('v2 from the laptop')
    expect(s.custodyCovers('a.txt', s.v1Run())).toBe(false)
  })

  it('the start of the next command does not clear a killed receive\'s mark because a same-size, same-mtime file is at the path', async () => {
    const s = await setup('fail-before-link')
    s.arm()
    const r = await s.push()
    expect(r.status).not.toBe('success')
    expect(s.custodyCovers('a.txt', s.v1Run())).toBe(false)
    // what a kill right after `receive:link-final` leaves: the new bytes linked at the path, the
    // prior row still present and marked, the run not running any more (reaped)
    const nasA = join(s.root, 'nas-photos/a.txt')
    writeFileSync(nasA, 'v2 from the laptop')
    utimesSync(nasA, SAME_MTIME_S, SAME_MTIME_S)
    settleStaleUnclaimed(s.nas.store, s.nas.logger)
    expect(s.custodyCovers('a.txt', s.v1Run())).toBe(false)
  })
})
