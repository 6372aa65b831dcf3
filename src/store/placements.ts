/**
 * Placements (migrations 0004, 0006): per (destination, volume, path) what this node placed
 * there and when the bytes there were last really read. For a directory this node writes:
 * the content it wrote and read back, with the destination file's size and mtime, so a push
 * can skip it (the skip never makes the read younger, invariant 22). For a peer this node
 * pushes to: the content and origin the peer accepted in a receipt (its custody is about that
 * origin). A placement is evidence only together with the claim rules in src/evidence/; a
 * verify that finds a file wrong forgets its placement, and so does a destination reset.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

export interface Placement {
  contentId: number
  size: number
  mtimeNs: number
  verifyMethod: string
  runId: number
  /** The last real read of the bytes at the destination (never a skip's "now"). */
  verifiedAtNs: number
  /** The origin the file was placed under (null for rows older than migration 0006). */
  originNodeId: number | null
  originRunId: number | null
}

export class PlacementStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  readonly #one: Database.Statement
  // prepared on first use: a push records and forgets one row per file
  #record: Database.Statement | undefined
  #forget: Database.Statement | undefined

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
    this.#one = db.prepare('SELECT content_id, verify_method, verified_at_ns, origin_node_id, origin_run_id FROM placements WHERE destination = ? AND volume_id = ? AND path = ?')
  }

  forVolume (destination: string, volumeId: number): Map<string, Placement> {
    const rows = this.#db.prepare('SELECT path, content_id, size, mtime_ns, verify_method, run_id, verified_at_ns, origin_node_id, origin_run_id FROM placements WHERE destination = ? AND volume_id = ?')
      .all(destination, volumeId) as Array<{ path: string, content_id: number, size: number, mtime_ns: number, verify_method: string, run_id: number, verified_at_ns: number, origin_node_id: number | null, origin_run_id: number | null }>
    return new Map(rows.map(r => [r.path, { contentId: r.content_id, size: r.size, mtimeNs: r.mtime_ns, verifyMethod: r.verify_method, runId: r.run_id, verifiedAtNs: r.verified_at_ns, originNodeId: r.origin_node_id, originRunId: r.origin_run_id }]))
  }

  /** One placement, for the gate's point lookups. */
  one (destination: string, volumeId: number, path: string): { contentId: number, verifyMethod: string, verifiedAtNs: number, originNodeId: number | null, originRunId: number | null } | undefined {
    const r = this.#one.get(destination, volumeId, path) as { content_id: number, verify_method: string, verified_at_ns: number, origin_node_id: number | null, origin_run_id: number | null } | undefined
    return r === undefined ? undefined : { contentId: r.content_id, verifyMethod: r.verify_method, verifiedAtNs: r.verified_at_ns, originNodeId: r.origin_node_id, originRunId: r.origin_run_id }
  }

  /** Destinations with placements for a volume. */
  destinationsOf (volumeId: number): string[] {
    return this.#db.prepare('SELECT DISTINCT destination FROM placements WHERE volume_id = ?').pluck().all(volumeId) as string[]
  }

  /** Records a placement whose bytes were really read at `verifiedAtNs` (default: now). */
  record (destination: string, volumeId: number, path: string, p: Omit<Placement, 'verifiedAtNs' | 'originNodeId' | 'originRunId'> & { verifiedAtNs?: number, originNodeId?: number | null, originRunId?: number | null }): void {
    this.#record ??= this.#db.prepare(`INSERT INTO placements (destination, volume_id, path, content_id, size, mtime_ns, verify_method, run_id, verified_at_ns, origin_node_id, origin_run_id)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                      ON CONFLICT (destination, volume_id, path) DO UPDATE SET content_id = excluded.content_id, size = excluded.size,
                        mtime_ns = excluded.mtime_ns, verify_method = excluded.verify_method, run_id = excluded.run_id, verified_at_ns = excluded.verified_at_ns,
                        origin_node_id = excluded.origin_node_id, origin_run_id = excluded.origin_run_id`)
    this.#record.run(destination, volumeId, path, p.contentId, p.size, p.mtimeNs, p.verifyMethod, p.runId, p.verifiedAtNs ?? this.#clock.nowNs(), p.originNodeId ?? null, p.originRunId ?? null)
  }

  /**
   * A verify re-read and re-hashed the bytes of a placement and found them intact: its read is
   * now, and the placement is content-verified (a shallow push's presence+size is upgraded).
   */
  refreshRead (destination: string, volumeId: number, path: string, contentId: number, atNs: number, method: string): void {
    this.#db.prepare('UPDATE placements SET verified_at_ns = max(verified_at_ns, ?), verify_method = ? WHERE destination = ? AND volume_id = ? AND path = ? AND content_id = ?')
      .run(atNs, method, destination, volumeId, path, contentId)
  }

  forget (destination: string, volumeId: number, path: string): void {
    this.#forget ??= this.#db.prepare('DELETE FROM placements WHERE destination = ? AND volume_id = ? AND path = ?')
    this.#forget.run(destination, volumeId, path)
  }

  /** Forgets everything placed at a destination (inside the caller's transaction). */
  forgetDestination (destination: string): number {
    return this.#db.prepare('DELETE FROM placements WHERE destination = ?').run(destination).changes
  }
}
