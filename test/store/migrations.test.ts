import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { loadMigrations, userVersion, type Migration } from '../../src/store/migrations.js'
import { openStore } from '../../src/store/store.js'
import { tempDir } from '../helpers/store.js'

const real = loadMigrations()

function openFile (path: string, backupsDir: string, migrations: Migration[]): ReturnType<typeof openStore> {
  return openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir, migrations })
}

function tableRows (path: string, sql: string): unknown[] {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare(sql).all()
  } finally {
    db.close()
  }
}

describe('migrations', () => {
  it('are a contiguous sequence from 1 named NNNN-summary.sql', () => {
    expect(real.map(m => m.version)).toEqual(real.map((_, i) => i + 1))
    for (const m of real) expect(m.file).toMatch(/^\d{4}-[a-z0-9-]+\.sql$/)
  })

  it('refuses a directory with a gap in the sequence', () => {
    const dir = tempDir()
    writeFileSync(join(dir, '0001-a.sql'), 'SELECT 1;')
    writeFileSync(join(dir, '0003-c.sql'), 'SELECT 1;')
    expect(() => loadMigrations(dir)).toThrow(expect.objectContaining({ name: 'MigrationSequenceError' }))
  })

  it('refuses a file that is not named NNNN-summary.sql', () => {
    const dir = tempDir()
    writeFileSync(join(dir, '0001-a.sql'), 'SELECT 1;')
    writeFileSync(join(dir, '2-b.sql'), 'SELECT 1;')
    expect(() => loadMigrations(dir)).toThrow(expect.objectContaining({ name: 'MigrationSequenceError' }))
  })

  it('refuses a database from the future and leaves it untouched', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    openFile(path, join(dir, 'backups'), real).close()
    const db = new Database(path)
    db.pragma(`user_version = ${real.length + 1}`)
    db.close()
    expect(() => openFile(path, join(dir, 'backups'), real)).toThrow(expect.objectContaining({
      name: 'DatabaseFromFutureError', databaseVersion: real.length + 1, supportedVersion: real.length
    }))
    const check = new Database(path, { readonly: true })
    expect(userVersion(check)).toBe(real.length + 1)
    check.close()
    expect(existsSync(join(dir, 'backups'))).toBe(false)
  })

  it('leaves the database at its old version and content when a migration fails', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    const store = openFile(path, join(dir, 'backups'), real)
    store.volumes.ensure('photos', '/data/photos')
    store.close()
    const before = tableRows(path, 'SELECT * FROM volumes')
    const failing: Migration = {
      version: real.length + 1,
      file: `${String(real.length + 1).padStart(4, '0')}-broken.sql`,
      sql: "CREATE TABLE extra (id INTEGER PRIMARY KEY) STRICT; UPDATE volumes SET path = '/elsewhere'; INSERT INTO no_such_table VALUES (1);"
    }
    expect(() => openFile(path, join(dir, 'backups'), [...real, failing])).toThrow(expect.objectContaining({
      name: 'MigrationFailedError', fromVersion: real.length, toVersion: real.length + 1
    }))
    const db = new Database(path, { readonly: true })
    expect(userVersion(db)).toBe(real.length)
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra'").get()).toEqual({ n: 0 })
    db.close()
    expect(tableRows(path, 'SELECT * FROM volumes')).toEqual(before)
  })

  it('snapshots a non-empty database with VACUUM INTO before migrating it', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    const backups = join(dir, 'backups')
    const store = openFile(path, backups, real)
    store.volumes.ensure('photos', '/data/photos')
    store.close()
    // The next migration fails, so the snapshot can only have been taken before it ran.
    const failing: Migration = { version: real.length + 1, file: 'x.sql', sql: 'INSERT INTO no_such_table VALUES (1);' }
    expect(() => openFile(path, backups, [...real, failing])).toThrow()
    const files = readdirSync(backups)
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(new RegExp(`^pre-migration-v${real.length}-to-v${real.length + 1}-.+\\.db$`))
    const snap = join(backups, files[0] ?? '')
    expect(tableRows(snap, 'SELECT name, path FROM volumes')).toEqual([{ name: 'photos', path: '/data/photos' }])
    const db = new Database(snap, { readonly: true })
    expect(userVersion(db)).toBe(real.length)
    db.close()
  })

  it('does not snapshot a brand-new empty database', () => {
    const dir = tempDir()
    openFile(join(dir, 'cairn.db'), join(dir, 'backups'), real).close()
    expect(existsSync(join(dir, 'backups'))).toBe(false)
  })

  it('records every applied migration with the app version', () => {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    openFile(path, join(dir, 'backups'), real).close()
    const rows = tableRows(path, 'SELECT version, app_version FROM schema_migrations ORDER BY version') as Array<{ version: number, app_version: string }>
    expect(rows.map(r => r.version)).toEqual(real.map(m => m.version))
  })
})
