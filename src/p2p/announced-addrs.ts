/**
 * Which addresses of an mDNS announcement are worth a dial. An announcement is unauthenticated
 * multicast, so its addresses are strings from anyone on the LAN: only plain TCP over an IP
 * literal (`/ip4/A/tcp/P`, `/ip6/A/tcp/P`, optionally ending in the announced node's own
 * `/p2p/` id) is kept, normalised without the `/p2p/` part (dial.ts appends the pinned id).
 * No DNS names (a dial must not make this node resolve names a stranger chose), no relays, no
 * zones, no port 0. Loopback addresses go last: another machine's loopback is this machine.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { MAX_ADDR_CHARS } from './invite.js'

/** Announced addresses looked at per announcement; the rest are ignored unread. */
export const MAX_ANNOUNCED_ADDRS_SCANNED = 16
/** Announced addresses dialled per attempt, at most (in the order kept below). */
export const MAX_ANNOUNCED_ADDRS_DIALLED = 4

/**
 * The dialable TCP addresses of an announcement for `nodeId`, deduplicated, non-loopback
 * first, at most MAX_ANNOUNCED_ADDRS_DIALLED of them.
 */
export function dialableAnnouncedAddrs (nodeId: string, announced: readonly unknown[]): string[] {
  const kept: string[] = []
  for (const raw of announced.slice(0, MAX_ANNOUNCED_ADDRS_SCANNED)) {
    const addr = normaliseAnnouncedAddr(nodeId, raw)
    if (addr !== undefined && !kept.includes(addr)) kept.push(addr)
  }
  const loopback = kept.filter(isLoopback)
  return [...kept.filter(a => !isLoopback(a)), ...loopback].slice(0, MAX_ANNOUNCED_ADDRS_DIALLED)
}

/** `/ip4/A/tcp/P` or `/ip6/A/tcp/P` for a usable announced address; undefined for anything else. */
export function normaliseAnnouncedAddr (nodeId: string, raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_ADDR_CHARS) return undefined
  let parts
  try {
    parts = multiaddr(raw).getComponents()
  } catch {
    return undefined
  }
  const [host, port, p2p, ...rest] = parts
  if (host === undefined || port === undefined || rest.length > 0) return undefined
  if ((host.name !== 'ip4' && host.name !== 'ip6') || host.value === undefined) return undefined
  if (port.name !== 'tcp' || port.value === undefined) return undefined
  if (p2p !== undefined && (p2p.name !== 'p2p' || p2p.value !== nodeId)) return undefined
  const portNumber = Number(port.value)
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535) return undefined
  if (isNotUnicast(host.value)) return undefined
  return `/${host.name}/${host.value}/tcp/${portNumber}`
}

function isNotUnicast (ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || ip === '255.255.255.255' || /^(22[4-9]|23\d)\./.test(ip) || /^ff/i.test(ip)
}

function isLoopback (addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}
