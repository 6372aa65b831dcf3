/**
 * Contents and files of volumes. A content is a distinct byte string (SHA-256) with the
 * origin that first introduced it here; a file row ties a volume path to a content, with a
 * status (present | missing | superseded | offloaded), its first and last sighting and the run
 * that last changed its status. At most one live (non-superseded) row per path; when a path's
 * content changes, the old row is superseded and a new one inserted.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

export type FileStatus = 'present' | 'missing' | 'superseded' | 'offloaded'

export interface LiveFile {
  id: number
  volumeId: number
  path: string
  contentId: number
  hash: Buffer
  size: number
  mtimeNs: number
  status: Exclude<FileStatus, 'superseded'>
  firstSeenRunId: number
  lastSeenRunId: number
  statusChangedRunId: number
  originNodeId: number
  originRunId: number
  /** When this node last read (hashed) its own bytes of the file; null = never. */
  readAtNs: number | null
  /** The ctime and inode of that read (quick index); null = unknown. */
  ctimeNs: number | null
  ino: string | null
}

/** What a quick index compares of a live row (src/index/index-volume.ts unchangedSinceRead). */
export interface QuickRow {
  id: number
  status: LiveFile['status']
  size: number
  mtimeNs: number
  readAtNs: number | null
  ctimeNs: number | null
  ino: string | null
}

export interface ObservedFile {
  path: string
  hash: Buffer
  size: number
  mtimeNs: number
  /** The ctime and inode the bytes were read under (index); absent = unknown, so the next quick index hashes the file. */
  ctimeNs?: number
  ino?: string
}

/**
 * How an observation's origin is decided (DESIGN "Re-entry is a new origin — locally"):
 *  - `local`: this node's index or restore. A new path, changed content, a path that is back
 *    after being missing or offloaded, and a new path whose content was known before all take
 *    the given (current) origin; an unchanged present file keeps its origin.
 *  - `received`: a push from a peer. The file takes the pusher's origin, even when the content
 *    was already here; a held file whose origin differs is re-recorded under the pusher's.
 */
export type OriginRule = 'local' | 'received'

/** One file row of any status, as the claim computation reads it. */
export interface ClaimRow {
  id: number
  path: string
  contentId: number
  status: FileStatus
  originNodeId: number
  originRunId: number
  readAtNs: number | null
}

export interface ApplyCounts {
  added: number
  changed: number
  returned: number
  unchanged: number
}

export interface GateRow {
  id: number
  path: string
  mtimeNs: number
  originNodeId: number
  originRunId: number
  statusChangedRunId: number
  contentId: number
  /** With placement keys: the placement per key (same order), undefined where none. */
  placed?: Array<{ contentId: number, verifyMethod: string, verifiedAtNs: number, originNodeId: number | null, originRunId: number | null } | undefined>
}

export interface SnapshotFile {
  fileId: number
  path: string
  contentId: number
  hash: Buffer
  size: number
  mtimeNs: number
  originNodeId: number
  originRunId: number
}

export interface Snapshot {
  files: SnapshotFile[]
  /** Per origin node row id, the highest origin run among the snapshot's files. */
  maxima: Map<number, number>
  totalBytes: number
}

const LIVE_COLUMNS = `f.id, f.volume_id, f.path, f.content_id, c.hash, c.size, f.mtime_ns, f.status, f.first_seen_run_id,
  f.last_seen_run_id, f.status_changed_run_id, f.origin_node_id, f.origin_run_id, f.read_at_ns, f.ctime_ns, f.ino`

interface LiveRaw {
  id: number
  volume_id: number
  path: string
  content_id: number
  hash: Buffer
  size: number
  mtime_ns: number
  status: LiveFile['status']
  first_seen_run_id: number
  last_seen_run_id: number
  status_changed_run_id: number
  origin_node_id: number
  origin_run_id: number
  read_at_ns: number | null
  ctime_ns: number | null
  ino: string | null
}

function toLive (r: LiveRaw): LiveFile {
  return {
    id: r.id,
    volumeId: r.volume_id,
    path: r.path,
    contentId: r.content_id,
    hash: r.hash,
    size: r.size,
    mtimeNs: r.mtime_ns,
    status: r.status,
    firstSeenRunId: r.first_seen_run_id,
    lastSeenRunId: r.last_seen_run_id,
    statusChangedRunId: r.status_changed_run_id,
    originNodeId: r.origin_node_id,
    originRunId: r.origin_run_id,
    readAtNs: r.read_at_ns,
    ctimeNs: r.ctime_ns,
    ino: r.ino
  }
}

