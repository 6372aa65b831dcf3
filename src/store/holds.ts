/**
 * Holds (DESIGN invariant 29), the content lock between nodes that back each other up. Three
 * kinds of row in `holds`:
 *
 *  - `intent`:  this node is offloading the file itself (run_id = the offload run);
 *  - `granted`: this node promised peer_node_id not to offload, replace or forget the file;
 *  - `taken`:   peer_node_id promised this node the same (the signed hold was verified first).
 *
 * A row is live while it is unreleased and unexpired by the injected clock. The two checks
 * that make the lock work are each one transaction: `beginIntents` refuses files this node
 * holds for a peer, and `grant` refuses files this node is offloading, so on one node an
 * intent and a grant for the same path can never both be live.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

export interface HeldFile {
  path: string
  /** SHA-256 of the content, 32 bytes. */
  hash: Uint8Array
}

/** Why `grant` refused a file: this node is offloading it, or has no present copy with that hash. */
export type GrantRefusalReason = 'offloading' | 'not-present'

export interface GrantResult {
  granted: HeldFile[]
  refused: Array<{ file: HeldFile, reason: GrantRefusalReason }>
}

export interface IntentResult {
  /** Files with an intent recorded. */
  intended: HeldFile[]
  /** Files refused because this node holds them for a peer (no intent recorded). */
  heldForPeer: Array<HeldFile & { peerNodeId: number, expiresAtNs: number }>
}

export interface LiveHold {
  hash: Buffer
  peerNodeId: number
  expiresAtNs: number
}

