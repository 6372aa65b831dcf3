/**
 * Attack: nas's full re-hash finds a received file damaged and is killed after the rename into
 * history, before the row is made missing. The row stays present and marked unclaimed (a hole,
 * never a false claim: that holds). The restart settles stale marks — the file is gone, so the
 * mark stays. Then laptop pushes: the path is free, its version is written and recorded under
 * the SAME row (same content, same origin), and only this receive's own marks are settled: the
 * dead run's mark is left. nas's receipt keeps the hole, the push is not a success, and laptop's
 * gate stays shut for a file whose exact bytes are at nas — until some later index settles it.
 */
import { join } from 'node:path'
import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { settleStaleUnclaimed } from '../../src/evidence/unclaimed.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { existsSync } from 'node:fs'
import { homePaths } from '../../src/home.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { openStore } from '../../src/store/store.js'
import { systemClock } from '../../src/clock.js'
import type { InProcessNode } from '../helpers/fleet.js'
import { FILES, heldAtNas, pushed } from './fleet.js'
import { quiet } from './world.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('a kill after a damaged file moved aside, then a push', () => {
  it('the next push after a killed quarantine restores custody of the re-sent file (the gate opens again)', async () => {
    const { root, laptop, nas, tryPush } = await pushed(nodes)
    const at = join(root, 'nas-photos', '2019/01/p2.jpg')
    const st = statSync(at)
    writeFileSync(at, Buffer.alloc(st.size, 0x77))
    utimesSync(at, 1_700_000_000, 1_700_000_000)

    // a ghost nas process (a pid that cannot exist) re-hashes and dies right after the rename
    const ghost = openStore({ path: homePaths(nas.home).db, clock: systemClock, logger: createLogger([new MemorySink()], systemClock), backupsDir: homePaths(nas.home).backups, pid: 4_194_305 })
    let moved = false
    void indexVolume({ store: ghost, volume: nas.config.volumes.get('photos')!, quick: false, logger: quiet, io: { fs: { ...nodeDirectoryFs, rename: async (from: string, to: string) => { await nodeDirectoryFs.rename(from, to); moved = true; await new Promise(() => {}) } } } })
    for (let i = 0; i < 500 && !moved; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(moved).toBe(true)
    ghost.close()
    // what nas's restart does
    nas.store.runs.reapOrphans()
    settleStaleUnclaimed(nas.store, nas.logger)
    expect(heldAtNas(laptop)['2019/01/p2.jpg']?.held).toBe(true) // laptop has not heard yet: nas's last receipt

    const r = await tryPush()
    // the exact bytes are back at nas
    expect(readFileSync(at).equals(FILES['2019/01/p2.jpg']!)).toBe(true)
    expect(r.status, r.error ?? '').toBe('success')
    expect(heldAtNas(laptop)['2019/01/p2.jpg']?.held).toBe(true)
  }, 60_000)

  it('a push after a quarantine killed before its move re-sends the damaged file (the gate opens again without waiting for a full re-hash)', async () => {
    const { root, laptop, nas, tryPush } = await pushed(nodes)
    const at = join(root, 'nas-photos', '2019/01/p2.jpg')
    const st = statSync(at)
    writeFileSync(at, Buffer.alloc(st.size, 0x77))
    utimesSync(at, 1_700_000_000, 1_700_000_000)
    const ghost = openStore({ path: homePaths(nas.home).db, clock: systemClock, logger: createLogger([new MemorySink()], systemClock), backupsDir: homePaths(nas.home).backups, pid: 4_194_305 })
    let moving = false
    void indexVolume({ store: ghost, volume: nas.config.volumes.get('photos')!, quick: false, logger: quiet, io: { fs: { ...nodeDirectoryFs, rename: async () => { moving = true; await new Promise(() => {}) } } } })
    for (let i = 0; i < 500 && !moving; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(moving).toBe(true)
    ghost.close()
    nas.store.runs.reapOrphans()
    settleStaleUnclaimed(nas.store, nas.logger)
    // nas knows the bytes at the path are not the recorded ones (the mark stays); laptop pushes
    const r = await tryPush()
    expect(readFileSync(at).equals(FILES['2019/01/p2.jpg']!)).toBe(true)
    expect(r.status, r.error ?? '').toBe('success')
    expect(heldAtNas(laptop)['2019/01/p2.jpg']?.held).toBe(true)
  }, 60_000)

  it('a push that holds a file under a new origin never launders the mark of a file its node found damaged into a claim of the rotted bytes', async () => {
    const { root, laptop, nas, tryPush, volume } = await pushed(nodes)
    const at = join(root, 'nas-photos', '2019/01/p2.jpg')
    const st = statSync(at)
    writeFileSync(at, Buffer.alloc(st.size, 0x77))
    utimesSync(at, 1_700_000_000, 1_700_000_000)
    const ghost = openStore({ path: homePaths(nas.home).db, clock: systemClock, logger: createLogger([new MemorySink()], systemClock), backupsDir: homePaths(nas.home).backups, pid: 4_194_305 })
    let moving = false
    void indexVolume({ store: ghost, volume: nas.config.volumes.get('photos')!, quick: false, logger: quiet, io: { fs: { ...nodeDirectoryFs, rename: async () => { moving = true; await new Promise(() => {}) } } } })
    for (let i = 0; i < 500 && !moving; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(moving).toBe(true)
    ghost.close()
    nas.store.runs.reapOrphans()
    settleStaleUnclaimed(nas.store, nas.logger)

    // on laptop the photo leaves and comes back (a folder moved out and back): same bytes, a new origin run
    const mine = join(root, 'photos', '2019/01/p2.jpg')
    renameSync(mine, mine + '.away')
    await indexVolume({ store: laptop.store, volume, quick: true, logger: laptop.logger })
    renameSync(mine + '.away', mine)
    await indexVolume({ store: laptop.store, volume, quick: true, logger: laptop.logger })
    await tryPush()
    const bytesOk = readFileSync(at).equals(FILES['2019/01/p2.jpg']!)
    // nas may vouch for the photo only if its exact bytes are there
    expect({ held: heldAtNas(laptop)['2019/01/p2.jpg']?.held, bytesOk }).not.toEqual({ held: true, bytesOk: false })
  }, 60_000)

  it('an offload after a push that held a damage-marked file under a new origin never deletes the only good copy', async () => {
    const { root, laptop, nas, tryPush, volume } = await pushed(nodes)
    const at = join(root, 'nas-photos', '2019/01/p2.jpg')
    const st = statSync(at)
    writeFileSync(at, Buffer.alloc(st.size, 0x77))
    utimesSync(at, 1_700_000_000, 1_700_000_000)
    const ghost = openStore({ path: homePaths(nas.home).db, clock: systemClock, logger: createLogger([new MemorySink()], systemClock), backupsDir: homePaths(nas.home).backups, pid: 4_194_305 })
    let moving = false
    void indexVolume({ store: ghost, volume: nas.config.volumes.get('photos')!, quick: false, logger: quiet, io: { fs: { ...nodeDirectoryFs, rename: async () => { moving = true; await new Promise(() => {}) } } } })
    for (let i = 0; i < 500 && !moving; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(moving).toBe(true)
    ghost.close()
    nas.store.runs.reapOrphans()
    settleStaleUnclaimed(nas.store, nas.logger)
    const mine = join(root, 'photos', '2019/01/p2.jpg')
    renameSync(mine, mine + '.away')
    await indexVolume({ store: laptop.store, volume, quick: true, logger: laptop.logger })
    renameSync(mine + '.away', mine)
    await indexVolume({ store: laptop.store, volume, quick: true, logger: laptop.logger })
    await tryPush()
    // laptop pulls nothing stale here: the push's own receipt is the newest word from nas
    await offloadVolume({ store: laptop.store, config: laptop.config, volume, selectors: ['2019/01/p2.jpg'], dryRun: false, perFile: true, logger: laptop.logger, host: laptop.node!.host, holdDurationMs: 60_000 })
    const goodSomewhere = existsSync(mine) || readFileSync(at).equals(FILES['2019/01/p2.jpg']!)
    expect(goodSomewhere).toBe(true)
  }, 60_000)
})