export class FileStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  /** The live rows of a volume, keyed by path. */
  live (volumeId: number): Map<string, LiveFile> {
    const rows = this.#db.prepare(`SELECT ${LIVE_COLUMNS} FROM files f JOIN contents c ON c.id = f.content_id
                                   WHERE f.volume_id = ? AND f.status <> 'superseded'`).all(volumeId) as LiveRaw[]
    return new Map(rows.map(r => [r.path, toLive(r)]))
  }

  /**
   * The live rows of a volume keyed by path, with only what a quick index compares: no hash
   * (a Buffer per row was most of the cost of loading 100,000 rows), no origins. A row the
   * index hashes again is read whole with byId.
   */
  liveForQuickIndex (volumeId: number): Map<string, QuickRow> {
    const stmt = this.#db.prepare(`SELECT f.path, f.id, f.status, c.size, f.mtime_ns, f.read_at_ns, f.ctime_ns, f.ino FROM files f JOIN contents c ON c.id = f.content_id
                                   WHERE f.volume_id = ? AND f.status <> 'superseded'`).raw(true)
    const out = new Map<string, QuickRow>()
    for (const r of stmt.iterate(volumeId) as IterableIterator<[string, number, QuickRow['status'], number, number, number | null, number | null, string | null]>) {
      out.set(r[0], { id: r[1], status: r[2], size: r[3], mtimeNs: r[4], readAtNs: r[5], ctimeNs: r[6], ino: r[7] })
    }
    return out
  }

  /** Live rows of a volume in path order (for the gate, offload, verify). */
  listLive (volumeId: number): LiveFile[] {
    return (this.#db.prepare(`SELECT ${LIVE_COLUMNS} FROM files f JOIN contents c ON c.id = f.content_id
                              WHERE f.volume_id = ? AND f.status <> 'superseded' ORDER BY f.path`).all(volumeId) as LiveRaw[]).map(toLive)
  }

  /** Streams the present files of a volume in path order (a million rows never sit in memory at once). */
  * iteratePresent (volumeId: number): Generator<LiveFile> {
    const stmt = this.#db.prepare(`SELECT ${LIVE_COLUMNS} FROM files f JOIN contents c ON c.id = f.content_id
                                   WHERE f.volume_id = ? AND f.status = 'present' ORDER BY f.path`)
    for (const row of stmt.iterate(volumeId) as IterableIterator<LiveRaw>) yield toLive(row)
  }

  /**
   * Streams what the offload gate needs of every present file, in storage order, as compact
   * rows: a million files are evaluated without sorting them or holding them.
   */
  * iterateGateRows (volumeId: number, placementKeys?: ReadonlyArray<string | null>, status: 'present' | 'offloaded' | 'live' = 'present'): Generator<GateRow> {
    // one LEFT JOIN per target on the placements primary key: streamed, nothing held in memory
    const keys = placementKeys ?? []
    const cols = keys.map((_, i) => `, p${i}.content_id, p${i}.verify_method, p${i}.verified_at_ns, p${i}.origin_node_id, p${i}.origin_run_id`).join('')
    const joins = keys.map((_, i) => ` LEFT JOIN placements p${i} ON p${i}.destination = ? AND p${i}.volume_id = f.volume_id AND p${i}.path = f.path`).join('')
    const stmt = this.#db.prepare(`SELECT f.id, f.path, f.mtime_ns, f.origin_node_id, f.origin_run_id, f.status_changed_run_id, f.content_id${cols}
                                   FROM files f${joins} WHERE f.volume_id = ? AND ${status === 'live' ? "f.status IN ('present', 'offloaded')" : `f.status = '${status}'`}`).raw(true)
    const params = [...keys.map(k => k ?? ''), volumeId]
    for (const r of stmt.iterate(...params) as IterableIterator<unknown[]>) {
      const row: GateRow = { id: r[0] as number, path: r[1] as string, mtimeNs: r[2] as number, originNodeId: r[3] as number, originRunId: r[4] as number, statusChangedRunId: r[5] as number, contentId: r[6] as number }
      if (placementKeys !== undefined) {
        row.placed = keys.map((_, i) => {
          const o = 7 + i * 5
          return r[o] === null ? undefined : { contentId: r[o] as number, verifyMethod: r[o + 1] as string, verifiedAtNs: r[o + 2] as number, originNodeId: r[o + 3] as number | null, originRunId: r[o + 4] as number | null }
        })
      }
      yield row
    }
  }

  /** Whether the volume ever recorded `hash` at `path` with this origin and run (any status). */
  hasRecorded (volumeId: number, path: string, hash: Buffer, originNodeId: number, originRunId: number): boolean {
    return this.#db.prepare(`SELECT 1 FROM files f JOIN contents c ON c.id = f.content_id
                             WHERE f.volume_id = ? AND f.path = ? AND c.hash = ? AND f.origin_node_id = ? AND f.origin_run_id = ? LIMIT 1`)
      .get(volumeId, path, hash, originNodeId, originRunId) !== undefined
  }

  /** One live file by row id. */
  byId (fileId: number): LiveFile | undefined {
    const row = this.#db.prepare(`SELECT ${LIVE_COLUMNS} FROM files f JOIN contents c ON c.id = f.content_id WHERE f.id = ?`).get(fileId) as LiveRaw | undefined
    return row === undefined ? undefined : toLive(row)
  }

  /** Streams the offloaded files of a volume in path order. */
  * iterateOffloaded (volumeId: number): Generator<LiveFile> {
    const stmt = this.#db.prepare(`SELECT ${LIVE_COLUMNS} FROM files f JOIN contents c ON c.id = f.content_id
                                   WHERE f.volume_id = ? AND f.status = 'offloaded' ORDER BY f.path`)
    for (const row of stmt.iterate(volumeId) as IterableIterator<LiveRaw>) yield toLive(row)
  }

  /** Records a restored file's mtime (its status is changed by setStatus in the same run). */
  setMtime (fileId: number, mtimeNs: number): void {
    this.#db.prepare('UPDATE files SET mtime_ns = ? WHERE id = ?').run(mtimeNs, fileId)
  }

  /** The content id of a hash this node knows, if any. */
  contentIdOf (hash: Uint8Array): number | undefined {
    return this.#db.prepare('SELECT id FROM contents WHERE hash = ?').pluck().get(Buffer.from(hash)) as number | undefined
  }

  contentByHash (hash: Buffer): { id: number, size: number, originNodeId: number, originRunId: number } | undefined {
    const row = this.#db.prepare('SELECT id, size, origin_node_id, origin_run_id FROM contents WHERE hash = ?').get(hash) as { id: number, size: number, origin_node_id: number, origin_run_id: number } | undefined
    return row === undefined ? undefined : { id: row.id, size: row.size, originNodeId: row.origin_node_id, originRunId: row.origin_run_id }
  }

  /** A live, present path of any volume holding this content (for local copies on receive). */
  presentPathsOf (contentId: number): Array<{ volumeId: number, path: string, mtimeNs: number }> {
    // a row this node stopped claiming (found damaged or unreadable, being replaced) is no source
    return (this.#db.prepare("SELECT volume_id, path, mtime_ns FROM files WHERE content_id = ? AND status = 'present' AND id NOT IN (SELECT file_id FROM receive_replacing)").all(contentId) as Array<{ volume_id: number, path: string, mtime_ns: number }>)
      .map(r => ({ volumeId: r.volume_id, path: r.path, mtimeNs: r.mtime_ns }))
  }

  /**
   * Records observed files of one run in one transaction, each with the origin the rule gives
   * it (see OriginRule). Every observation is a real read of the bytes: it stamps read_at_ns.
   * An origin change is recorded as a new row (the old one superseded), never an edit, so the
   * claim computation still sees which origin this node held the bytes under before.
   */
  recordObserved (volumeId: number, runId: number, observed: Array<ObservedFile & { originNodeId: number, originRunId: number, readAtNs?: number | null }>, rule: OriginRule = 'local'): ApplyCounts {
    const counts: ApplyCounts = { added: 0, changed: 0, returned: 0, unchanged: 0 }
    const now = this.#clock.nowNs()
    const getLive = this.#db.prepare("SELECT id, content_id, status, mtime_ns, origin_node_id, origin_run_id FROM files WHERE volume_id = ? AND path = ? AND status <> 'superseded'")
    const getContent = this.#db.prepare('SELECT id FROM contents WHERE hash = ?').pluck()
    // one statement for a new content (the common case of a first index), two for a known one
    const insertContent = this.#db.prepare('INSERT INTO contents (hash, size, origin_node_id, origin_run_id, created_at_ns) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING RETURNING id').pluck()
    const insertFile = this.#db.prepare(`INSERT INTO files (volume_id, path, content_id, mtime_ns, status, first_seen_run_id, last_seen_run_id, status_changed_run_id,
                                                            origin_node_id, origin_run_id, read_at_ns, ctime_ns, ino)
                                         VALUES (?, ?, ?, ?, 'present', ?, ?, ?, ?, ?, ?, ?, ?)`)
    const supersede = this.#db.prepare("UPDATE files SET status = 'superseded', status_changed_run_id = ? WHERE id = ?")
    const seen = this.#db.prepare('UPDATE files SET last_seen_run_id = ?, mtime_ns = ?, read_at_ns = ?, ctime_ns = ?, ino = ? WHERE id = ?')
    const carryMark = this.#db.prepare('UPDATE receive_replacing SET file_id = ? WHERE file_id = ?')
    const tx = this.#db.transaction(() => {
      for (const o of observed) {
        // the content row keeps the first origin it had here, for the record
        let contentId = insertContent.get(o.hash, o.size, o.originNodeId, o.originRunId, now) as number | undefined
        if (contentId === undefined) contentId = getContent.get(o.hash) as number
        const live = getLive.get(volumeId, o.path) as { id: number, content_id: number, status: FileStatus, mtime_ns: number, origin_node_id: number, origin_run_id: number } | undefined
        // an observation is a real read unless it says when the bytes were last read (a held file)
        const readAt = o.readAtNs === undefined ? now : o.readAtNs
        const ctime = o.ctimeNs ?? null
        const ino = o.ino ?? null
        const fresh = (): number => Number(insertFile.run(volumeId, o.path, contentId, o.mtimeNs, runId, runId, runId, o.originNodeId, o.originRunId, readAt, ctime, ino).lastInsertRowid)
        if (live === undefined) {
          fresh()
          counts.added++
        } else if (live.content_id !== contentId) {
          supersede.run(runId, live.id)
          fresh()
          counts.changed++
        } else if (live.status !== 'present') {
          // back after being missing or offloaded: a new origin (local), or the pusher's (received)
          supersede.run(runId, live.id)
          fresh()
          counts.returned++
        } else if (rule === 'received' && (live.origin_node_id !== o.originNodeId || live.origin_run_id !== o.originRunId)) {
          // a held file re-recorded under the pusher's origin: the same bytes on disk, so a mark
          // that it is not claimed (found damaged, unreadable, being replaced) moves with it
          supersede.run(runId, live.id)
          carryMark.run(fresh(), live.id)
          counts.unchanged++
        } else {
          seen.run(runId, o.mtimeNs, readAt, ctime, ino, live.id)
          counts.unchanged++
        }
      }
    })
    tx.immediate()
    return counts
  }

  /**
   * Per path of `current` (path -> its present content id), the hash of the newest earlier
   * content recorded at that path (superseded rows; re-recordings of the current content are
   * skipped): the version a push says its file replaces, so a receiver can tell a descendant of
   * what it holds from an unrelated version (DESIGN invariant 25). One scan of the superseded rows.
   */
  previousContents (volumeId: number, current: ReadonlyMap<string, number>): Map<string, Buffer> {
    const stmt = this.#db.prepare(`SELECT f.path, f.content_id, c.hash FROM files f JOIN contents c ON c.id = f.content_id
                                   WHERE f.volume_id = ? AND f.status = 'superseded' ORDER BY f.id`).raw(true)
    const out = new Map<string, Buffer>()
    for (const [path, contentId, hash] of stmt.iterate(volumeId) as IterableIterator<[string, number, Buffer]>) {
      const now = current.get(path)
      if (now !== undefined && now !== contentId) out.set(path, hash)
    }
    return out
  }

  /** Every row of a volume, superseded ones included (or only those of one status), as the claim computation reads them. */
  * iterateClaimRows (volumeId: number, status?: FileStatus): Generator<ClaimRow> {
    const stmt = status === undefined
      ? this.#db.prepare('SELECT id, path, content_id, status, origin_node_id, origin_run_id, read_at_ns FROM files WHERE volume_id = ?').raw(true)
      : this.#db.prepare('SELECT id, path, content_id, status, origin_node_id, origin_run_id, read_at_ns FROM files WHERE volume_id = ? AND status = ?').raw(true)
    const params = status === undefined ? [volumeId] : [volumeId, status]
    for (const r of stmt.iterate(...params) as IterableIterator<[number, string, number, FileStatus, number, number, number | null]>) {
      yield { id: r[0], path: r[1], contentId: r[2], status: r[3], originNodeId: r[4], originRunId: r[5], readAtNs: r[6] }
    }
  }

  /**
   * After a complete walk: every present row of the volume that the run neither recorded
   * (last_seen_run_id = the run: hashed by it) nor found unchanged (`unchanged`: the ids a quick
   * index compared equal, and damaged rows it could not move, held in memory rather than written
   * to 100,000 rows) becomes missing — except under prefixes the walk could not read (an
   * unreadable directory must never make its files look deleted).
   *
   * So last_seen_run_id is the last run that recorded the row from a read of its bytes, not the
   * last that walked past it; an unchanged row a quick index trusts is not rewritten.
   */
  markUnseenMissing (volumeId: number, runId: number, unreadablePrefixes: string[], unchanged: ReadonlySet<number>): number {
    const candidates: number[] = []
    const ids = this.#db.prepare("SELECT id FROM files WHERE volume_id = ? AND status = 'present' AND last_seen_run_id <> ?").pluck()
    for (const id of ids.iterate(volumeId, runId) as IterableIterator<number>) if (!unchanged.has(id)) candidates.push(id)
    if (candidates.length === 0) return 0
    const under = (p: string): boolean => unreadablePrefixes.some(prefix => p === prefix || p.startsWith(prefix + '/'))
    const pathOf = this.#db.prepare('SELECT path FROM files WHERE id = ?').pluck()
    const stmt = this.#db.prepare("UPDATE files SET status = 'missing', status_changed_run_id = ? WHERE id = ? AND status = 'present'")
    let n = 0
    const tx = this.#db.transaction(() => {
      for (const id of candidates) {
        if (under(pathOf.get(id) as string)) continue
        n += stmt.run(runId, id).changes
      }
    })
    tx.immediate()
    return n
  }

  /**
   * The push snapshot: the present files of a volume with their contents' origins, and the
   * origin maxima over them, read in one transaction before any transfer starts.
   */
  snapshot (volumeId: number): Snapshot {
    const tx = this.#db.transaction((): Snapshot => {
      const rows = this.#db.prepare(`SELECT f.id, f.path, f.content_id, c.hash, c.size, f.mtime_ns, f.origin_node_id, f.origin_run_id
                                     FROM files f JOIN contents c ON c.id = f.content_id
                                     WHERE f.volume_id = ? AND f.status = 'present' ORDER BY f.path`).all(volumeId) as Array<{ id: number, path: string, content_id: number, hash: Buffer, size: number, mtime_ns: number, origin_node_id: number, origin_run_id: number }>
      const maxima = new Map<number, number>()
      let totalBytes = 0
      const files = rows.map(r => {
        maxima.set(r.origin_node_id, Math.max(maxima.get(r.origin_node_id) ?? 0, r.origin_run_id))
        totalBytes += r.size
        return { fileId: r.id, path: r.path, contentId: r.content_id, hash: r.hash, size: r.size, mtimeNs: r.mtime_ns, originNodeId: r.origin_node_id, originRunId: r.origin_run_id }
      })
      return { files, maxima, totalBytes }
    })
    return tx.deferred()
  }

  /** Changes one live row's status (offload, restore), stamping the run. Inside the caller's transaction or alone. */
  setStatus (fileId: number, status: Exclude<FileStatus, 'superseded'>, runId: number): boolean {
    return this.#db.prepare('UPDATE files SET status = ?, status_changed_run_id = ? WHERE id = ? AND status <> ? AND status <> \'superseded\'')
      .run(status, runId, fileId, status).changes === 1
  }
}
