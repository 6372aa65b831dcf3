/**
 * Volumes: the database's record of each volume's name and path. The path in the config and
 * the path the evidence was recorded for must agree (DESIGN invariant 15), or the command
 * refuses: evidence about /a must never silently become evidence about /b.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import { VolumePathMismatchError } from '../errors.js'

export interface VolumeRow {
  id: number
  name: string
  path: string
  createdAtNs: number
}

export class VolumeStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  get (name: string): VolumeRow | undefined {
    const row = this.#db.prepare('SELECT id, name, path, created_at_ns FROM volumes WHERE name = ?').get(name) as { id: number, name: string, path: string, created_at_ns: number } | undefined
    return row === undefined ? undefined : { id: row.id, name: row.name, path: row.path, createdAtNs: row.created_at_ns }
  }

  list (): VolumeRow[] {
    return (this.#db.prepare('SELECT id, name, path, created_at_ns FROM volumes ORDER BY name').all() as Array<{ id: number, name: string, path: string, created_at_ns: number }>)
      .map(row => ({ id: row.id, name: row.name, path: row.path, createdAtNs: row.created_at_ns }))
  }

  /**
   * Returns the volume's row, creating it on first use. Throws VolumePathMismatchError when the
   * recorded path differs from the configured one.
   */
  ensure (name: string, configPath: string): VolumeRow {
    const tx = this.#db.transaction((): VolumeRow => {
      const existing = this.get(name)
      if (existing !== undefined) {
        if (existing.path !== configPath) throw new VolumePathMismatchError(name, configPath, existing.path)
        return existing
      }
      this.#db.prepare('INSERT INTO volumes (name, path, created_at_ns) VALUES (?, ?, ?)').run(name, configPath, this.#clock.nowNs())
      const created = this.get(name)
      if (created === undefined) throw new Error(`volume ${name} vanished after insert`)
      return created
    })
    return tx.immediate()
  }

  /** Checks agreement without creating anything (read-only commands). */
  check (name: string, configPath: string): VolumeRow | undefined {
    const existing = this.get(name)
    if (existing !== undefined && existing.path !== configPath) throw new VolumePathMismatchError(name, configPath, existing.path)
    return existing
  }
}
