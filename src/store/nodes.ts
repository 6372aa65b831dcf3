/**
 * Nodes: this node (is_self), enrolled peers and nodes known only as origins. The node id
 * pins the key; names are local labels. Rows are never deleted: revocation stamps
 * revoked_at_ns, and the row stays so history keeps its meaning.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import { PeerAlreadyEnrolledError, PeerNameTakenError, RevokedPeerEnrollError, SelfEnrollError } from '../errors.js'
import { parseNodeId, type NodeId } from '../identity/node-id.js'

export interface NodeRow {
  /** The row id, used as a foreign key; never leaves this machine. */
  id: number
  nodeId: NodeId
  name: string | null
  publicKey: Uint8Array
  isSelf: boolean
  /** Where to dial it, in order: the addresses LAN discovery learned, then the pinned ones. */
  addrs: string[]
  /** The addresses an invite or `peer add` gave (what `peer add` replaces). */
  pinnedAddrs: string[]
  /** The addresses LAN discovery learned after an authenticated dial (at most MAX_LAN_ADDRS). */
  lanAddrs: string[]
  createdAtNs: number
  enrolledAtNs: number | null
  revokedAtNs: number | null
  /** The last time this node held an authenticated connection with it (migration 0014); null: never. */
  lastSeenNs: number | null
}

interface Raw {
  id: number
  node_id: string
  name: string | null
  public_key: Buffer
  is_self: number
  addrs: string
  lan_addrs: string
  created_at_ns: number
  enrolled_at_ns: number | null
  revoked_at_ns: number | null
  last_seen_ns: number | null
}

const COLUMNS = 'id, node_id, name, public_key, is_self, addrs, lan_addrs, created_at_ns, enrolled_at_ns, revoked_at_ns, last_seen_ns'

/** LAN-learned addresses kept per peer (the column's CHECK says the same). */
export const MAX_LAN_ADDRS = 2

/** Learned addresses first, then the pinned ones; `A` and `A/p2p/<its id>` are one address. */
function dialOrder (lan: string[], pinned: string[], nodeId: string): string[] {
  const bare = (a: string): string => a.endsWith(`/p2p/${nodeId}`) ? a.slice(0, -`/p2p/${nodeId}`.length) : a
  const seen = new Set<string>()
  const out: string[] = []
  for (const a of [...lan, ...pinned]) {
    if (seen.has(bare(a))) continue
    seen.add(bare(a))
    out.push(a)
  }
  return out
}

function toNode (r: Raw): NodeRow {
  const pinned = JSON.parse(r.addrs) as string[]
  const lan = JSON.parse(r.lan_addrs) as string[]
  return {
    id: r.id,
    nodeId: r.node_id as NodeId,
    name: r.name,
    publicKey: new Uint8Array(r.public_key),
    isSelf: r.is_self === 1,
    addrs: dialOrder(lan, pinned, r.node_id),
    pinnedAddrs: pinned,
    lanAddrs: lan,
    createdAtNs: r.created_at_ns,
    enrolledAtNs: r.enrolled_at_ns,
    revokedAtNs: r.revoked_at_ns,
    lastSeenNs: r.last_seen_ns
  }
}

