/**
 * The destination registry (DESIGN "Destination identity"): every directory destination is its
 * marker, keyed `dir:<marker id>`, with its owner node and the owner's label beside it.
 *
 *  - directories this node writes: owner = this node, `local_name` = the config name that
 *    resolves to it. A marker is live under at most one name; `destination reset` forgets the
 *    name (the row stays for the audit and for the evidence history keyed by it).
 *  - directories a peer asserts about: owner = that peer, label = the label it asserts. A key
 *    is owned by the first node seen owning it and changes owner only away from a revoked node,
 *    so one node's claim can never land in the row of another live node's directory.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import { DestinationAliasError } from '../errors.js'

export const DIR_KEY_PREFIX = 'dir:'
const MARKER_RE = /^[0-9a-f]{32}$/

export function isMarkerId (value: string): boolean {
  return MARKER_RE.test(value)
}

export function isDirectoryKey (value: string): boolean {
  return value.startsWith(DIR_KEY_PREFIX) && isMarkerId(value.slice(DIR_KEY_PREFIX.length))
}

export function directoryKey (markerId: string): string {
  return `${DIR_KEY_PREFIX}${markerId}`
}

export interface DestinationRow {
  key: string
  markerId: string
  ownerRowId: number
  label: string
  localName: string | null
  createdAtNs: number
  forgottenAtNs: number | null
}

interface Raw {
  key: string
  owner_node_id: number
  label: string
  local_name: string | null
  created_at_ns: number
  forgotten_at_ns: number | null
}

const COLUMNS = 'key, owner_node_id, label, local_name, created_at_ns, forgotten_at_ns'

function toRow (r: Raw): DestinationRow {
  return { key: r.key, markerId: r.key.slice(DIR_KEY_PREFIX.length), ownerRowId: r.owner_node_id, label: r.label, localName: r.local_name, createdAtNs: r.created_at_ns, forgottenAtNs: r.forgotten_at_ns }
}

export type NotePeerResult = 'kept' | 'owned-by-another'

export class DestinationStore {
  readonly #db: Database.Database
  readonly #clock: Clock
  // prepared on first use: a store opened on an older schema (migration tests) never needs them
  #byKeyStmt: Database.Statement | undefined
  #localStmt: Database.Statement | undefined

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  byKey (key: string): DestinationRow | undefined {
    this.#byKeyStmt ??= this.#db.prepare(`SELECT ${COLUMNS} FROM destinations WHERE key = ?`)
    const r = this.#byKeyStmt.get(key) as Raw | undefined
    return r === undefined ? undefined : toRow(r)
  }

  /** The marker a config name of this node currently resolves to (undefined before its first push). */
  local (name: string): DestinationRow | undefined {
    this.#localStmt ??= this.#db.prepare(`SELECT ${COLUMNS} FROM destinations WHERE local_name = ? AND forgotten_at_ns IS NULL`)
    const r = this.#localStmt.get(name) as Raw | undefined
    return r === undefined ? undefined : toRow(r)
  }

  /** Every directory owned by `ownerRowId` that it labels `label` (live or forgotten there). */
  ownedAs (ownerRowId: number, label: string): DestinationRow[] {
    return (this.#db.prepare(`SELECT ${COLUMNS} FROM destinations WHERE owner_node_id = ? AND label = ? ORDER BY created_at_ns, key`).all(ownerRowId, label) as Raw[]).map(toRow)
  }

  /** The labels a peer asserted directories under (for "did you mean"). */
  labelsOwnedBy (ownerRowId: number): string[] {
    return this.#db.prepare('SELECT DISTINCT label FROM destinations WHERE owner_node_id = ? ORDER BY label').pluck().all(ownerRowId) as string[]
  }

  /**
   * Records that config name `name` (of this node, row `selfRowId`) resolves to `markerId`.
   * Refuses a marker that is live under another name (one copy counts once) or that another
   * node owns; re-records a marker this node forgot earlier.
   */
  recordLocal (selfRowId: number, name: string, markerId: string, takeOver: (otherName: string) => boolean = () => false): DestinationRow {
    const key = directoryKey(markerId)
    const existing = this.byKey(key)
    const now = this.#clock.nowNs()
    if (existing === undefined) {
      this.#db.prepare('INSERT INTO destinations (key, owner_node_id, label, local_name, created_at_ns, updated_at_ns) VALUES (?, ?, ?, ?, ?, ?)')
        .run(key, selfRowId, name, name, now, now)
    } else {
      if (existing.ownerRowId !== selfRowId) throw new DestinationAliasError(name, markerId, null, 'another node owns this marker')
      // a name no longer configured (the operator renamed the destination) hands its marker over
      if (existing.forgottenAtNs === null && existing.localName !== null && existing.localName !== name && !takeOver(existing.localName)) {
        throw new DestinationAliasError(name, markerId, existing.localName, 'the marker is already recorded under another name')
      }
      this.#db.prepare('UPDATE destinations SET label = ?, local_name = ?, forgotten_at_ns = NULL, updated_at_ns = ? WHERE key = ?').run(name, name, now, key)
    }
    const row = this.byKey(key)
    if (row === undefined) throw new Error(`destination ${key} vanished after insert`)
    return row
  }

  /** Forgets which marker a config name resolves to (inside the caller's transaction). */
  forgetLocal (name: string): DestinationRow | undefined {
    const row = this.local(name)
    if (row === undefined) return undefined
    this.#db.prepare('UPDATE destinations SET forgotten_at_ns = ?, updated_at_ns = ? WHERE key = ?').run(this.#clock.nowNs(), this.#clock.nowNs(), row.key)
    return row
  }

  /**
   * Notes a directory a peer asserts about (inside the caller's transaction): first sight
   * records its owner; a later label from the same owner updates the display label. A key
   * recorded under another live owner is refused: that claim is not the signer's to make. A
   * key a revoked node claimed first passes to the node that asserts it now.
   */
  notePeer (key: string, ownerRowId: number, label: string): NotePeerResult {
    const existing = this.byKey(key)
    const now = this.#clock.nowNs()
    if (existing === undefined) {
      this.#db.prepare('INSERT INTO destinations (key, owner_node_id, label, created_at_ns, updated_at_ns) VALUES (?, ?, ?, ?, ?)').run(key, ownerRowId, label, now, now)
      return 'kept'
    }
    if (existing.ownerRowId !== ownerRowId) {
      // a revoked node's claim to a marker lapses: the node that asserts it now takes it over
      const revoked = this.#db.prepare('SELECT revoked_at_ns IS NOT NULL FROM nodes WHERE id = ?').pluck().get(existing.ownerRowId) === 1
      if (!revoked || existing.localName !== null) return 'owned-by-another'
      this.#db.prepare('UPDATE destinations SET owner_node_id = ?, label = ?, updated_at_ns = ? WHERE key = ?').run(ownerRowId, label, now, key)
      return 'kept'
    }
    if (existing.label !== label) this.#db.prepare('UPDATE destinations SET label = ?, updated_at_ns = ? WHERE key = ?').run(label, now, key)
    return 'kept'
  }
}
