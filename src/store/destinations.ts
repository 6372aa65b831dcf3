/**
 * The identity marker recorded for each directory destination. A destination whose marker is
 * missing or differs from the recorded one is refused until the operator resets it
 * (DESIGN invariant 14); reset forgets the recorded marker.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

export interface DestinationRow {
  name: string
  markerId: string
  createdAtNs: number
}

export class DestinationStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  get (name: string): DestinationRow | undefined {
    const row = this.#db.prepare('SELECT name, marker_id, created_at_ns FROM destinations WHERE name = ?').get(name) as { name: string, marker_id: string, created_at_ns: number } | undefined
    return row === undefined ? undefined : { name: row.name, markerId: row.marker_id, createdAtNs: row.created_at_ns }
  }

  /** Records the marker of a destination that has none recorded; refuses to replace one. */
  insert (name: string, markerId: string): DestinationRow {
    this.#db.prepare('INSERT INTO destinations (name, marker_id, created_at_ns) VALUES (?, ?, ?)').run(name, markerId, this.#clock.nowNs())
    const row = this.get(name)
    if (row === undefined) throw new Error(`destination ${name} vanished after insert`)
    return row
  }

  /** Forgets the recorded marker (inside the caller's transaction). Returns the forgotten marker. */
  forget (name: string): string | undefined {
    const row = this.get(name)
    if (row === undefined) return undefined
    this.#db.prepare('DELETE FROM destinations WHERE name = ?').run(name)
    return row.markerId
  }
}
