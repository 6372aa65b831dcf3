/**
 * LAN discovery: keeps the addresses of enrolled peers current from announcements on the LAN
 * (mDNS in `serve`, see mdns-source.ts; any DiscoverySource in tests). An announcement is
 * unauthenticated multicast, anyone's claim that any node id is at any address, so it is
 * never written on its own word and never enrolls anyone:
 *
 *  - an announcement of a node id that is not an enrolled, live peer is dropped (debug log,
 *    once per id), with no dial and no write;
 *  - for an enrolled, live peer whose first known address is not among the announced ones,
 *    this node dials the announced addresses with the pinned node id appended, so the Noise
 *    handshake refuses any other key; one attempt at a time per peer, at most one per
 *    `minAttemptIntervalMs`, each dial bounded by `dialTimeoutMs`, at most
 *    MAX_ANNOUNCED_ADDRS_DIALLED addresses (announced-addrs.ts);
 *  - only an authenticated outbound connection to that node id at an announced address
 *    records the address: the address dialled, which is the peer's listen port (the remote
 *    address of an inbound connection has the dialler's ephemeral port and is never used).
 *    It goes first in the peer's addresses in one store write (nodes.promoteReachedAddr).
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { NS_PER_MS, type Clock } from '../clock.js'
import { MAX_NODE_ID_CHARS } from '../identity/node-id.js'
import type { Logger } from '../logger.js'
import type { NodeRow, NodeStore } from '../store/nodes.js'
import { dialableAnnouncedAddrs, normaliseAnnouncedAddr } from './announced-addrs.js'

/** One announcement: a node id and the addresses it is claimed to listen on (unverified). */
export interface Announcement {
  nodeId: string
  addrs: string[]
}

/** Where announcements come from: mDNS in `serve`, a fake in tests. */
export interface DiscoverySource {
  /** Calls `listener` for every announcement until the returned function is called. */
  subscribe: (listener: (announcement: Announcement) => void) => () => void
}

/** Deadline of one dial to an announced address. */
export const LAN_DIAL_TIMEOUT_MS = 5_000
/** Least time between two dial attempts for one peer, however often it is announced. */
export const LAN_MIN_ATTEMPT_INTERVAL_MS = 30_000
/** Addresses kept per peer: the learned one first, then the others (an invite's) in order. */
export const MAX_PEER_ADDRS = 8
/** Node ids remembered so that an ignored announcement is logged once, not once per packet. */
const MAX_IGNORED_IDS_REMEMBERED = 1024
/** Peers whose last attempt is remembered (only enrolled peers get an entry). */
const MAX_ATTEMPTS_REMEMBERED = 4096

export interface LanDiscoveryInit {
  dialTimeoutMs?: number
  minAttemptIntervalMs?: number
  maxPeerAddrs?: number
}

export interface LanDiscoveryComponents {
  source: DiscoverySource
  nodes: Pick<NodeStore, 'byNodeId' | 'promoteReachedAddr'>
  host: Pick<Libp2p, 'dial' | 'getConnections'>
  clock: Clock
  logger: Logger
}

export interface LanDiscovery {
  start: () => void
  /** Unsubscribes and aborts the dials in flight; resolves when they have settled. */
  stop: () => Promise<void>
  /** Resolves when no attempt is in flight (tests). */
  settled: () => Promise<void>
}

export function lanDiscovery (init: LanDiscoveryInit = {}): (components: LanDiscoveryComponents) => LanDiscovery {
  return (components) => new LanDiscoveryImpl(components, init)
}

class LanDiscoveryImpl implements LanDiscovery {
  readonly #c: LanDiscoveryComponents
  readonly #dialTimeoutMs: number
  readonly #minAttemptIntervalNs: number
  readonly #maxPeerAddrs: number
  readonly #inFlight = new Map<string, Promise<void>>()
  readonly #lastAttemptNs = new Map<string, number>()
  readonly #ignored = new Set<string>()
  readonly #stopping = new AbortController()
  #unsubscribe: (() => void) | undefined

  constructor (components: LanDiscoveryComponents, init: LanDiscoveryInit) {
    this.#c = components
    this.#dialTimeoutMs = init.dialTimeoutMs ?? LAN_DIAL_TIMEOUT_MS
    this.#minAttemptIntervalNs = (init.minAttemptIntervalMs ?? LAN_MIN_ATTEMPT_INTERVAL_MS) * NS_PER_MS
    this.#maxPeerAddrs = init.maxPeerAddrs ?? MAX_PEER_ADDRS
  }

