import { settleClaims } from '../../src/evidence/settle.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { homePaths } from '../../src/home.js'
import { silentLogger } from '../../src/logger.js'
import { verifyAssertion } from '../../src/pull/accept.js'
import { openStore, type Store } from '../../src/store/store.js'
import type { NodeId } from '../../src/identity/node-id.js'
import { cairn, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'
import { configure, enrollBothWays, eventually, initHome, startServe, type ServeProcess } from './fleet.js'

interface VectorRow { destination: string, origin: string, origin_run: number, verify_method: string | null, source: string, destination_key: string, destination_owner_node_id: string | null, destination_label: string }

function open (home: string): Store {
  const p = homePaths(home)
  return openStore({ path: p.db, clock: new ManualClock(Date.now() * 1e6), logger: silentLogger, backupsDir: p.backups })
}

/** The marker ids of the directories the homes push to (usb: laptop's; offsite, elsewhere: nas's). */
const MARKERS: Record<string, string> = { usb: 'a1'.repeat(16), offsite: 'b2'.repeat(16), elsewhere: 'c3'.repeat(16) }

/**
 * Seeds what a node holds the way its own runs would leave it: one file received from
 * `origin` at `run`, placed at the given directories (each with this node's marker, recorded
 * as its first push would), and the claims settled from that.
 */
function seedHeld (home: string, volumePath: string, origin: NodeId, run: number, directories: Array<[name: string, path: string]>): void {
  const store = open(home)
  try {
    const self = store.nodes.self()
    const vol = store.volumes.ensure('photos', volumePath)
    const originRow = store.nodes.ensureOrigin(origin)
    const r = store.runs.begin({ kind: 'receive', volumeId: vol.id })
    const hash = Buffer.alloc(32, 7)
    store.files.recordObserved(vol.id, r.id, [{ path: '2019/a.jpg', hash, size: 10, mtimeNs: 1, originNodeId: originRow.id, originRunId: run }], 'received')
    const contentId = store.files.contentIdOf(hash) as number
    for (const [name, path] of directories) {
      const markerId = MARKERS[name] as string
      mkdirSync(path, { recursive: true })
      writeFileSync(join(path, '.cairn-destination'), `cairn-destination-v2\n${markerId}\nowner ${self.nodeId}\nlabel ${name}\n`)
      const key = store.db.transaction(() => store.destinations.recordLocal(self.id, name, markerId)).immediate().key
      store.placements.record(key, vol.id, '2019/a.jpg', { contentId, size: 10, mtimeNs: 1, verifyMethod: 'sha256-readback', runId: r.id, originNodeId: originRow.id, originRunId: run })
    }
    settleClaims(store, vol.id, r.id, 'seed')
    store.runs.finish(r.id, 'success')
  } finally {
    store.close()
  }
}

const sorted = <T>(rows: T[][]): T[][] => [...rows].sort((x, y) => JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)

describe('a fleet of real `cairn serve` processes: enroll, pull, schedule, gate, revoke', () => {
  const serves: ServeProcess[] = []
  afterAll(async () => { for (const s of serves) s.kill() })

  it('tells the whole story of enrollment, pulls and revocation', async () => {
    const root = tempDir('cairn-e2e-')
    const [laptop, nas, friend, stranger] = await Promise.all(['laptop', 'nas', 'friend', 'stranger'].map(async n => ({ name: n, home: await initHome(root, n) })))
    if (laptop === undefined || nas === undefined || friend === undefined || stranger === undefined) throw new Error('homes')
    const ids = Object.fromEntries(await Promise.all([laptop, nas, friend].map(async h => [h.name, (await cairnJson<{ node_id: NodeId }>(h.home, ['id'])).node_id] as const))) as Record<string, NodeId>
    const laptopId = ids.laptop as NodeId
    configure(laptop.home, `[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["nas", "nas/offsite", "friend"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`, '1s')
    configure(nas.home, `[volumes.photos]\npath = "${root}/nas-photos"\npush_to = ["offsite"]\n[destinations.offsite]\ntype = "directory"\npath = "${root}/offsite"\n[destinations.elsewhere]\ntype = "directory"\npath = "${root}/elsewhere"`, '1s')
    configure(friend.home, `[volumes.photos]\npath = "${root}/friend-photos"`)
    configure(stranger.home, `[volumes.photos]\npath = "${root}/stranger-photos"`)
    seedHeld(laptop.home, `${root}/photos`, laptopId, 3, [['usb', `${root}/usb`]])
    seedHeld(nas.home, `${root}/nas-photos`, laptopId, 3, [['offsite', `${root}/offsite`], ['elsewhere', `${root}/elsewhere`]])
    seedHeld(friend.home, `${root}/friend-photos`, laptopId, 2, [])

    for (const h of [nas, friend, laptop, stranger]) serves.push(await startServe(h.home))
    const [nasServe, friendServe, laptopServe, strangerServe] = serves as [ServeProcess, ServeProcess, ServeProcess, ServeProcess]
    expect(laptopServe.addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)

    await enrollBothWays(laptop, nas)
    await enrollBothWays(laptop, friend)

    // a manual pull copies nas's components with source = nas, and drops what laptop does not target
    // (the serve's own scheduled pull of nas may be running at this moment: the run gate
    // refuses a second one, so try again until this one gets its turn)
    const [pull] = await eventually(async () => {
      const r = await cairn(laptop.home, ['pull', 'nas', 'photos', '--json'])
      if (r.code !== 0 && r.stderr.includes('is still running')) return undefined
      if (r.code !== 0) throw new Error(`cairn pull nas photos exited ${r.code}: ${r.stderr}`)
      return JSON.parse(r.stdout) as Array<{ status: string, fetched: number, applied: number, dropped: number, rewinds: unknown[], drops: Array<{ destination: string, kind: string }> }>
    })
    // nas's whole set: its custody and its claims about offsite and elsewhere
    expect(pull).toMatchObject({ status: 'success', fetched: 3, applied: 2, dropped: 1, rewinds: [] })
    // elsewhere is no directory laptop requires: dropped, and laptop never registers its marker
    expect(pull?.drops).toEqual([{ destination: `elsewhere (nas's, dir:${MARKERS.elsewhere})`, origin: 'laptop', kind: 'component' }])
    const afterPull = await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])
    // (the scheduled pull may already have brought friend's component as well)
    expect(sorted(afterPull.filter(r => r.destination !== 'friend').map(r => [r.destination, r.origin, r.origin_run, r.verify_method, r.source]))).toEqual([
      ['laptop', 'laptop', 3, 'peer-sha256', 'local'],
      ['nas', 'laptop', 3, 'peer-sha256', 'nas'],
      ['offsite (nas\'s)', 'laptop', 3, 'sha256-readback', 'nas'],
      ['usb', 'laptop', 3, 'sha256-readback', 'local']
    ])
    // nas's directory is its marker, owned by nas; laptop's usb is laptop's marker
    expect(sorted(afterPull.filter(r => r.destination_key.startsWith('dir:')).map(r => [r.destination_key, r.destination_owner_node_id, r.destination_label]))).toEqual(sorted([
      [`dir:${MARKERS.offsite}`, ids.nas, 'offsite'],
      [`dir:${MARKERS.usb}`, laptopId, 'usb']
    ]))

    // the scheduled pull (pull_every = 1s) brings friend's evidence without a manual command
    await eventually(async () => {
      const rows = await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])
      return rows.find(r => r.destination === 'friend' && r.source === 'friend')
    })
    const scheduled = await cairnJson<Array<{ kind: string, peer: string, status: string }>>(laptop.home, ['runs', '--limit', '200'])
    expect(scheduled.some(r => r.kind === 'pull' && r.peer === 'friend' && r.status === 'success')).toBe(true)

    // an unenrolled node cannot open a connection, and nothing is written on laptop
    const runsBefore = (await cairnJson<unknown[]>(laptop.home, ['runs', '--limit', '1000'])).length
    const strangerIdDoc = await cairnJson<{ invite: string }>(laptop.home, ['id'])
    expect((await cairn(stranger.home, ['peer', 'add', 'laptop', strangerIdDoc.invite])).code).toBe(0)
    const strangerPull = await cairnJson<Array<{ status: string, error: string }>>(stranger.home, ['pull', 'laptop', 'photos']).catch(async () => {
      return JSON.parse((await cairn(stranger.home, ['pull', 'laptop', 'photos', '--json'])).stdout) as Array<{ status: string, error: string }>
    })
    expect(strangerPull[0]?.status).toBe('failed')
    const runsAfter = await cairnJson<Array<{ peer: string | null }>>(laptop.home, ['runs', '--limit', '1000'])
    expect(runsAfter.filter(r => r.peer === 'stranger')).toEqual([])
    expect(runsAfter.length - runsBefore).toBeGreaterThanOrEqual(0)

    // revocation: the impact first, nothing changes without --yes
    const preview = await cairn(laptop.home, ['peer', 'revoke', 'nas'])
    expect(preview.code).toBe(1)
    expect(preview.stdout).toContain('drop 2 live component(s)')
    const dry = await cairnJson<{ dry_run: boolean, components_dropped: number, run_id: null }>(laptop.home, ['peer', 'revoke', 'nas', '--dry-run'])
    expect(dry).toMatchObject({ dry_run: true, components_dropped: 2, run_id: null })
    const historyBefore = await cairnJson<unknown[]>(laptop.home, ['vector', 'history', 'photos'])

    const revoked = await cairnJson<{ peer: string, dry_run: boolean, components_dropped: number, freshness_dropped: number, run_id: number }>(laptop.home, ['peer', 'revoke', 'nas', '--yes'])
    expect(revoked).toMatchObject({ peer: 'nas', node_id: ids.nas, dry_run: false, components_dropped: 2, freshness_dropped: 0 })
    expect(revoked.run_id).toBeGreaterThan(0)

    const afterRevoke = await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])
    expect(sorted(afterRevoke.map(r => [r.destination, r.source]))).toEqual([['friend', 'friend'], ['laptop', 'local'], ['usb', 'local']])
    expect(await cairnJson<unknown[]>(laptop.home, ['vector', 'history', 'photos'])).toEqual(historyBefore)
    expect((await cairnJson<Array<{ name: string, status: string }>>(laptop.home, ['peer', 'list'])).find(p => p.name === 'nas')?.status).toBe('revoked')

    // a new pull from nas is refused, and nas can no longer reach laptop: the running serve
    // picked the revocation up from the database and its gate refuses nas
    const again = await cairn(laptop.home, ['pull', 'nas'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('revoked')
    await eventually(async () => {
      const r = await cairn(nas.home, ['pull', 'laptop', 'photos', '--json'])
      const doc = JSON.parse(r.stdout) as Array<{ status: string }>
      return doc[0]?.status === 'failed' ? true : undefined
    }, 5000)
    await eventually(async () => laptopServe.stderr().includes('not an enrolled, live peer') || laptopServe.stderr().includes('no longer live') ? true : undefined, 5000)

    // an old envelope from nas, replayed through the accept path, is refused
    const store = open(laptop.home)
    try {
      const nasRow = store.nodes.byNodeId(ids.nas as string)
      const old = store.db.prepare('SELECT envelope FROM assertions WHERE signer_node_id = ? ORDER BY id LIMIT 1').pluck().get(nasRow?.id) as Buffer
      expect(old).toBeDefined()
      expect(() => verifyAssertion(store, new Uint8Array(old), { expectedSigner: ids.nas as NodeId, volume: 'photos', receiptFor: null }))
        .toThrow(expect.objectContaining({ name: 'PeerRevokedError' }))
    } finally {
      store.close()
    }

    // every serve stops cleanly within 2 s
    for (const s of [laptopServe, nasServe, friendServe, strangerServe]) {
      const stopped = await s.stop()
      expect(stopped.code).toBe(0)
      expect(stopped.ms).toBeLessThan(2000)
    }
    expect(join(root, 'x')).toBeTruthy()
  }, 90_000)
})