export class NodeStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  // prepared once: a pull looks up every origin node of an assertion (up to MAX_NEW_ORIGINS_PER_PULL new ones)
  #byNodeIdStmt: Database.Statement | undefined
  #byRowIdStmt: Database.Statement | undefined
  #insertOriginStmt: Database.Statement | undefined

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  /** Records this node's own identity; called once by `cairn init`. */
  insertSelf (nodeId: NodeId, name: string): NodeRow {
    const { publicKey } = parseNodeId(nodeId)
    const now = this.#clock.nowNs()
    this.#db.prepare('INSERT INTO nodes (node_id, name, public_key, is_self, created_at_ns) VALUES (?, ?, ?, 1, ?)')
      .run(nodeId, name, publicKey, now)
    return this.self()
  }

  self (): NodeRow {
    const row = this.#db.prepare(`SELECT ${COLUMNS} FROM nodes WHERE is_self = 1`).get() as Raw | undefined
    if (row === undefined) throw new Error('the database has no self node; it was not created by `cairn init`')
    return toNode(row)
  }

  byRowId (id: number): NodeRow | undefined {
    this.#byRowIdStmt ??= this.#db.prepare(`SELECT ${COLUMNS} FROM nodes WHERE id = ?`)
    const row = this.#byRowIdStmt.get(id) as Raw | undefined
    return row === undefined ? undefined : toNode(row)
  }

  byNodeId (nodeId: string): NodeRow | undefined {
    this.#byNodeIdStmt ??= this.#db.prepare(`SELECT ${COLUMNS} FROM nodes WHERE node_id = ?`)
    const row = this.#byNodeIdStmt.get(nodeId) as Raw | undefined
    return row === undefined ? undefined : toNode(row)
  }

  /** The live (non-revoked) enrolled peer with this label, if any. */
  livePeerByName (name: string): NodeRow | undefined {
    const row = this.#db.prepare(`SELECT ${COLUMNS} FROM nodes WHERE name = ? AND is_self = 0 AND enrolled_at_ns IS NOT NULL AND revoked_at_ns IS NULL`).get(name) as Raw | undefined
    return row === undefined ? undefined : toNode(row)
  }

  /** Enrolled peers, live and revoked, in enrollment order. */
  listPeers (): NodeRow[] {
    return (this.#db.prepare(`SELECT ${COLUMNS} FROM nodes WHERE is_self = 0 AND enrolled_at_ns IS NOT NULL ORDER BY enrolled_at_ns, id`).all() as Raw[]).map(toNode)
  }

  livePeerNames (): Set<string> {
    const rows = this.#db.prepare('SELECT name FROM nodes WHERE is_self = 0 AND enrolled_at_ns IS NOT NULL AND revoked_at_ns IS NULL AND name IS NOT NULL').all() as Array<{ name: string }>
    return new Set(rows.map(r => r.name))
  }

  /**
   * Enrolls a peer: pins its node id (and so its key) under a local name. A node known only
   * as an origin becomes enrolled; a revoked node is refused (see reEnrollPeer).
   */
  enrollPeer (nodeId: NodeId, name: string, addrs: string[]): NodeRow {
    const tx = this.#db.transaction((): NodeRow => {
      const { publicKey } = parseNodeId(nodeId)
      const existing = this.byNodeId(nodeId)
      if (existing?.isSelf === true) throw new SelfEnrollError(nodeId)
      if (existing?.revokedAtNs != null) throw new RevokedPeerEnrollError(nodeId, existing.revokedAtNs, existing.name)
      if (existing?.enrolledAtNs != null) throw new PeerAlreadyEnrolledError(nodeId, existing.name)
      this.#checkNameFree(name, nodeId)
      const now = this.#clock.nowNs()
      if (existing === undefined) {
        this.#db.prepare('INSERT INTO nodes (node_id, name, public_key, addrs, created_at_ns, enrolled_at_ns) VALUES (?, ?, ?, ?, ?, ?)')
          .run(nodeId, name, publicKey, JSON.stringify(addrs), now, now)
      } else {
        this.#db.prepare('UPDATE nodes SET name = ?, addrs = ?, enrolled_at_ns = ? WHERE id = ?').run(name, JSON.stringify(addrs), now, existing.id)
      }
      this.#db.prepare('DELETE FROM pending_peers WHERE node_id = ?').run(nodeId)
      return this.byNodeId(nodeId) as NodeRow
    })
    return tx.immediate()
  }

  /** Trusts a revoked node id again (the operator's explicit --re-enroll). Inside the caller's transaction. */
  reEnrollPeer (nodeId: NodeId, name: string, addrs: string[]): NodeRow {
    const existing = this.byNodeId(nodeId)
    if (existing === undefined || existing.revokedAtNs === null) return this.enrollPeer(nodeId, name, addrs)
    // its name keeps naming it: a re-enrolled node takes its old name back, never a new one
    // (which would free the old name for another node, invariant 23)
    if (existing.name !== null && existing.name !== name) throw new PeerNameTakenError(name, nodeId, true, existing.name)
    this.#checkNameFree(name, nodeId)
    this.#db.prepare('UPDATE nodes SET name = ?, addrs = ?, enrolled_at_ns = ?, revoked_at_ns = NULL WHERE id = ?')
      .run(name, JSON.stringify(addrs), this.#clock.nowNs(), existing.id)
    this.#db.prepare('DELETE FROM pending_peers WHERE node_id = ?').run(nodeId)
    return this.byNodeId(nodeId) as NodeRow
  }

  /** Stamps a contact with a peer; last_seen_ns only moves forward. */
  recordSeen (nodeId: string, atNs: number = this.#clock.nowNs()): void {
    this.#db.prepare('UPDATE nodes SET last_seen_ns = ? WHERE node_id = ? AND is_self = 0 AND (last_seen_ns IS NULL OR last_seen_ns < ?)').run(atNs, nodeId, atNs)
  }

  /** Replaces a peer's known addresses (from a newer invite or a successful dial). */
  updateAddrs (id: number, addrs: string[]): void {
    this.#db.prepare('UPDATE nodes SET addrs = ? WHERE id = ?').run(JSON.stringify(addrs), id)
  }

  /**
   * Puts an address at which this node just reached the live peer over an authenticated
   * connection first in the peer's LAN-learned addresses (lan_addrs, at most MAX_LAN_ADDRS),
   * deduplicated. The pinned addresses (an invite's, `peer add`'s) are never touched: they stay
   * in `addrs` after the learned ones, whatever the LAN says. One write in one transaction, so
   * a `peer add` or `peer revoke` from the CLI is never half-overwritten; no write when the
   * list would not change or the peer is no longer enrolled and live. Returns the changed row.
   */
  promoteReachedAddr (nodeId: string, addr: string, maxAddrs: number = MAX_LAN_ADDRS): NodeRow | undefined {
    const tx = this.#db.transaction((): NodeRow | undefined => {
      const row = this.byNodeId(nodeId)
      if (row === undefined || row.isSelf || row.enrolledAtNs === null || row.revokedAtNs !== null) return undefined
      // already the first address dialled: nothing to learn
      const first = row.addrs[0]
      if (first === addr || first === `${addr}/p2p/${nodeId}`) return undefined
      // learned addresses live apart from the pinned ones and never push those out
      const lan = [addr, ...row.lanAddrs.filter(a => a !== addr && a !== `${addr}/p2p/${nodeId}`)].slice(0, Math.max(1, Math.min(maxAddrs, MAX_LAN_ADDRS)))
      if (lan.length === row.lanAddrs.length && lan.every((a, i) => a === row.lanAddrs[i])) return undefined
      this.#db.prepare('UPDATE nodes SET lan_addrs = ? WHERE id = ?').run(JSON.stringify(lan), row.id)
      return this.byNodeId(nodeId)
    })
    return tx.immediate()
  }

  #checkNameFree (name: string, nodeId: string): void {
    // a name that ever named an enrolled peer keeps naming it (invariant 23), revoked or not
    const holder = this.#db.prepare('SELECT node_id, revoked_at_ns FROM nodes WHERE name = ? AND node_id <> ? AND (is_self = 1 OR enrolled_at_ns IS NOT NULL) ORDER BY revoked_at_ns IS NULL DESC LIMIT 1')
      .get(name, nodeId) as { node_id: string, revoked_at_ns: number | null } | undefined
    if (holder !== undefined) throw new PeerNameTakenError(name, holder.node_id, holder.revoked_at_ns !== null)
  }


  /** Stamps a peer revoked (inside the caller's transaction); the row stays for the audit. */
  markRevoked (id: number): void {
    this.#db.prepare('UPDATE nodes SET revoked_at_ns = ? WHERE id = ? AND is_self = 0 AND revoked_at_ns IS NULL').run(this.#clock.nowNs(), id)
  }

  /**
   * Returns the row of a node known only as an origin (or any known node), creating an
   * unenrolled row for a new node id.
   */
  ensureOrigin (nodeId: NodeId): NodeRow {
    const existing = this.byNodeId(nodeId)
    if (existing !== undefined) return existing
    const { publicKey } = parseNodeId(nodeId)
    this.#insertOriginStmt ??= this.#db.prepare('INSERT INTO nodes (node_id, public_key, created_at_ns) VALUES (?, ?, ?)')
    this.#insertOriginStmt.run(nodeId, publicKey, this.#clock.nowNs())
    const row = this.byNodeId(nodeId)
    if (row === undefined) throw new Error(`node ${nodeId} vanished after insert`)
    return row
  }

  /** Whether a node id may talk to this node: enrolled and not revoked. */
  isLivePeer (nodeId: string): boolean {
    const row = this.#db.prepare('SELECT 1 AS ok FROM nodes WHERE node_id = ? AND is_self = 0 AND enrolled_at_ns IS NOT NULL AND revoked_at_ns IS NULL').get(nodeId) as { ok: number } | undefined
    return row !== undefined
  }
}