  start (): void {
    if (this.#unsubscribe !== undefined || this.#stopping.signal.aborted) return
    this.#unsubscribe = this.#c.source.subscribe((a) => {
      // runs inside the mDNS socket's event handler: a throw here would end the process
      try {
        this.#onAnnouncement(a)
      } catch (err) {
        this.#c.logger.debug('could not handle a LAN announcement', { reason: err instanceof Error ? err.message : String(err) })
      }
    })
  }

  async stop (): Promise<void> {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#stopping.abort(new Error('LAN discovery is stopping'))
    await this.settled()
  }

  async settled (): Promise<void> {
    await Promise.allSettled([...this.#inFlight.values()])
  }

  #onAnnouncement (a: Announcement): void {
    if (this.#stopping.signal.aborted) return
    const nodeId = a?.nodeId
    if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > MAX_NODE_ID_CHARS) return
    const row = this.#c.nodes.byNodeId(nodeId)
    if (row === undefined || row.isSelf || row.enrolledAtNs === null || row.revokedAtNs !== null) {
      this.#logIgnored(nodeId, row)
      return
    }
    if (this.#inFlight.has(nodeId)) return
    const announced = dialableAnnouncedAddrs(nodeId, Array.isArray(a.addrs) ? a.addrs : [])
    if (announced.length === 0) return
    const front = row.addrs[0] === undefined ? undefined : normaliseAnnouncedAddr(nodeId, row.addrs[0])
    const open = this.#c.host.getConnections(peerIdFromString(nodeId)).filter(c => c.status === 'open')
    // an outbound connection at an announced address (a pull dialled it) already proves it
    const proven = open.map(c => reachedAddr(nodeId, c)).find(addr => addr !== undefined && announced.includes(addr))
    if (proven !== undefined) {
      if (proven !== front) this.#record(row, proven)
      return
    }
    if (front !== undefined && announced.includes(front)) return
    const now = this.#c.clock.nowNs()
    const last = this.#lastAttemptNs.get(nodeId)
    if (last !== undefined && now - last < this.#minAttemptIntervalNs) return
    if (this.#lastAttemptNs.size >= MAX_ATTEMPTS_REMEMBERED) this.#lastAttemptNs.clear()
    this.#lastAttemptNs.set(nodeId, now)
    const attempt = this.#attempt(row, announced, open.length > 0)
      .catch((err: unknown) => { this.#c.logger.debug('a LAN dial attempt failed', { peer: row.name ?? row.nodeId, reason: err instanceof Error ? err.message : String(err) }) })
      .finally(() => { this.#inFlight.delete(nodeId) })
    this.#inFlight.set(nodeId, attempt)
  }

  /** Dials the announced addresses in order until one authenticates as the pinned node id. */
  async #attempt (row: NodeRow, announced: string[], connected: boolean): Promise<void> {
    const label = row.name ?? row.nodeId
    for (const addr of announced) {
      if (this.#stopping.signal.aborted) return
      let conn: Connection
      try {
        const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(this.#dialTimeoutMs)])
        // with a connection open, a dial would just return it and prove nothing about `addr`
        conn = await this.#c.host.dial(multiaddr(`${addr}/p2p/${row.nodeId}`), { signal, force: connected })
      } catch (err) {
        this.#c.logger.debug('an announced address did not reach the peer', { peer: label, addr, reason: err instanceof Error ? err.message : String(err) })
        continue
      }
      // Noise pinned the key; a connection this dial did not open (one that arrived inbound
      // meanwhile) says nothing about `addr`
      if (reachedAddr(row.nodeId, conn) !== addr) {
        this.#c.logger.debug('an announced address was not the one connected', { peer: label, addr })
        continue
      }
      this.#record(row, addr)
      return
    }
  }

  #record (row: NodeRow, addr: string): void {
    let changed: NodeRow | undefined
    try {
      changed = this.#c.nodes.promoteReachedAddr(row.nodeId, addr, this.#maxPeerAddrs)
    } catch (err) {
      this.#c.logger.warn('could not record an address learned on the LAN', { peer: row.name ?? row.nodeId, addr, reason: err instanceof Error ? err.message : String(err) })
      return
    }
    if (changed === undefined) return
    const label = changed.name ?? changed.nodeId
    this.#c.logger.info(`learned a new address for ${label} on the LAN`, { peer: label, addr, addrs: changed.addrs })
  }

  #logIgnored (nodeId: string, row: NodeRow | undefined): void {
    if (this.#ignored.has(nodeId)) return
    if (this.#ignored.size >= MAX_IGNORED_IDS_REMEMBERED) this.#ignored.clear()
    this.#ignored.add(nodeId)
    const why = row === undefined || row.enrolledAtNs === null ? 'not enrolled' : row.isSelf ? 'this node' : 'revoked'
    this.#c.logger.debug('ignored a LAN announcement of a node that is not an enrolled, live peer', { node_id: nodeId, why })
  }
}

/** The peer's listen address an outbound, authenticated connection reached; undefined for an inbound one. */
function reachedAddr (nodeId: string, conn: Connection): string | undefined {
  if (conn.direction !== 'outbound' || conn.status !== 'open' || conn.remotePeer.toString() !== nodeId) return undefined
  return normaliseAnnouncedAddr(nodeId, conn.remoteAddr.toString())
}

/** A DiscoverySource fed by hand: the mDNS module emits into it; tests emit what they like. */
export class AnnouncementFeed implements DiscoverySource {
  readonly #listeners = new Set<(a: Announcement) => void>()

  subscribe (listener: (a: Announcement) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  readonly emit = (a: Announcement): void => {
    for (const l of this.#listeners) l(a)
  }
}
