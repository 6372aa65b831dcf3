/**
 * From ../shared/audit/data-path/concurrent-receives.test.ts, inverted (issue 14, DESIGN
 * invariant 25): two receives of one volume from different pushers run at once (the run gates
 * allow it), both writing the same new paths. The commit is create-exclusive, so each path holds
 * exactly one pusher's bytes, the receiver's row there agrees with them, and the other pusher is
 * told `conflict` for that path — its placement is forgotten and no receipt covers bytes that
 * are not there.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('two receives at once', () => {
  it('keep exactly one pusher\'s bytes per path, agreeing with the row, and tell the other pusher conflict', async () => {
    const root = tempDir('cairn-two-receives-')
    for (const d of ['lap', 'desk', 'nasv']) mkdirSync(join(root, d))
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/lap"\n`)
    const desktop = inProcessNode(root, 'desktop', `[volumes.photos]\npath = "${root}/desk"\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nasv"\n`)
    nodes.push(laptop, desktop, nas)
    // no commit lands before both receives have planned and begun to commit: the race is real
    const runs = new Set<string>()
    let armed = false
    let open: () => void = () => {}
    const bothCommitting = new Promise<void>(resolve => { open = resolve })
    let timer: NodeJS.Timeout | undefined
    const racing: DirectoryFs = {
      ...nodeDirectoryFs,
      linkNoReplace: async (from, to) => {
        const run = /\.cairn-staging\/(run-\d+)\//.exec(from)?.[1]
        if (armed && run !== undefined) {
          runs.add(run)
          timer ??= setTimeout(open, 3000)
          if (runs.size >= 2) { clearTimeout(timer); open() }
          await bothCommitting
        }
        await nodeDirectoryFs.linkNoReplace(from, to)
      }
    }
    await nas.start({ pushFrameDeadlineMs: 5000, fs: racing })
    await nas.initVolumes()
    await laptop.start(); await desktop.start()
    enroll(laptop, nas); enroll(desktop, nas); enroll(nas, laptop); enroll(nas, desktop)
    const push = async (n: InProcessNode) => await pushToPeer({ store: n.store, volume: n.config.volumes.get('photos')!, peer: n.store.nodes.byNodeId(nas.key.nodeId)!, host: n.node!.host, logger: n.logger })
    // one push first, alone, so the receiver's volume is set up (its marker) before the race
    writeFileSync(join(root, 'lap', 'seed.txt'), 'seed')
    await indexVolume({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, quick: false, logger: laptop.logger })
    expect((await push(laptop)).status).toBe('success')
    armed = true
    const N = 120
    const text = (who: string, i: number): string => `${who}-${String(i).padStart(5, '0')}`
    for (let i = 0; i < N; i++) {
      writeFileSync(join(root, 'lap', `f${i}.txt`), text('laptop', i))
      writeFileSync(join(root, 'desk', `f${i}.txt`), text('desktp', i))
    }
    for (const n of [laptop, desktop]) await indexVolume({ store: n.store, volume: n.config.volumes.get('photos')!, quick: false, logger: n.logger })
    const [rl, rd] = await Promise.all([push(laptop), push(desktop)])
    const live = nas.store.files.live(nas.store.volumes.get('photos')!.id)
    const conflictsOf = (r: typeof rl): Set<string> => new Set(r.failures.filter(f => f.code === 'conflict').map(f => f.path))
    const lapConflicts = conflictsOf(rl)
    const deskConflicts = conflictsOf(rd)
    const placedAtNas = (n: InProcessNode): Map<string, unknown> => n.store.placements.forVolume(nas.key.nodeId, n.store.volumes.get('photos')!.id)
    for (let i = 0; i < N; i++) {
      const path = `f${i}.txt`
      const disk = readFileSync(join(root, 'nasv', path), 'utf8')
      expect([text('laptop', i), text('desktp', i)]).toContain(disk)
      // the row agrees with the bytes
      expect(live.get(path)?.hash.equals(createHash('sha256').update(disk).digest())).toBe(true)
      // the pusher whose bytes are not there was told so, and holds no placement for them
      const loser = disk === text('laptop', i) ? { conflicts: deskConflicts, node: desktop } : { conflicts: lapConflicts, node: laptop }
      expect(loser.conflicts.has(path)).toBe(true)
      expect(placedAtNas(loser.node).has(path)).toBe(false)
    }
    // every path went to exactly one of them
    expect(lapConflicts.size + deskConflicts.size).toBe(N)
  }, 60_000)
})
