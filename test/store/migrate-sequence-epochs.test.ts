import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { loadMigrations, migrate, userVersion } from '../../src/store/migrations.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

const all = loadMigrations()
// the sequence-epochs migration, whatever number the integrator gives it; the version before it
const index = all.findIndex(m => /sequence-epochs/.test(m.file))
const before = index

function openAt (path: string, version: number): Database.Database {
  const db = new Database(path)
  db.pragma('foreign_keys = ON')
  migrate(db, all.slice(0, version), { path, backupsDir: undefined, clock: new ManualClock(), logger: silentLogger, appVersion: 'test' })
  expect(userVersion(db)).toBe(version)
  return db
}

describe('migration to sequence epochs (invariant 9)', () => {
  it('keeps every watermark as a counter with its epoch to be pinned, continues the local counter from the old sequence, draws one epoch for the home, and keeps stored assertions', () => {
    expect(index).toBeGreaterThan(0)
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    const old = openAt(path, before)
    const peer = Number(old.prepare('INSERT INTO nodes (node_id, name, public_key, created_at_ns, enrolled_at_ns) VALUES (?, ?, ?, 1, 1)').run(testKey(2).nodeId, 'nas', Buffer.from(testKey(2).publicKey)).lastInsertRowid)
    old.prepare('INSERT INTO assertion_watermarks (signer_node_id, volume, seq, envelope_sha256, accepted_at_ns) VALUES (?, ?, ?, ?, 5), (?, ?, ?, ?, 6)')
      .run(peer, 'photos', 1_760_000_000_000_123, Buffer.alloc(32, 1), peer, 'music', 9_007_199_254_740_991, Buffer.alloc(32, 2))
    old.prepare("INSERT INTO local_seqs (volume, seq) VALUES ('photos', 1760000000000500)").run()
    old.prepare("INSERT INTO assertions (signer_node_id, volume, seq, issued_at_ns, receipt_for, envelope, envelope_sha256, received_at_ns) VALUES (?, 'photos', 1760000000000123, 7, NULL, x'00', ?, 8)")
      .run(peer, Buffer.alloc(32, 1))
    const assertionsBefore = old.prepare('SELECT * FROM assertions').all()
    old.close()

    const db = openAt(path, before + 1)
    expect(db.prepare('SELECT signer_node_id, volume, epoch, counter, hex(envelope_sha256) AS h, accepted_at_ns FROM sequence_watermarks ORDER BY volume').all()).toEqual([
      { signer_node_id: peer, volume: 'music', epoch: null, counter: 9_007_199_254_740_991, h: '02'.repeat(32), accepted_at_ns: 6 },
      { signer_node_id: peer, volume: 'photos', epoch: null, counter: 1_760_000_000_000_123, h: '01'.repeat(32), accepted_at_ns: 5 }
    ])
    expect(db.prepare('SELECT volume, counter FROM local_counters').all()).toEqual([{ volume: 'photos', counter: 1_760_000_000_000_500 }])
    expect(db.prepare('SELECT epoch FROM local_epoch').pluck().get()).toMatch(/^[0-9a-f]{16}$/)
    expect(db.prepare('SELECT * FROM assertions').all()).toEqual((assertionsBefore as Array<Record<string, unknown>>).map(r => ({ ...r, epoch: null, counter: null })))
    // a migrated watermark pins the first epoch it sees, with a higher counter only
    expect(() => db.prepare("UPDATE sequence_watermarks SET epoch = 'aaaaaaaaaaaaaaaa' WHERE volume = 'photos'").run()).toThrow(/only moves forward/)
    db.prepare("UPDATE sequence_watermarks SET epoch = 'aaaaaaaaaaaaaaaa', counter = counter + 1 WHERE volume = 'photos'").run()
    expect(() => db.prepare("UPDATE sequence_watermarks SET epoch = 'bbbbbbbbbbbbbbbb', counter = counter + 1 WHERE volume = 'photos'").run()).toThrow(/re-enrolling/)
    expect(() => db.prepare('DELETE FROM sequence_watermarks').run()).toThrow(/re-enrolling/)
    db.close()
  })
})
