/**
 * The libp2p host: TCP + Noise + Yamux, the node key as identity, and a connection gater that
 * admits only enrolled, non-revoked node ids, inbound and outbound, before any protocol runs.
 * With `mdns`, the host also announces itself on the LAN and reports what it hears.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import type { NodeKey } from '../identity/node-key.js'
import type { Logger } from '../logger.js'
import { mdnsDiscovery, type MdnsDiscoveryInit } from './mdns-source.js'

/** New inbound connections accepted per second from one IP address. */
export const INBOUND_CONNECTIONS_PER_SECOND_PER_HOST = 32
/** Inbound connections in their handshake at once. */
export const MAX_PENDING_INBOUND_CONNECTIONS = 32

/** Decides whether a node id may hold a connection with this node. */
export interface PeerGate {
  allows: (nodeId: string) => boolean
  /** Called once per inbound connection refused after its Noise handshake (the node id is proven). */
  refusedInbound?: (nodeId: string, remoteAddr: string | undefined) => void
}

export interface HostInit {
  key: NodeKey
  listen: string[]
  gate: PeerGate
  logger: Logger
  /** Announce this node and listen for others on the LAN (serve only; docs/lan-discovery.md). */
  mdns?: MdnsDiscoveryInit
  /** libp2p's metrics (serve passes `prometheusMetrics({ registry })` for /metrics); absent = none. */
  metrics?: Libp2pOptions['metrics']
}

export class GateLog {
  readonly #logged = new Set<string>()
  constructor (private readonly logger: Logger) {}

  /** Logs a refusal once per peer and direction, not once per attempt. */
  refused (nodeId: string, direction: 'inbound' | 'outbound'): void {
    const key = `${direction}:${nodeId}`
    if (this.#logged.has(key)) return
    if (this.#logged.size > 10_000) this.#logged.clear()
    this.#logged.add(key)
    this.logger.warn('refused a connection from a node that is not an enrolled, live peer', { peer: nodeId, direction })
  }
}

export function connectionGater (gate: PeerGate, log: GateLog): ConnectionGater {
  const deny = (peer: PeerId, direction: 'inbound' | 'outbound'): boolean => {
    const nodeId = peer.toString()
    if (gate.allows(nodeId)) return false
    log.refused(nodeId, direction)
    return true
  }
  return {
    denyDialPeer: async (peer) => deny(peer, 'outbound'),
    denyInboundEncryptedConnection: async (peer, maConn) => {
      const denied = deny(peer, 'inbound')
      if (denied) gate.refusedInbound?.(peer.toString(), maConn.remoteAddr?.toString())
      return denied
    },
    denyOutboundEncryptedConnection: async (peer) => deny(peer, 'outbound'),
    denyInboundUpgradedConnection: async (peer) => deny(peer, 'inbound'),
    denyOutboundUpgradedConnection: async (peer) => deny(peer, 'outbound'),
    // Loopback and private addresses are the normal case for a home-lab fleet.
    denyDialMultiaddr: async () => false
  }
}

export async function createHost (init: HostInit): Promise<Libp2p> {
  const log = new GateLog(init.logger)
  return await createLibp2p({
    privateKey: init.key.libp2pKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // Windows up to 8 MiB keep a fast link busy; the stream's read buffer (16 MiB) must exceed
    // the largest window, because a paused stream (see frames.ts) still receives what the
    // window already granted.
    streamMuxers: [yamux({
      maxMessageSize: 256 * 1024,
      streamOptions: { maxStreamWindowSize: 8 * 1024 * 1024, maxReadBufferLength: 16 * 1024 * 1024 }
    })],
    connectionGater: connectionGater(init.gate, log),
    peerDiscovery: init.mdns === undefined ? [] : [mdnsDiscovery(init.mdns)],
    // libp2p accepts 5 new inbound connections per second per IP by default. Several nodes of
    // one fleet can share an address (one machine, one NAT) and pull on the same schedule; the
    // gate refuses any key that is not an enrolled peer right after the Noise handshake, so a
    // higher threshold only costs handshakes.
    connectionManager: { inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND_PER_HOST, maxIncomingPendingConnections: MAX_PENDING_INBOUND_CONNECTIONS },
    ...(init.metrics === undefined ? {} : { metrics: init.metrics }),
    start: false
  })
}
