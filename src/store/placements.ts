/**
 * The placement cache (migration 0004): what this node wrote to a directory destination and
 * verified, with the destination file's size and mtime at the time. A push skips a file only
 * when the cache says the same content is there, verified with the same or a stronger method,
 * and the file still has the recorded size and mtime.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

export interface Placement {
  contentId: number
  size: number
  mtimeNs: number
  verifyMethod: string
  runId: number
  verifiedAtNs: number
}

export class PlacementStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  forVolume (destination: string, volumeId: number): Map<string, Placement> {
    const rows = this.#db.prepare('SELECT path, content_id, size, mtime_ns, verify_method, run_id, verified_at_ns FROM placements WHERE destination = ? AND volume_id = ?')
      .all(destination, volumeId) as Array<{ path: string, content_id: number, size: number, mtime_ns: number, verify_method: string, run_id: number, verified_at_ns: number }>
    return new Map(rows.map(r => [r.path, { contentId: r.content_id, size: r.size, mtimeNs: r.mtime_ns, verifyMethod: r.verify_method, runId: r.run_id, verifiedAtNs: r.verified_at_ns }]))
  }

  record (destination: string, volumeId: number, path: string, p: Omit<Placement, 'verifiedAtNs'>): void {
    this.#db.prepare(`INSERT INTO placements (destination, volume_id, path, content_id, size, mtime_ns, verify_method, run_id, verified_at_ns)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                      ON CONFLICT (destination, volume_id, path) DO UPDATE SET content_id = excluded.content_id, size = excluded.size,
                        mtime_ns = excluded.mtime_ns, verify_method = excluded.verify_method, run_id = excluded.run_id, verified_at_ns = excluded.verified_at_ns`)
      .run(destination, volumeId, path, p.contentId, p.size, p.mtimeNs, p.verifyMethod, p.runId, this.#clock.nowNs())
  }

  forget (destination: string, volumeId: number, path: string): void {
    this.#db.prepare('DELETE FROM placements WHERE destination = ? AND volume_id = ? AND path = ?').run(destination, volumeId, path)
  }

  /** Forgets everything placed at a destination (inside the caller's transaction). */
  forgetDestination (destination: string): number {
    return this.#db.prepare('DELETE FROM placements WHERE destination = ?').run(destination).changes
  }
}
