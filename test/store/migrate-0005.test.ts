import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { loadMigrations } from '../../src/store/migrations.js'
import { openStore } from '../../src/store/store.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

const all = loadMigrations()

describe('migration 0005 (file rows carry their content\'s origin)', () => {
  it('backfills every file row, superseded ones included, and then keeps the copy equal and immutable', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    // seed at version 4
    const v4 = openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b'), migrations: all.slice(0, 4) })
    const self = v4.nodes.insertSelf(testKey(1).nodeId, 'laptop')
    const peer = v4.nodes.enrollPeer(testKey(2).nodeId, 'nas', [])
    const vol = v4.volumes.ensure('photos', '/data/photos')
    const r1 = v4.runs.begin({ kind: 'index', volumeId: vol.id })
    v4.db.prepare('INSERT INTO contents (hash, size, origin_node_id, origin_run_id, created_at_ns) VALUES (?, 1, ?, ?, 1), (?, 2, ?, ?, 1)')
      .run(Buffer.alloc(32, 1), self.id, r1.id, Buffer.alloc(32, 2), peer.id, 77)
    v4.db.prepare(`INSERT INTO files (volume_id, path, content_id, mtime_ns, status, first_seen_run_id, last_seen_run_id, status_changed_run_id)
                   VALUES (?, 'a', 1, 1, 'superseded', ?, ?, ?), (?, 'a', 2, 1, 'present', ?, ?, ?)`).run(vol.id, r1.id, r1.id, r1.id, vol.id, r1.id, r1.id, r1.id)
    const before = v4.db.prepare('SELECT * FROM files ORDER BY id').all()
    v4.close()

    const v5 = openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b'), migrations: all.slice(0, 5) })
    expect(v5.migration).toMatchObject({ from: 4, to: 5 })
    const after = v5.db.prepare('SELECT * FROM files ORDER BY id').all() as Array<Record<string, unknown>>
    expect(after.map(({ origin_node_id: _n, origin_run_id: _r, ...rest }) => rest)).toEqual(before)
    expect(after.map(r => [r.path, r.status, r.origin_node_id, r.origin_run_id])).toEqual([['a', 'superseded', self.id, r1.id], ['a', 'present', peer.id, 77]])
    // the superseded row is still terminal
    expect(() => v5.db.prepare("UPDATE files SET mtime_ns = 5 WHERE status = 'superseded'").run()).toThrow(/superseded/)
    // an insert whose origin differs from its content's is refused; an edit of the origin too
    expect(() => v5.db.prepare(`INSERT INTO files (volume_id, path, content_id, mtime_ns, status, first_seen_run_id, last_seen_run_id, status_changed_run_id, origin_node_id, origin_run_id)
                                VALUES (?, 'b', 2, 1, 'present', ?, ?, ?, ?, 78)`).run(vol.id, r1.id, r1.id, r1.id, peer.id)).toThrow(/content's origin/)
    expect(() => v5.db.prepare('UPDATE files SET origin_run_id = 1').run()).toThrow(/never changes/)
    v5.close()
    const check = new Database(path, { readonly: true })
    expect(check.pragma('foreign_key_check')).toEqual([])
    check.close()
  })
})
