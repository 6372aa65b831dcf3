import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { loadMigrations, migrate, userVersion } from '../../src/store/migrations.js'
import { openStore } from '../../src/store/store.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

const all = loadMigrations()

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

const insertFile = `INSERT INTO files (volume_id, path, content_id, mtime_ns, status, first_seen_run_id, last_seen_run_id, status_changed_run_id, origin_node_id, origin_run_id)
                    VALUES (?, ?, ?, 1, 'present', ?, ?, ?, ?, ?)`

describe('migration 0005 (file rows carry their content\'s origin)', () => {
  it('backfills every file row, superseded ones included, keeps the copy equal and immutable at version 5, and at version 6 origins are required but may change', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    // seed at version 4
    const v4 = openAt(path, 4)
    const self = Number(v4.prepare('INSERT INTO nodes (node_id, name, public_key, is_self, created_at_ns) VALUES (?, ?, ?, 1, 1)').run(testKey(1).nodeId, 'laptop', Buffer.from(testKey(1).publicKey)).lastInsertRowid)
    const peer = Number(v4.prepare('INSERT INTO nodes (node_id, name, public_key, created_at_ns, enrolled_at_ns) VALUES (?, ?, ?, 1, 1)').run(testKey(2).nodeId, 'nas', Buffer.from(testKey(2).publicKey)).lastInsertRowid)
    const vol = Number(v4.prepare("INSERT INTO volumes (name, path, created_at_ns) VALUES ('photos', '/data/photos', 1)").run().lastInsertRowid)
    const r1 = Number(v4.prepare("INSERT INTO runs (kind, volume_id, started_at_ns) VALUES ('index', ?, 1)").run(vol).lastInsertRowid)
    v4.prepare('INSERT INTO contents (hash, size, origin_node_id, origin_run_id, created_at_ns) VALUES (?, 1, ?, ?, 1), (?, 2, ?, ?, 1)')
      .run(Buffer.alloc(32, 1), self, r1, Buffer.alloc(32, 2), peer, 77)
    v4.prepare(`INSERT INTO files (volume_id, path, content_id, mtime_ns, status, first_seen_run_id, last_seen_run_id, status_changed_run_id)
                VALUES (?, 'a', 1, 1, 'superseded', ?, ?, ?), (?, 'a', 2, 1, 'present', ?, ?, ?)`).run(vol, r1, r1, r1, vol, r1, r1, r1)
    const before = v4.prepare('SELECT * FROM files ORDER BY id').all()
    v4.close()

    // version 5: the backfill, and triggers tying a file's origin to its content's
    const v5 = openAt(path, 5)
    const after = v5.prepare('SELECT * FROM files ORDER BY id').all() as Array<Record<string, unknown>>
    expect(after.map(({ origin_node_id: _n, origin_run_id: _r, ...rest }) => rest)).toEqual(before)
    expect(after.map(r => [r.path, r.status, r.origin_node_id, r.origin_run_id])).toEqual([['a', 'superseded', self, r1], ['a', 'present', peer, 77]])
    // the superseded row is still terminal
    expect(() => v5.prepare("UPDATE files SET mtime_ns = 5 WHERE status = 'superseded'").run()).toThrow(/superseded/)
    // an insert whose origin differs from its content's is refused; an edit of the origin too
    expect(() => v5.prepare(insertFile).run(vol, 'b', 2, r1, r1, r1, peer, 78)).toThrow(/content's origin/)
    expect(() => v5.prepare('UPDATE files SET origin_run_id = 1').run()).toThrow(/never changes/)
    v5.close()

    // version 6 (the claim model) drops those triggers on purpose: a file's origin lives on the
    // file row and may change (re-entry, a received file), but every row still names one
    const v6 = openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b'), migrations: all.slice(0, 6) })
    expect(v6.migration).toMatchObject({ from: 5, to: 6 })
    const six = v6.db.prepare('SELECT * FROM files ORDER BY id').all() as Array<Record<string, unknown>>
    expect(six.map(({ read_at_ns: _x, ...rest }) => rest)).toEqual(after)
    expect(six.map(r => r.read_at_ns)).toEqual([null, null]) // never read by this node since
    expect(() => v6.db.prepare("UPDATE files SET mtime_ns = 5 WHERE status = 'superseded'").run()).toThrow(/superseded/)
    // an origin other than the content's first one is accepted, and so is a change of origin
    v6.db.prepare(insertFile).run(vol, 'b', 2, r1, r1, r1, self, r1)
    v6.db.prepare("UPDATE files SET origin_node_id = ?, origin_run_id = ? WHERE path = 'a' AND status = 'present'").run(self, r1)
    expect(v6.db.prepare("SELECT path, origin_node_id AS node, origin_run_id AS run FROM files WHERE status = 'present' ORDER BY path").all())
      .toEqual([{ path: 'a', node: self, run: r1 }, { path: 'b', node: self, run: r1 }])
    // the content row keeps its first origin for the record
    expect(v6.db.prepare('SELECT origin_node_id AS node, origin_run_id AS run FROM contents WHERE id = 2').get()).toEqual({ node: peer, run: 77 })
    // the origin is required: neither an insert nor an update may leave it out
    expect(() => v6.db.prepare(insertFile).run(vol, 'c', 1, r1, r1, r1, null, null)).toThrow(/names its origin/)
    expect(() => v6.db.prepare(insertFile).run(vol, 'c', 1, r1, r1, r1, self, null)).toThrow(/names its origin/)
    expect(() => v6.db.prepare("UPDATE files SET origin_run_id = NULL WHERE path = 'b'").run()).toThrow(/names its origin/)
    expect(() => v6.db.prepare("UPDATE files SET origin_node_id = NULL WHERE path = 'b'").run()).toThrow(/names its origin/)
    v6.close()
    const check = new Database(path, { readonly: true })
    expect(check.pragma('foreign_key_check')).toEqual([])
    check.close()
  })
})
