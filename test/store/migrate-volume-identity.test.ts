import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { silentLogger } from '../../src/logger.js'
import { parseVolumeMarker, VOLUME_MARKER_FILE } from '../../src/push/volume-marker.js'
import { loadMigrations, migrate, userVersion } from '../../src/store/migrations.js'
import { openStore } from '../../src/store/store.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

const all = loadMigrations()
// the integrator renumbers migrations at merge: find this one by name, never by number
const VERSION = all.findIndex(m => m.file.endsWith('-volume-identity.sql')) + 1

function openAt (path: string, version: number): Database.Database {
  const db = new Database(path)
  db.pragma('foreign_keys = ON')
  migrate(db, all.slice(0, version), { path, backupsDir: undefined, clock: new ManualClock(), logger: silentLogger, appVersion: 'test' })
  expect(userVersion(db)).toBe(version)
  return db
}

type Row = Record<string, unknown>

describe('migration: volume identity', () => {
  it('keeps every volume and file row as it was with no marker recorded, and an existing home gets its marker at the next index', async () => {
    expect(VERSION).toBeGreaterThan(1)
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    const photos = join(dir, 'photos')
    mkdirSync(photos)
    writeFileSync(join(photos, 'a.jpg'), 'alpha')
    const self = testKey(1)

    // ---- seed at the version before ----
    const old = openAt(path, VERSION - 1)
    const selfRow = Number(old.prepare('INSERT INTO nodes (node_id, name, public_key, is_self, created_at_ns) VALUES (?, ?, ?, 1, 1)').run(self.nodeId, 'laptop', Buffer.from(self.publicKey)).lastInsertRowid)
    const vol = Number(old.prepare('INSERT INTO volumes (name, path, created_at_ns) VALUES (?, ?, 1)').run('photos', photos).lastInsertRowid)
    old.prepare('INSERT INTO volumes (name, path, created_at_ns) VALUES (?, ?, 2)').run('music', join(dir, 'music'))
    const run = Number(old.prepare("INSERT INTO runs (kind, volume_id, status, started_at_ns, ended_at_ns) VALUES ('index', ?, 'success', 2, 3)").run(vol).lastInsertRowid)
    const content = Number(old.prepare('INSERT INTO contents (hash, size, origin_node_id, origin_run_id, created_at_ns) VALUES (?, 5, ?, ?, 1)').run(Buffer.alloc(32, 7), selfRow, run).lastInsertRowid)
    old.prepare(`INSERT INTO files (volume_id, path, content_id, mtime_ns, status, first_seen_run_id, last_seen_run_id, status_changed_run_id, origin_node_id, origin_run_id)
                 VALUES (?, 'a.jpg', ?, 1, 'present', ?, ?, ?, ?, ?)`).run(vol, content, run, run, run, selfRow, run)
    const volumesBefore = old.prepare('SELECT * FROM volumes ORDER BY id').all() as Row[]
    const filesBefore = old.prepare('SELECT * FROM files ORDER BY id').all() as Row[]
    old.close()

    // ---- migrate ----
    const db = openAt(path, VERSION)
    expect(db.prepare('SELECT * FROM volumes ORDER BY id').all()).toEqual(volumesBefore.map(v => ({ ...v, marker_id: null })))
    expect(db.prepare('SELECT * FROM files ORDER BY id').all()).toEqual(filesBefore)
    // a recorded marker is never replaced by another in one write, and one marker is one volume
    const A = 'a'.repeat(32)
    const B = 'b'.repeat(32)
    db.prepare('UPDATE volumes SET marker_id = ? WHERE id = ?').run(A, vol)
    expect(() => db.prepare('UPDATE volumes SET marker_id = ? WHERE id = ?').run(B, vol)).toThrow(/forgotten/)
    expect(() => db.prepare("UPDATE volumes SET marker_id = ? WHERE name = 'music'").run(A)).toThrow(/UNIQUE/)
    expect(() => db.prepare("UPDATE volumes SET marker_id = 'not-hex' WHERE name = 'music'").run()).toThrow(/CHECK/)
    db.prepare('UPDATE volumes SET marker_id = NULL WHERE id = ?').run(vol)
    expect(db.pragma('foreign_key_check')).toEqual([])
    db.close()

    // ---- the next index of the (non-empty) root writes and records the marker ----
    const store = openStore({ path, clock: new ManualClock(Date.now() * 1e6), logger: silentLogger, backupsDir: join(dir, 'b') })
    try {
      expect(store.volumes.get('photos')?.markerId).toBeNull()
      const r = await indexVolume({ store, volume: { name: 'photos', path: photos, pushTo: [], offloadRequires: [], offloadMaxEvidenceAgeMs: undefined }, quick: false, logger: silentLogger })
      expect(r).toMatchObject({ status: 'success', markerWritten: true, filesMissing: 0 })
      const m = parseVolumeMarker(readFileSync(join(photos, VOLUME_MARKER_FILE), 'utf8'))
      expect(m).toMatchObject({ kind: 'v2', markerId: r.markerId, ownerNodeId: self.nodeId, volume: 'photos' })
      expect(store.volumes.get('photos')?.markerId).toBe(r.markerId)
    } finally {
      store.close()
    }
  })
})
