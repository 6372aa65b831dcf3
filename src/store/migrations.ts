/**
 * Forward-only schema migrations from plain SQL files `migrations/NNNN-summary.sql`, where
 * NNNN is the schema version (`PRAGMA user_version`) the file produces.
 *
 * At open: the files must be contiguous from 1; a database newer than the newest file is
 * refused; an existing database is snapshotted with VACUUM INTO before it changes; all
 * pending files run in one IMMEDIATE transaction together with the new user_version and a
 * foreign-key check, so a failure leaves the database exactly at its old version.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { DatabaseFromFutureError, ForeignKeyViolationError, MigrationFailedError, MigrationSequenceError } from '../errors.js'
import { packageRoot } from '../package-root.js'

export interface Migration {
  version: number
  file: string
  sql: string
}

const FILE_RE = /^(\d{4})-[a-z0-9][a-z0-9-]*\.sql$/

export function defaultMigrationsDir (): string {
  return join(packageRoot(), 'migrations')
}

export function loadMigrations (dir: string = defaultMigrationsDir()): Migration[] {
  const files = readdirSync(dir).filter(f => f.endsWith('.sql')).sort()
  const migrations: Migration[] = []
  for (const file of files) {
    const m = FILE_RE.exec(file)
    if (m === null) throw new MigrationSequenceError(files, `${file} is not named NNNN-summary.sql`)
    const version = Number(m[1])
    const expected = migrations.length + 1
    if (version !== expected) {
      throw new MigrationSequenceError(files, `expected version ${expected} next, found ${file}`)
    }
    migrations.push({ version, file, sql: readFileSync(join(dir, file), 'utf8') })
  }
  if (migrations.length === 0) throw new MigrationSequenceError(files, `no migrations in ${dir}`)
  return migrations
}

export interface MigrateOptions {
  /** Path of the database file, for messages and the snapshot; ':memory:' skips the snapshot. */
  path: string
  /** Where pre-migration snapshots go; undefined skips snapshots (in-memory databases). */
  backupsDir: string | undefined
  clock: Clock
  logger: Logger
  appVersion: string
}

export interface MigrateResult {
  from: number
  to: number
  snapshot: string | undefined
}

export function userVersion (db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

function isEmptyDatabase (db: Database.Database): boolean {
  const row = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").get() as { n: number }
  return row.n === 0
}

export function migrate (db: Database.Database, migrations: Migration[], options: MigrateOptions): MigrateResult {
  const latest = migrations.at(-1)?.version ?? 0
  const from = userVersion(db)
  if (from > latest) throw new DatabaseFromFutureError(options.path, from, latest)
  if (from === latest) return { from, to: from, snapshot: undefined }

  let snapshot: string | undefined
  if (options.backupsDir !== undefined && !isEmptyDatabase(db)) {
    mkdirSync(options.backupsDir, { recursive: true, mode: 0o700 })
    const stamp = new Date(Math.floor(options.clock.nowNs() / 1e6)).toISOString().replace(/[:.]/g, '-')
    snapshot = join(options.backupsDir, `pre-migration-v${from}-to-v${latest}-${stamp}.db`)
    db.prepare('VACUUM INTO ?').run(snapshot)
    options.logger.info('snapshotted the database before migrating', { snapshot, from, to: latest })
  }

  const apply = db.transaction(() => {
    // Another process may have migrated between our read and this IMMEDIATE transaction.
    const current = userVersion(db)
    if (current > latest) throw new DatabaseFromFutureError(options.path, current, latest)
    for (const m of migrations) {
      if (m.version <= current) continue
      try {
        db.exec(m.sql)
        db.prepare('INSERT INTO schema_migrations (version, applied_at_ns, app_version) VALUES (?, ?, ?)')
          .run(m.version, options.clock.nowNs(), options.appVersion)
      } catch (err) {
        throw new MigrationFailedError(current, m.version, m.file, err)
      }
    }
    db.pragma(`user_version = ${latest}`)
    const violations = db.pragma('foreign_key_check') as Array<{ table: string, rowid: number, parent: string }>
    if (violations.length > 0) throw new ForeignKeyViolationError(violations)
  })
  apply.immediate()
  options.logger.info('migrated the database', { from, to: latest })
  return { from, to: latest, snapshot }
}
