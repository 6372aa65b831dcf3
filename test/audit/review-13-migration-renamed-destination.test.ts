/**
 * Review 13 — the gate never opens (AGENTS.md "A gate that never opens is the second worst"):
 * migration 0007 must carry every database a released cairn could have written.
 *
 * Attack (honest operator, no fault): before 2.0.0, `ensureDestinationIdentity` adopted any
 * marker it found for a name with no recorded marker, and `destinations_v1` rows were never
 * deleted. An operator who renamed a directory destination in cairn.toml (`[destinations.usb]` →
 * `[destinations.backup]`, same path) and pushed therefore has two `destinations_v1` rows with
 * the same `marker_id` (`usb` → M, `backup` → M). Config load before 2.0.0 did not refuse two
 * names for one path either, so a bind mount or symlinked path produced the same.
 *
 * Migration 0007 inserts one `destinations` row per v1 row keyed `dir:<marker_id>`: the second
 * row violates the PRIMARY KEY, the migration aborts, and the upgraded binary cannot open the
 * database at all — no push, no pull, no offload, for a fleet that did nothing wrong.
 *
 * Suggested fix: insert one registry row per marker (e.g. `INSERT OR IGNORE ... ORDER BY
 * created_at_ns DESC` so the newest name keeps `local_name`, or GROUP BY marker_id), re-key the
 * vector/placements of every name that recorded the marker, and drop+audit the duplicates'
 * evidence (the existing m7_drop path) rather than failing.
 */
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
const MARKER = '0123456789abcdef0123456789abcdef'

function openAt (path: string, version: number): Database.Database {
  const db = new Database(path)
  db.pragma('foreign_keys = ON')
  migrate(db, all.slice(0, version), { path, backupsDir: undefined, clock: new ManualClock(), logger: silentLogger, appVersion: 'test' })
  expect(userVersion(db)).toBe(version)
  return db
}

describe('migration 0007 on a database from a renamed destination', () => {
  it('opens a database in which two destination names recorded one marker (a renamed destination) and keys its evidence by that marker once', () => {
    const dir = tempDir('cairn-review13-m7-')
    const path = join(dir, 'cairn.db')
    const v6 = openAt(path, 6)
    const self = Number(v6.prepare('INSERT INTO nodes (node_id, name, public_key, is_self, created_at_ns) VALUES (?, ?, ?, 1, 1)').run(testKey(1).nodeId, 'laptop', Buffer.from(testKey(1).publicKey)).lastInsertRowid)
    const vol = Number(v6.prepare("INSERT INTO volumes (name, path, created_at_ns) VALUES ('photos', '/data/photos', 1)").run().lastInsertRowid)
    const push = Number(v6.prepare("INSERT INTO runs (kind, volume_id, destination, status, started_at_ns, ended_at_ns) VALUES ('push', ?, 'backup', 'success', 2, 3)").run(vol).lastInsertRowid)
    // `usb` pushed first; the config was then edited to call the same disk `backup`, whose first
    // push found the marker and recorded it (destination-marker.ts before 2.0.0)
    v6.prepare('INSERT INTO destinations (name, marker_id, created_at_ns) VALUES (?, ?, ?)').run('usb', MARKER, 5)
    v6.prepare('INSERT INTO destinations (name, marker_id, created_at_ns) VALUES (?, ?, ?)').run('backup', MARKER, 6)
    v6.prepare(`INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, run_id, updated_at_ns)
                VALUES (?, 'backup', ?, 4, 'sha256-readback', 10, ?, 11)`).run(vol, self, push)
    v6.close()

    let opened: ReturnType<typeof openStore> | undefined
    let error: unknown
    try {
      opened = openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b') })
    } catch (err) {
      error = err
    }
    expect(error).toBeUndefined()
    const rows = opened?.db.prepare('SELECT key FROM destinations').pluck().all() ?? []
    expect(rows).toEqual([`dir:${MARKER}`])
    opened?.close()
  })
})
