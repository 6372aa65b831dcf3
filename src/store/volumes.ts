/**
 * Volumes: the database's record of each volume's name and path. The path in the config and
 * the path the evidence was recorded for must agree (DESIGN invariant 15), or the command
 * refuses: evidence about /a must never silently become evidence about /b.
 *
 * Each volume also records the id of the identity marker at its root (`.cairn-volume`,
 * src/push/volume-marker.ts): a recorded id is replaced only after it was forgotten (a trigger).
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import { VolumePathMismatchError } from '../errors.js'

export interface VolumeRow {
  id: number
  name: string
  path: string
  createdAtNs: number
  /** The id of the marker recorded at its root; null before the first (docs/volumes.md). */
  markerId: string | null
}

interface Row { id: number, name: string, path: string, created_at_ns: number, marker_id: string | null }

function toRow (row: Row): VolumeRow {
  return { id: row.id, name: row.name, path: row.path, createdAtNs: row.created_at_ns, markerId: row.marker_id }
}

export class VolumeStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  get (name: string): VolumeRow | undefined {
    const row = this.#db.prepare('SELECT id, name, path, created_at_ns, marker_id FROM volumes WHERE name = ?').get(name) as Row | undefined
    return row === undefined ? undefined : toRow(row)
  }

  list (): VolumeRow[] {
    return (this.#db.prepare('SELECT id, name, path, created_at_ns, marker_id FROM volumes ORDER BY name').all() as Row[]).map(toRow)
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

  /**
   * Records the marker found or written at the volume's root. Idempotent for the same id; a
   * different recorded id throws (the trigger: it must be forgotten first).
   */
  recordMarker (volumeId: number, markerId: string): VolumeRow {
    this.#db.prepare('UPDATE volumes SET marker_id = ? WHERE id = ? AND marker_id IS NOT ?').run(markerId, volumeId, markerId)
    const row = this.#db.prepare('SELECT id, name, path, created_at_ns, marker_id FROM volumes WHERE id = ?').get(volumeId) as Row | undefined
    if (row === undefined) throw new Error(`volume #${volumeId} does not exist`)
    return toRow(row)
  }

  /** Files recorded as present on the volume's disk (an empty root with some looks unmounted). */
  countPresentFiles (volumeId: number): number {
    return (this.#db.prepare("SELECT count(*) AS n FROM files WHERE volume_id = ? AND status = 'present'").get(volumeId) as { n: number }).n
  }

  /** Forgets the recorded marker (`volume init --reset`, inside the caller's audited transaction). */
  forgetMarker (volumeId: number): void {
    this.#db.prepare('UPDATE volumes SET marker_id = NULL WHERE id = ?').run(volumeId)
  }
}
