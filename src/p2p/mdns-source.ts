/**
 * mDNS for `serve`: a libp2p peer-discovery module that runs @libp2p/mdns (it answers queries
 * with this node's listen addresses and queries the LAN every `intervalMs`) and hands what it
 * hears only to `onAnnouncement` (lan-discovery.ts). It never passes a find on to libp2p, so
 * an unauthenticated address never enters libp2p's peer store, and a flood of made-up node
 * ids cannot grow it.
 */
import { mdns, type MulticastDNSComponents } from '@libp2p/mdns'
import type { PeerDiscovery, PeerDiscoveryEvents, PeerInfo, Startable } from '@libp2p/interface'
import type { Logger } from '../logger.js'
import { MAX_ANNOUNCED_ADDRS_SCANNED } from './announced-addrs.js'
import type { Announcement } from './lan-discovery.js'

/** How often this node asks the LAN who is there (and so how soon a moved peer is found). */
export const MDNS_QUERY_INTERVAL_MS = 10_000

export interface MdnsDiscoveryInit {
  onAnnouncement: (announcement: Announcement) => void
  logger: Logger
  intervalMs?: number
}

/** The module for `createLibp2p({ peerDiscovery: [...] })`. */
export function mdnsDiscovery (init: MdnsDiscoveryInit): (components: MulticastDNSComponents) => PeerDiscovery & Startable {
  return (components) => new MdnsDiscovery(components, init)
}

/** The parts of @libp2p/mdns's MulticastDNS used here (its class is not exported). */
interface MulticastDnsService extends PeerDiscovery, Startable {
  mdns?: { on: (event: 'error', listener: (err: Error & { code?: string }) => void) => void }
}

class MdnsDiscovery extends EventTarget implements PeerDiscovery, Startable {
  readonly [Symbol.toStringTag] = 'cairn:mdns'
  readonly #inner: MulticastDnsService
  readonly #init: MdnsDiscoveryInit
  #warned = false

  constructor (components: MulticastDNSComponents, init: MdnsDiscoveryInit) {
    super()
    this.#init = init
    this.#inner = mdns({ interval: init.intervalMs ?? MDNS_QUERY_INTERVAL_MS, broadcast: true })(components) as MulticastDnsService
    this.#inner.addEventListener('peer', (evt: CustomEvent<PeerInfo>) => {
      const found = evt.detail
      init.onAnnouncement({
        nodeId: found.id.toString(),
        addrs: found.multiaddrs.slice(0, MAX_ANNOUNCED_ADDRS_SCANNED).map(a => a.toString())
      })
    })
  }

  async start (): Promise<void> {
    await this.#inner.start()
    // the socket cannot be had (port 5353 taken without SO_REUSEADDR, no permission): say so
    // once; a machine without a multicast route only gets the module's own debug lines
    this.#inner.mdns?.on('error', (err) => {
      if (this.#warned) return
      this.#warned = true
      this.#init.logger.warn('LAN discovery (mDNS) is not running; peers are dialled at their known addresses only', { reason: err.code ?? err.message })
    })
  }

  async stop (): Promise<void> {
    await this.#inner.stop()
  }

  listenerCount (): number {
    return 0
  }

  safeDispatchEvent<Detail>(type: keyof PeerDiscoveryEvents, detail?: { detail?: Detail }): boolean {
    return this.dispatchEvent(new CustomEvent(type, detail))
  }
}
