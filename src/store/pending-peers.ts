/**
 * Nodes that knocked: they proved their node id in a Noise handshake and the connection gate
 * refused them because they are not enrolled, live peers (migration 0014). `cairn peer pending`
 * lists them. Bounded: at most MAX_PENDING_PEERS rows (the least recently seen goes first), at
 * most MAX_PENDING_ADDRS addresses per row. Rate limiting is the caller's (src/p2p/knocks.ts):
 * this store writes whatever it is handed, in one statement group per knock.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

export const MAX_PENDING_PEERS = 100
export const MAX_PENDING_ADDRS = 8
export const MAX_PENDING_ADDR_LENGTH = 256
/**
 * Rows whose newest address is one host: keys are free, so one host knocking with fresh ids
 * replaces its own oldest knocks, never another host's.
 */
export const MAX_PENDING_PER_HOST = 10

/** The IP part of `/ip4/A/tcp/P` or `/ip6/A/...`; undefined for anything else. */
export function knockHost (addr: string | undefined): string | undefined {
  const m = addr === undefined ? null : /^\/(ip4|ip6)\/([^/]+)/.exec(addr)
  return m === null ? undefined : `/${m[1] ?? ''}/${m[2] ?? ''}`
}

export interface PendingPeer {
  nodeId: string
  addrs: string[]
  firstSeenNs: number
  lastSeenNs: number
  attempts: number
}

interface Raw { node_id: string, addrs: string, first_seen_ns: number, last_seen_ns: number, attempts: number }

function toPending (r: Raw): PendingPeer {
  return { nodeId: r.node_id, addrs: JSON.parse(r.addrs) as string[], firstSeenNs: r.first_seen_ns, lastSeenNs: r.last_seen_ns, attempts: r.attempts }
}

export class PendingPeerStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  /**
   * Records `attempts` refused connections from a node at an address. An enrolled node's knock
   * (a revoked one) is recorded like any other: the operator sees it tried.
   */
  record (nodeId: string, addr: string | undefined, attempts = 1, atNs = this.#clock.nowNs()): void {
    if (nodeId.length === 0 || nodeId.length > 128 || attempts < 1) return
    const cleanAddr = addr === undefined || addr.length === 0 || addr.length > MAX_PENDING_ADDR_LENGTH ? undefined : addr
    this.#db.transaction(() => {
      const existing = this.#db.prepare('SELECT node_id, addrs, first_seen_ns, last_seen_ns, attempts FROM pending_peers WHERE node_id = ?').get(nodeId) as Raw | undefined
      if (existing === undefined) {
        const host = knockHost(cleanAddr)
        if (host !== undefined) {
          // the host's own knocks go first (json_extract of the newest address's prefix)
          const mine = this.#db.prepare("SELECT node_id FROM pending_peers WHERE json_extract(addrs, '$[0]') = ? OR json_extract(addrs, '$[0]') LIKE ? ESCAPE '\\' ORDER BY last_seen_ns, node_id")
            .all(host, `${host.replace(/[\\%_]/g, c => `\\${c}`)}/%`) as Array<{ node_id: string }>
          for (const r of mine.slice(0, Math.max(0, mine.length - MAX_PENDING_PER_HOST + 1))) this.#db.prepare('DELETE FROM pending_peers WHERE node_id = ?').run(r.node_id)
        }
        const n = (this.#db.prepare('SELECT count(*) AS n FROM pending_peers').get() as { n: number }).n
        if (n >= MAX_PENDING_PEERS) {
          this.#db.prepare('DELETE FROM pending_peers WHERE node_id IN (SELECT node_id FROM pending_peers ORDER BY last_seen_ns, node_id LIMIT ?)').run(n - MAX_PENDING_PEERS + 1)
        }
        this.#db.prepare('INSERT INTO pending_peers (node_id, addrs, first_seen_ns, last_seen_ns, attempts) VALUES (?, ?, ?, ?, ?)')
          .run(nodeId, JSON.stringify(cleanAddr === undefined ? [] : [cleanAddr]), atNs, atNs, attempts)
        return
      }
      const old = JSON.parse(existing.addrs) as string[]
      const addrs = cleanAddr === undefined ? old : [cleanAddr, ...old.filter(a => a !== cleanAddr)].slice(0, MAX_PENDING_ADDRS)
      this.#db.prepare('UPDATE pending_peers SET addrs = ?, last_seen_ns = max(last_seen_ns, ?), attempts = attempts + ? WHERE node_id = ?')
        .run(JSON.stringify(addrs), atNs, attempts, nodeId)
    }).immediate()
  }

  /** Most recently seen first. */
  list (): PendingPeer[] {
    return (this.#db.prepare('SELECT node_id, addrs, first_seen_ns, last_seen_ns, attempts FROM pending_peers ORDER BY last_seen_ns DESC, node_id').all() as Raw[]).map(toPending)
  }

  get (nodeId: string): PendingPeer | undefined {
    const r = this.#db.prepare('SELECT node_id, addrs, first_seen_ns, last_seen_ns, attempts FROM pending_peers WHERE node_id = ?').get(nodeId) as Raw | undefined
    return r === undefined ? undefined : toPending(r)
  }

  /** Forgets a node's knocks (it was enrolled). Inside the caller's transaction or alone. */
  remove (nodeId: string): void {
    this.#db.prepare('DELETE FROM pending_peers WHERE node_id = ?').run(nodeId)
  }
}
