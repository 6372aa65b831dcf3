import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { loadMigrations, migrate, userVersion } from '../../src/store/migrations.js'
import { openStore } from '../../src/store/store.js'
import { tempDir } from '../helpers/store.js'

const all = loadMigrations()
// the integrator may renumber it: find it by name
const THIS = all.findIndex(m => m.file.endsWith('-exact-unlink.sql')) + 1
const NEVER_A_PID = (() => {
  try { return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) + 1 } catch { return 4_194_305 }
})()

describe('migration exact-unlink (run owners, unlink journal)', () => {
  it('keeps runs recorded with a pid only, judged by that pid: a dead owner is reaped, a live one is not', () => {
    expect(THIS).toBeGreaterThan(1)
    const path = join(tempDir(), 'cairn.db')
    const db = new Database(path)
    db.pragma('foreign_keys = ON')
    migrate(db, all.slice(0, THIS - 1), { path, backupsDir: undefined, clock: new ManualClock(), logger: silentLogger, appVersion: 'test' })
    expect(userVersion(db)).toBe(THIS - 1)
    const vol = Number(db.prepare("INSERT INTO volumes (name, path, created_at_ns) VALUES ('photos', '/data/photos', 1)").run().lastInsertRowid)
    const run = db.prepare("INSERT INTO runs (kind, volume_id, status, started_at_ns, owner_pid) VALUES (?, ?, 'running', 2, ?)")
    const dead = Number(run.run('index', vol, NEVER_A_PID).lastInsertRowid)
    const live = Number(run.run('pull', null, process.pid).lastInsertRowid)
    db.close()

    const store = openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir: join(path, '..', 'backups'), pid: NEVER_A_PID + 1 })
    expect(store.runs.get(dead).owner).toEqual({ pid: NEVER_A_PID, startTicks: null, bootId: null, pidNs: null, host: null })
    expect(store.runs.reapOrphans().map(r => r.id)).toEqual([dead])
    expect(store.runs.get(live).status).toBe('running')
    expect(store.unlinkJournal.hasPending()).toBe(false)
    store.close()
  })
})
