/**
 * The unlink journal (DESIGN invariant 27): what offload is about to rename and delete, written
 * in its own transaction before the rename, resolved in the transaction that marks the file
 * offloaded (or when the file is put back). A `pending` entry at the next start is an
 * interrupted unlink (src/offload/unlink-recovery.ts). Resolved entries never change.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import type { FileStore } from './files.js'

export type JournalState = 'pending' | 'unlinked' | 'restored' | 'kept' | 'unchanged'

export interface JournalEntryInit {
  runId: number
  volumeId: number
  fileId: number
  root: string
  path: string
  quarantineName: string
  dirDev: bigint
  dirIno: bigint
  dev: bigint
  ino: bigint
  size: number
  mtimeNs: number
  hash: Buffer
}

export interface JournalEntry extends JournalEntryInit {
  id: number
  state: JournalState
  recoveredName: string | null
  createdAtNs: number
  resolvedAtNs: number | null
  resolvedRunId: number | null
}

interface JournalRow {
  id: number
  run_id: number
  volume_id: number
  file_id: number
  root: string
  path: string
  quarantine_name: string
  dir_dev: string
  dir_ino: string
  dev: string
  ino: string
  size: number
  mtime_ns: number
  hash: Buffer
  state: JournalState
  recovered_name: string | null
  created_at_ns: number
  resolved_at_ns: number | null
  resolved_run_id: number | null
}

function toEntry (r: JournalRow): JournalEntry {
  return {
    id: r.id,
    runId: r.run_id,
    volumeId: r.volume_id,
    fileId: r.file_id,
    root: r.root,
    path: r.path,
    quarantineName: r.quarantine_name,
    dirDev: BigInt(r.dir_dev),
    dirIno: BigInt(r.dir_ino),
    dev: BigInt(r.dev),
    ino: BigInt(r.ino),
    size: r.size,
    mtimeNs: r.mtime_ns,
    hash: r.hash,
    state: r.state,
    recoveredName: r.recovered_name,
    createdAtNs: r.created_at_ns,
    resolvedAtNs: r.resolved_at_ns,
    resolvedRunId: r.resolved_run_id
  }
}

export class UnlinkJournalStore {
  readonly #db: Database.Database
  readonly #clock: Clock
  readonly #files: FileStore

  constructor (db: Database.Database, clock: Clock, files: FileStore) {
    this.#db = db
    this.#clock = clock
    this.#files = files
  }

  /** Records an unlink about to start (before the rename); its own transaction. */
  insertPending (e: JournalEntryInit): number {
    return Number(this.#db.prepare(`
      INSERT INTO unlink_journal (run_id, volume_id, file_id, root, path, quarantine_name, dir_dev, dir_ino, dev, ino, size, mtime_ns, hash, created_at_ns)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(e.runId, e.volumeId, e.fileId, e.root, e.path, e.quarantineName, e.dirDev.toString(), e.dirIno.toString(), e.dev.toString(), e.ino.toString(),
        e.size, e.mtimeNs, e.hash, this.#clock.nowNs()).lastInsertRowid)
  }

  /** Records, before the move, the visible name a quarantined file is about to be kept under. */
  planRecoveredName (id: number, name: string): void {
    this.#db.prepare("UPDATE unlink_journal SET recovered_name = ? WHERE id = ? AND state = 'pending'").run(name, id)
  }

  /**
   * The file is deleted: marks its row offloaded (stamped with `runId`) and resolves the entry,
   * in one transaction. Returns whether the row changed (false: it was offloaded or superseded already).
   */
  resolveUnlinked (id: number, runId: number): boolean {
    return this.#db.transaction((): boolean => {
      const e = this.get(id)
      if (e === undefined || e.state !== 'pending') return false
      const changed = this.#files.setStatus(e.fileId, 'offloaded', runId)
      this.#resolve(id, 'unlinked', runId)
      return changed
    }).immediate()
  }

  /** The file was not deleted (put back, kept aside, or never moved); the row is left as it is. */
  resolveKept (id: number, state: 'restored' | 'kept' | 'unchanged', runId: number): void {
    this.#db.transaction(() => { this.#resolve(id, state, runId) }).immediate()
  }

  #resolve (id: number, state: Exclude<JournalState, 'pending'>, runId: number): void {
    this.#db.prepare("UPDATE unlink_journal SET state = ?, resolved_at_ns = ?, resolved_run_id = ? WHERE id = ? AND state = 'pending'")
      .run(state, this.#clock.nowNs(), runId, id)
  }

  get (id: number): JournalEntry | undefined {
    const r = this.#db.prepare('SELECT * FROM unlink_journal WHERE id = ?').get(id) as JournalRow | undefined
    return r === undefined ? undefined : toEntry(r)
  }

  hasPending (): boolean {
    return this.#db.prepare("SELECT 1 FROM unlink_journal WHERE state = 'pending' LIMIT 1").get() !== undefined
  }

  /** Interrupted unlinks, by volume then in the order they began. */
  listPending (): JournalEntry[] {
    return (this.#db.prepare("SELECT * FROM unlink_journal WHERE state = 'pending' ORDER BY volume_id, id").all() as JournalRow[]).map(toEntry)
  }

  listForRun (runId: number): JournalEntry[] {
    return (this.#db.prepare('SELECT * FROM unlink_journal WHERE run_id = ? ORDER BY id').all(runId) as JournalRow[]).map(toEntry)
  }
}
