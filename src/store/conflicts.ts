/**
 * Receiver conflicts (DESIGN invariant 25): per (volume, pusher, path) the version a pusher
 * offered that this node kept out, because taking it would have destroyed what this node does
 * not own. Live state: every completed receive from a pusher replaces that pusher's set with
 * what its plan conflicted on now, so a conflict lives exactly until one side resolves it.
 * The claim computation reads it (each conflict is a hole in custody, and a row found changed
 * on disk is not held); status shows it.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

/**
 * - `local-edit`: the file on disk differs from this node's indexed row (an unindexed edit);
 * - `diverged`: this node's row is newer than, or unrelated to, what the pusher's version replaces;
 * - `occupied`: something this node has not indexed is at the path (another writer got there first).
 */
export type ConflictKind = 'local-edit' | 'diverged' | 'occupied'

export interface ConflictInput {
  path: string
  hash: Buffer
  originNodeId: number
  originRunId: number
  kind: ConflictKind
  /** The live row found changed on disk (local-edit only). */
  localFileId: number | null
}

export interface ConflictRow extends ConflictInput {
  volumeId: number
  pusherNodeId: number
  firstRunId: number
  lastRunId: number
  firstSeenNs: number
  lastSeenNs: number
}

interface Raw {
  volume_id: number
  path: string
  pusher_node_id: number
  hash: Buffer
  origin_node_id: number
  origin_run_id: number
  kind: ConflictKind
  local_file_id: number | null
  first_run_id: number
  last_run_id: number
  first_seen_ns: number
  last_seen_ns: number
}

function toRow (r: Raw): ConflictRow {
  return {
    volumeId: r.volume_id,
    path: r.path,
    pusherNodeId: r.pusher_node_id,
    hash: r.hash,
    originNodeId: r.origin_node_id,
    originRunId: r.origin_run_id,
    kind: r.kind,
    localFileId: r.local_file_id,
    firstRunId: r.first_run_id,
    lastRunId: r.last_run_id,
    firstSeenNs: r.first_seen_ns,
    lastSeenNs: r.last_seen_ns
  }
}

export class ConflictStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  /**
   * Replaces the pusher's live conflicts for the volume with `conflicts` (what its plan of this
   * receive run conflicted on), in one transaction. A conflict seen again keeps its first
   * sighting; one not seen again is resolved (the pusher's version landed or is held, or the
   * pusher no longer offers that path).
   */
  replaceFromPusher (volumeId: number, pusherNodeId: number, runId: number, conflicts: ConflictInput[]): void {
    const now = this.#clock.nowNs()
    const insert = this.#db.prepare(`INSERT INTO receive_conflicts (volume_id, path, pusher_node_id, hash, origin_node_id, origin_run_id, kind, local_file_id,
                                                                   first_run_id, last_run_id, first_seen_ns, last_seen_ns)
                                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    const before = this.#db.prepare('SELECT path, first_run_id, first_seen_ns FROM receive_conflicts WHERE volume_id = ? AND pusher_node_id = ?')
    const drop = this.#db.prepare('DELETE FROM receive_conflicts WHERE volume_id = ? AND pusher_node_id = ?')
    this.#db.transaction(() => {
      const first = new Map((before.all(volumeId, pusherNodeId) as Array<{ path: string, first_run_id: number, first_seen_ns: number }>).map(r => [r.path, r]))
      drop.run(volumeId, pusherNodeId)
      for (const c of conflicts) {
        const b = first.get(c.path)
        insert.run(volumeId, c.path, pusherNodeId, c.hash, c.originNodeId, c.originRunId, c.kind, c.localFileId, b?.first_run_id ?? runId, runId, b?.first_seen_ns ?? now, now)
      }
    }).immediate()
  }

  /**
   * Live conflicts of a volume, by path then pusher. A revoked pusher's are left out (it can no
   * longer push, so nothing would ever resolve them; they come back if it is re-enrolled).
   */
  forVolume (volumeId: number): ConflictRow[] {
    return (this.#db.prepare(`SELECT k.* FROM receive_conflicts k JOIN nodes n ON n.id = k.pusher_node_id
                              WHERE k.volume_id = ? AND n.revoked_at_ns IS NULL ORDER BY k.path, k.pusher_node_id`).all(volumeId) as Raw[]).map(toRow)
  }

  /**
   * Marks live rows a receive is about to replace (their prior bytes move to history first):
   * not held from now until `clearReplacing` (invariant 19). Inside the caller's transaction.
   */
  markReplacing (volumeId: number, runId: number, fileIds: readonly number[]): void {
    const insert = this.#db.prepare('INSERT INTO receive_replacing (file_id, volume_id, run_id) VALUES (?, ?, ?) ON CONFLICT (file_id) DO UPDATE SET run_id = excluded.run_id')
    for (const id of fileIds) insert.run(id, volumeId, runId)
  }

  /** Rows of the volume marked as being replaced (by any receive, finished or killed). */
  replacingIds (volumeId: number): Set<number> {
    return new Set((this.#db.prepare('SELECT file_id FROM receive_replacing WHERE volume_id = ?').all(volumeId) as Array<{ file_id: number }>).map(r => r.file_id))
  }

  /**
   * Rows an index (a re-hash, or a sampled verify) marked: bytes this node read and found not to
   * be the row's (damaged, not yet moved aside) or could not read. A receive may replace such a
   * file with the pusher's version (it moves to history); nothing holds it for anyone.
   */
  damageMarked (volumeId: number): Set<number> {
    return new Set((this.#db.prepare("SELECT r.file_id FROM receive_replacing r JOIN runs u ON u.id = r.run_id WHERE r.volume_id = ? AND u.kind = 'index'").all(volumeId) as Array<{ file_id: number }>).map(r => r.file_id))
  }

  /** Marks whose run is no longer running (it finished without settling them, or was killed). */
  staleReplacing (): Array<{ fileId: number, volumeId: number }> {
    return (this.#db.prepare("SELECT file_id, volume_id FROM receive_replacing WHERE run_id NOT IN (SELECT id FROM runs WHERE status = 'running')").all() as Array<{ file_id: number, volume_id: number }>)
      .map(r => ({ fileId: r.file_id, volumeId: r.volume_id }))
  }

  /** The rows one receive run marked. */
  replacingOfRun (runId: number): number[] {
    return (this.#db.prepare('SELECT file_id FROM receive_replacing WHERE run_id = ?').all(runId) as Array<{ file_id: number }>).map(r => r.file_id)
  }

  /** Unmarks rows (the receive settled them: superseded, or checked still in place). */
  clearReplacing (fileIds: readonly number[]): void {
    const drop = this.#db.prepare('DELETE FROM receive_replacing WHERE file_id = ?')
    this.#db.transaction(() => { for (const id of fileIds) drop.run(id) }).immediate()
  }
}