export class HoldStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  /**
   * Records this node's offload intents for one run, in one transaction, except for files it
   * holds for a peer (a live granted hold on the path, whatever the hash): those are returned
   * as `heldForPeer` and get no intent.
   */
  beginIntents (volumeId: number, runId: number, files: readonly HeldFile[], expiresAtNs: number): IntentResult {
    const granted = this.#db.prepare(`SELECT peer_node_id, expires_at_ns FROM holds
                                      WHERE volume_id = ? AND path = ? AND kind = 'granted' AND released_at_ns IS NULL AND expires_at_ns > ?
                                      ORDER BY expires_at_ns DESC LIMIT 1`)
    const insert = this.#db.prepare(`INSERT INTO holds (volume_id, path, hash, kind, peer_node_id, run_id, expires_at_ns, created_at_ns)
                                     VALUES (?, ?, ?, 'intent', NULL, ?, ?, ?)`)
    const tx = this.#db.transaction((): IntentResult => {
      const now = this.#clock.nowNs()
      const out: IntentResult = { intended: [], heldForPeer: [] }
      for (const f of files) {
        const g = granted.get(volumeId, f.path, now) as { peer_node_id: number, expires_at_ns: number } | undefined
        if (g !== undefined) {
          out.heldForPeer.push({ ...f, peerNodeId: g.peer_node_id, expiresAtNs: g.expires_at_ns })
          continue
        }
        insert.run(volumeId, f.path, Buffer.from(f.hash), runId, expiresAtNs, now)
        out.intended.push(f)
      }
      return out
    })
    return tx.immediate()
  }

  /** Moves the expiry of a run's live intents (a long offload renews them); returns how many were live. */
  extendIntents (runId: number, expiresAtNs: number): number {
    const now = this.#clock.nowNs()
    return this.#db.prepare(`UPDATE holds SET expires_at_ns = ? WHERE run_id = ? AND kind = 'intent' AND released_at_ns IS NULL
                             AND expires_at_ns > ? AND expires_at_ns < ?`).run(expiresAtNs, runId, now, expiresAtNs).changes
  }

  /**
   * Grants peer `peerNodeId` a hold on files of a volume until `expiresAtNs`, in one
   * transaction: a file this node is offloading (a live intent on the path) or whose live
   * files row is not present with that hash is refused; the rest get a granted row.
   */
  grant (volumeId: number, peerNodeId: number, files: readonly HeldFile[], expiresAtNs: number): GrantResult {
    const intent = this.#db.prepare(`SELECT 1 FROM holds WHERE volume_id = ? AND path = ? AND kind = 'intent'
                                     AND released_at_ns IS NULL AND expires_at_ns > ? LIMIT 1`).pluck()
    const present = this.#db.prepare(`SELECT 1 FROM files f JOIN contents c ON c.id = f.content_id
                                      WHERE f.volume_id = ? AND f.path = ? AND f.status = 'present' AND c.hash = ?`).pluck()
    const insert = this.#db.prepare(`INSERT INTO holds (volume_id, path, hash, kind, peer_node_id, run_id, expires_at_ns, created_at_ns)
                                     VALUES (?, ?, ?, 'granted', ?, NULL, ?, ?)`)
    const tx = this.#db.transaction((): GrantResult => {
      const now = this.#clock.nowNs()
      const out: GrantResult = { granted: [], refused: [] }
      for (const f of files) {
        const hash = Buffer.from(f.hash)
        if (intent.get(volumeId, f.path, now) !== undefined) {
          out.refused.push({ file: f, reason: 'offloading' })
        } else if (present.get(volumeId, f.path, hash) === undefined) {
          out.refused.push({ file: f, reason: 'not-present' })
        } else {
          insert.run(volumeId, f.path, hash, peerNodeId, expiresAtNs, now)
          out.granted.push(f)
        }
      }
      return out
    })
    return tx.immediate()
  }

  /** The live, present files row at a path, as `grant` will check it (the hold handler's disk check compares with it). */
  presentFile (volumeId: number, path: string): { fileId: number, hash: Buffer, size: number, mtimeNs: number, contentId: number } | undefined {
    const row = this.#db.prepare(`SELECT f.id, c.hash, c.size, f.mtime_ns, f.content_id FROM files f JOIN contents c ON c.id = f.content_id
                                  WHERE f.volume_id = ? AND f.path = ? AND f.status = 'present'`).get(volumeId, path) as { id: number, hash: Buffer, size: number, mtime_ns: number, content_id: number } | undefined
    return row === undefined ? undefined : { fileId: row.id, hash: row.hash, size: row.size, mtimeNs: row.mtime_ns, contentId: row.content_id }
  }

  /** Records holds a peer signed for this node's offload run (after the signature was verified). */
  recordTaken (volumeId: number, peerNodeId: number, runId: number, files: readonly HeldFile[], expiresAtNs: number): void {
    const insert = this.#db.prepare(`INSERT INTO holds (volume_id, path, hash, kind, peer_node_id, run_id, expires_at_ns, created_at_ns)
                                     VALUES (?, ?, ?, 'taken', ?, ?, ?, ?)`)
    const tx = this.#db.transaction(() => {
      const now = this.#clock.nowNs()
      for (const f of files) insert.run(volumeId, f.path, Buffer.from(f.hash), peerNodeId, runId, expiresAtNs, now)
    })
    tx.immediate()
  }

  /** Releases every unreleased row of a run (its intents and the holds it took); returns how many. */
  release (runId: number): number {
    return this.#db.prepare('UPDATE holds SET released_at_ns = ? WHERE run_id = ? AND released_at_ns IS NULL').run(this.#clock.nowNs(), runId).changes
  }

  /** Releases a run's offload intents only; returns how many. */
  releaseIntents (runId: number): number {
    return this.#db.prepare("UPDATE holds SET released_at_ns = ? WHERE run_id = ? AND kind = 'intent' AND released_at_ns IS NULL").run(this.#clock.nowNs(), runId).changes
  }

  /** Live holds this node granted on a volume at `nowNs`, by path. */
  liveGrantedPaths (volumeId: number, nowNs: number): Map<string, LiveHold[]> {
    const rows = this.#db.prepare(`SELECT path, hash, peer_node_id, expires_at_ns FROM holds
                                   WHERE volume_id = ? AND kind = 'granted' AND released_at_ns IS NULL AND expires_at_ns > ?`)
      .all(volumeId, nowNs) as Array<{ path: string, hash: Buffer, peer_node_id: number, expires_at_ns: number }>
    const out = new Map<string, LiveHold[]>()
    for (const r of rows) {
      const list = out.get(r.path) ?? []
      list.push({ hash: r.hash, peerNodeId: r.peer_node_id, expiresAtNs: r.expires_at_ns })
      out.set(r.path, list)
    }
    return out
  }

  /** Live intents of a volume at `nowNs` (tests and status). */
  liveIntentPaths (volumeId: number, nowNs: number): Set<string> {
    return new Set(this.#db.prepare(`SELECT path FROM holds WHERE volume_id = ? AND kind = 'intent' AND released_at_ns IS NULL AND expires_at_ns > ?`)
      .pluck().all(volumeId, nowNs) as string[])
  }
}
