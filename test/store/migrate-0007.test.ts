import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { loadMigrations, migrate, userVersion } from '../../src/store/migrations.js'
import { revokeSource } from '../../src/store/revocation.js'
import { openStore } from '../../src/store/store.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

const all = loadMigrations()
const MARKER = '0123456789abcdef0123456789abcdef'

/**
 * Opens the raw database and migrates it to `version`. The Store classes are written against
 * the newest schema, so an older version is seeded and read with plain SQL.
 */
function openAt (path: string, version: number): Database.Database {
  const db = new Database(path)
  db.pragma('foreign_keys = ON')
  migrate(db, all.slice(0, version), { path, backupsDir: undefined, clock: new ManualClock(), logger: silentLogger, appVersion: 'test' })
  expect(userVersion(db)).toBe(version)
  return db
}

type Row = Record<string, unknown>

describe('migration 0007 (destination identity)', () => {
  it('re-keys the local directory rows under their marker, drops and audits what no marker resolves, and leaves node-id rows and the existing history rows alone', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    const laptop = testKey(1).nodeId
    const nas = testKey(2).nodeId
    const friend = testKey(3).nodeId

    // ---- seed at version 6 ----
    const v6 = openAt(path, 6)
    const node = v6.prepare('INSERT INTO nodes (node_id, name, public_key, is_self, created_at_ns, enrolled_at_ns) VALUES (?, ?, ?, ?, 1, ?)')
    const self = Number(node.run(laptop, 'laptop', Buffer.from(testKey(1).publicKey), 1, null).lastInsertRowid)
    const nasRow = Number(node.run(nas, 'nas', Buffer.from(testKey(2).publicKey), 0, 1).lastInsertRowid)
    const friendRow = Number(node.run(friend, 'friend', Buffer.from(testKey(3).publicKey), 0, 1).lastInsertRowid)
    const vol = Number(v6.prepare("INSERT INTO volumes (name, path, created_at_ns) VALUES ('photos', '/data/photos', 1)").run().lastInsertRowid)
    const run = v6.prepare("INSERT INTO runs (kind, volume_id, destination, peer_node_id, status, started_at_ns, ended_at_ns) VALUES (?, ?, ?, ?, 'success', 2, 3)")
    const index = Number(run.run('index', vol, null, null).lastInsertRowid)
    const pushUsb = Number(run.run('push', vol, 'usb', null).lastInsertRowid)
    const pushCold = Number(run.run('push', vol, 'cold', null).lastInsertRowid)
    const pullNas = Number(run.run('pull', vol, null, nasRow).lastInsertRowid)
    const content = Number(v6.prepare('INSERT INTO contents (hash, size, origin_node_id, origin_run_id, created_at_ns) VALUES (?, 3, ?, ?, 1)').run(Buffer.alloc(32, 7), self, index).lastInsertRowid)
    // the destinations_v1-era table: usb's marker, recorded at its first push
    v6.prepare('INSERT INTO destinations (name, marker_id, created_at_ns) VALUES (?, ?, ?)').run('usb', MARKER, 5)

    const vector = v6.prepare(`INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, source_node_id, run_id, updated_at_ns)
                               VALUES (?, ?, ?, ?, ?, 10, ?, ?, 11)`)
    vector.run(vol, 'usb', self, 4, 'sha256-readback', null, pushUsb) // local, at usb: re-keyed
    vector.run(vol, 'usb', nasRow, 2, 'sha256-readback', null, pushUsb) // local, another origin: re-keyed
    vector.run(vol, 'cold', self, 3, 'sha256-readback', null, pushCold) // local label with no marker: dropped
    vector.run(vol, `${nas}/offsite`, self, 6, 'sha256-readback', nasRow, pullNas) // a pulled `<node id>/<label>` claim: dropped
    vector.run(vol, 'usb', friendRow, 5, 'sha256-readback', nasRow, pullNas) // a peer's row under this node's label: not this node's, dropped
    vector.run(vol, nas, self, 7, 'peer-sha256', nasRow, pullNas) // nas's custody: untouched
    vector.run(vol, friend, self, 8, 'peer-sha256', friendRow, pullNas) // friend's custody: untouched

    const placement = v6.prepare(`INSERT INTO placements (destination, volume_id, path, content_id, size, mtime_ns, verify_method, run_id, verified_at_ns, origin_node_id, origin_run_id)
                                  VALUES (?, ?, ?, ?, 3, 1, ?, ?, 12, ?, ?)`)
    placement.run('usb', vol, 'a.jpg', content, 'sha256-readback', pushUsb, self, index)
    placement.run('usb', vol, 'b.jpg', content, 'sha256-readback', pushUsb, self, index)
    placement.run('cold', vol, 'a.jpg', content, 'sha256-readback', pushCold, self, index)
    placement.run(nas, vol, 'a.jpg', content, 'peer-sha256', pullNas, self, index)

    const historyBefore = v6.prepare('SELECT * FROM vector_history ORDER BY id').all()
    expect(historyBefore).toHaveLength(7)
    const before = (sql: string): Row[] => v6.prepare(sql).all() as Row[]
    const custodyBefore = before(`SELECT * FROM vector WHERE destination IN ('${nas}', '${friend}') ORDER BY destination`)
    const usbBefore = before("SELECT * FROM vector WHERE destination = 'usb' AND source_node_id IS NULL ORDER BY origin_node_id")
    const placementsBefore = before('SELECT * FROM placements ORDER BY destination, path')
    const runsBefore = (v6.prepare('SELECT count(*) FROM runs').pluck().get() as number)
    v6.close()

    // ---- migrate to version 7 ----
    const v7 = openAt(path, 7)
    const rows = (sql: string, ...args: unknown[]): Row[] => v7.prepare(sql).all(...args) as Row[]
    const key = `dir:${MARKER}`

    // the registry: usb is this node's directory, keyed by its marker, under its config name
    expect(rows('SELECT key, owner_node_id, label, local_name, created_at_ns, forgotten_at_ns FROM destinations')).toEqual([
      { key, owner_node_id: self, label: 'usb', local_name: 'usb', created_at_ns: 5, forgotten_at_ns: null }
    ])
    expect(rows("SELECT name FROM sqlite_master WHERE name = 'destinations_v1'")).toEqual([])

    // usb's local rows moved to the marker key, nothing else about them changed
    expect(rows('SELECT * FROM vector WHERE destination = ? ORDER BY origin_node_id', key)).toEqual(usbBefore.map(r => ({ ...r, destination: key })))
    // node-id rows untouched
    expect(rows(`SELECT * FROM vector WHERE destination IN ('${nas}', '${friend}') ORDER BY destination`)).toEqual(custodyBefore)
    // and nothing else is left: no label-keyed row survives
    expect(rows('SELECT destination, origin_node_id FROM vector ORDER BY destination, origin_node_id')).toEqual([
      ...[{ destination: nas, origin_node_id: self }, { destination: friend, origin_node_id: self }].sort((a, b) => a.destination < b.destination ? -1 : 1),
      { destination: key, origin_node_id: self },
      { destination: key, origin_node_id: nasRow }
    ].sort((a, b) => a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : a.origin_node_id - b.origin_node_id))

    // one 'reset' run audits every dropped row, each with a retraction naming its old key and source
    const resets = rows("SELECT id, kind, status, volume_id, destination, detail FROM runs WHERE kind = 'reset'")
    expect(resets).toHaveLength(1)
    const reset = resets[0] as Row
    expect(reset).toMatchObject({ status: 'success', volume_id: null, destination: null })
    expect(JSON.parse(reset.detail as string)).toMatchObject({ migration: 7, components_dropped: 3 })
    expect(v7.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(runsBefore + 1)
    expect(rows('SELECT volume_id, destination, origin_node_id, from_run, to_run, source_node_id, run_id FROM vector_retractions ORDER BY destination, origin_node_id')).toEqual([
      { volume_id: vol, destination: `${nas}/offsite`, origin_node_id: self, from_run: 6, to_run: 0, source_node_id: nasRow, run_id: reset.id },
      { volume_id: vol, destination: 'cold', origin_node_id: self, from_run: 3, to_run: 0, source_node_id: null, run_id: reset.id },
      { volume_id: vol, destination: 'usb', origin_node_id: friendRow, from_run: 5, to_run: 0, source_node_id: nasRow, run_id: reset.id }
    ].sort((a, b) => a.destination < b.destination ? -1 : 1))
    for (const r of rows('SELECT reason FROM vector_retractions')) expect(r.reason).toMatch(/^migration 0007/)

    // placements: usb's under the marker key, the unresolvable label's gone, the peer's untouched
    const placementsOf = (dest: string): Row[] => placementsBefore.filter(p => p.destination === dest)
    expect(rows('SELECT * FROM placements ORDER BY destination, path')).toEqual([
      ...placementsOf(nas),
      ...placementsOf('usb').map((p): Row => ({ ...p, destination: key }))
    ].sort((a, b) => (a.destination as string) < (b.destination as string) ? -1 : (a.destination as string) > (b.destination as string) ? 1 : (a.path as string) < (b.path as string) ? -1 : 1))

    // history keeps the keys it was written with: no row rewritten or removed
    expect(rows('SELECT * FROM vector_history ORDER BY id').slice(0, historyBefore.length)).toEqual(historyBefore)
    expect(v7.pragma('foreign_key_check')).toEqual([])
    v7.close()

    // the Store reads the migrated registry
    const store = openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b') })
    expect(store.destinations.local('usb')).toMatchObject({ key, markerId: MARKER, ownerRowId: self, localName: 'usb' })
    expect(store.destinations.local('cold')).toBeUndefined()
    store.close()
  })

  // KNOWN BUG (reported with the destination-identity port): the re-key in
  // migrations/0007-destination-identity.sql (`UPDATE vector SET destination = ...`) fires
  // vector_history_on_update, so each re-keyed row appends a history row under the new key,
  // stamped with the old push run and its old instant: history then says that run wrote a key
  // it never wrote. Remove `.fails` once the migration leaves history as it was.
  it('appends no history row while it re-keys', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    const v6 = openAt(path, 6)
    const self = Number(v6.prepare('INSERT INTO nodes (node_id, name, public_key, is_self, created_at_ns) VALUES (?, ?, ?, 1, 1)').run(testKey(1).nodeId, 'laptop', Buffer.from(testKey(1).publicKey)).lastInsertRowid)
    const vol = Number(v6.prepare("INSERT INTO volumes (name, path, created_at_ns) VALUES ('photos', '/data/photos', 1)").run().lastInsertRowid)
    const push = Number(v6.prepare("INSERT INTO runs (kind, volume_id, destination, status, started_at_ns, ended_at_ns) VALUES ('push', ?, 'usb', 'success', 2, 3)").run(vol).lastInsertRowid)
    v6.prepare('INSERT INTO destinations (name, marker_id, created_at_ns) VALUES (?, ?, ?)').run('usb', MARKER, 5)
    v6.prepare(`INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, run_id, updated_at_ns)
                VALUES (?, 'usb', ?, 4, 'sha256-readback', 10, ?, 11)`).run(vol, self, push)
    const historyBefore = v6.prepare('SELECT * FROM vector_history ORDER BY id').all()
    v6.close()
    const v7 = openAt(path, 7)
    expect(v7.prepare('SELECT * FROM vector_history ORDER BY id').all()).toEqual(historyBefore)
    v7.close()
  })

  it('writes no audit run when nothing needs dropping: a fresh database, and one whose keys all resolve', () => {
    const dir = tempDir()
    const fresh = openStore({ path: join(dir, 'fresh.db'), clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b') })
    expect(fresh.db.prepare("SELECT count(*) FROM runs WHERE kind = 'reset'").pluck().get()).toBe(0)
    expect(fresh.db.prepare('SELECT count(*) FROM vector_retractions').pluck().get()).toBe(0)
    fresh.close()

    const path = join(dir, 'clean.db')
    const v6 = openAt(path, 6)
    const self = Number(v6.prepare('INSERT INTO nodes (node_id, name, public_key, is_self, created_at_ns) VALUES (?, ?, ?, 1, 1)').run(testKey(1).nodeId, 'laptop', Buffer.from(testKey(1).publicKey)).lastInsertRowid)
    const vol = Number(v6.prepare("INSERT INTO volumes (name, path, created_at_ns) VALUES ('photos', '/data/photos', 1)").run().lastInsertRowid)
    const push = Number(v6.prepare("INSERT INTO runs (kind, volume_id, destination, status, started_at_ns, ended_at_ns) VALUES ('push', ?, 'usb', 'success', 2, 3)").run(vol).lastInsertRowid)
    v6.prepare('INSERT INTO destinations (name, marker_id, created_at_ns) VALUES (?, ?, ?)').run('usb', MARKER, 5)
    v6.prepare(`INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, run_id, updated_at_ns)
                VALUES (?, 'usb', ?, 4, 'sha256-readback', 10, ?, 11)`).run(vol, self, push)
    v6.close()
    const v7 = openAt(path, 7)
    expect(v7.prepare("SELECT count(*) FROM runs WHERE kind = 'reset'").pluck().get()).toBe(0)
    expect(v7.prepare('SELECT count(*) FROM vector_retractions').pluck().get()).toBe(0)
    expect(v7.prepare('SELECT destination FROM vector').pluck().all()).toEqual([`dir:${MARKER}`])
    v7.close()
  })
})

describe('a name that named an enrolled peer keeps naming it (migration 0007)', () => {
  function revokedNas (): { store: ReturnType<typeof openStore>, nasRow: number } {
    const dir = tempDir()
    const store = openStore({ path: join(dir, 'cairn.db'), clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b') })
    store.nodes.insertSelf(testKey(1).nodeId, 'laptop')
    const nas = store.nodes.enrollPeer(testKey(2).nodeId, 'nas', [])
    revokeSource(store, nas.id)
    return { store, nasRow: nas.id }
  }

  it('refuses, in SQL, another node enrolled or renamed under a revoked peer\'s name', () => {
    const { store } = revokedNas()
    const insert = store.db.prepare('INSERT INTO nodes (node_id, name, public_key, created_at_ns, enrolled_at_ns) VALUES (?, ?, ?, 1, ?)')
    expect(() => insert.run(testKey(3).nodeId, 'nas', Buffer.from(testKey(3).publicKey), 1)).toThrow(/keeps naming it/)
    // an origin-only row may exist, but never take the name
    const origin = Number(insert.run(testKey(4).nodeId, null, Buffer.from(testKey(4).publicKey), null).lastInsertRowid)
    expect(() => store.db.prepare("UPDATE nodes SET name = 'nas' WHERE id = ?").run(origin)).toThrow(/keeps naming it/)
    expect(store.db.prepare("SELECT node_id FROM nodes WHERE name = 'nas'").pluck().all()).toEqual([testKey(2).nodeId])
    // another name is fine
    expect(() => insert.run(testKey(3).nodeId, 'nas2', Buffer.from(testKey(3).publicKey), 1)).not.toThrow()
    store.close()
  })

  it('refuses, in NodeStore, enrolling a different node under a revoked peer\'s name with PeerNameTakenError, and writes nothing', () => {
    const { store, nasRow } = revokedNas()
    const nodesBefore = store.db.prepare('SELECT * FROM nodes ORDER BY id').all()
    expect(() => store.nodes.enrollPeer(testKey(3).nodeId, 'nas', [])).toThrow(expect.objectContaining({
      name: 'PeerNameTakenError', peerName: 'nas', takenBy: testKey(2).nodeId, takenByRevoked: true
    }))
    expect(store.db.prepare('SELECT * FROM nodes ORDER BY id').all()).toEqual(nodesBefore)
    // the peer that had the name may be trusted again under it
    expect(store.nodes.reEnrollPeer(testKey(2).nodeId, 'nas', [])).toMatchObject({ id: nasRow, name: 'nas', revokedAtNs: null })
    store.close()
  })
})
