/**
 * Attack: nas's full re-hash finds a received photo damaged, marks its row unclaimed and is
 * killed before the move (a power cut). After the restart the mark stays — nas knows the bytes
 * at the path are not the recorded ones (its settle re-hashed them) — but the row is present and
 * the file keeps its size and mtime. laptop, whose last pull predates the damage, offloads the
 * photo: its gate passes on nas's old assertion, and the hold (the last check, DESIGN invariant
 * 29) is granted, because the hold handler checks the row's status and the file's size and
 * mtime, never the unclaimed mark. laptop deletes its copy; the only one left is the rotted one.
 */
import { existsSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { offloadVolume } from '../../src/offload/offload.js'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { settleStaleUnclaimed } from '../../src/evidence/unclaimed.js'
import { requestHold } from '../../src/hold/client.js'
import { homePaths } from '../../src/home.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { openStore } from '../../src/store/store.js'
import type { InProcessNode } from '../helpers/fleet.js'
import { sha256 } from '../helpers/volume.js'
import { FILES, heldAtNas, pushed } from './fleet.js'
import { quiet } from './world.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('a hold on a file the peer has marked unclaimed', () => {
  it('a peer never grants a hold on a file it has itself stopped claiming (found damaged, not yet moved)', async () => {
    const { root, laptop, nas, peer } = await pushed(nodes)
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
    const nasVol = nas.store.volumes.get('photos')!.id
    expect(nas.store.conflicts.replacingIds(nasVol).size).toBe(1) // nas knows

    // laptop has not pulled since: its gate passes the photo on nas's old word
    expect(heldAtNas(laptop)['2019/01/p2.jpg']?.held).toBe(true)
    const vol = laptop.store.volumes.get('photos')!.id
    const run = laptop.store.runs.begin({ kind: 'offload', volumeId: vol }).id
    const r = await requestHold(laptop.node!.host, peer, 'photos', [{ path: '2019/01/p2.jpg', hash: sha256(FILES['2019/01/p2.jpg']!) }], 60_000, 5000, { store: laptop.store, volumeId: vol, runId: run, logger: laptop.logger })
    laptop.store.runs.finish(run, 'aborted')
    expect(r.granted.has('2019/01/p2.jpg')).toBe(false)
  }, 60_000)

  it('an offload never deletes the only good copy of a file the peer found damaged and could not move aside yet', async () => {
    const { root, laptop, nas } = await pushed(nodes)
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

    const r = await offloadVolume({ store: laptop.store, config: laptop.config, volume: laptop.config.volumes.get('photos')!, selectors: ['2019/01/p2.jpg'], dryRun: false, perFile: true, logger: laptop.logger, host: laptop.node!.host, holdDurationMs: 60_000 })
    expect(r).toBeDefined()
    // laptop's copy is the only one with the photo's bytes
    expect(existsSync(join(root, 'photos', '2019/01/p2.jpg'))).toBe(true)
  }, 60_000)
})
