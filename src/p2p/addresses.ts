/**
 * Which addresses to tell other nodes about. A wildcard listen address (0.0.0.0 or ::) is
 * not dialable, so it is expanded to this machine's interface addresses.
 */
import { networkInterfaces } from 'node:os'
import { multiaddr } from '@multiformats/multiaddr'

export function expandWildcards (addrs: string[]): string[] {
  const out: string[] = []
  const ifaces = Object.values(networkInterfaces()).flatMap(list => list ?? [])
  for (const addr of addrs) {
    const parts = multiaddr(addr).getComponents()
    const host = parts[0]
    const port = parts[1]?.value
    if (host === undefined || port === undefined) continue
    if (host.name === 'ip4' && host.value === '0.0.0.0') {
      const v4 = ifaces.filter(i => i.family === 'IPv4')
      const external = v4.filter(i => !i.internal)
      for (const i of (external.length > 0 ? external : v4)) out.push(`/ip4/${i.address}/tcp/${port}`)
    } else if (host.name === 'ip6' && host.value === '::') {
      for (const i of ifaces.filter(x => x.family === 'IPv6' && !x.internal && !x.address.startsWith('fe80'))) out.push(`/ip6/${i.address}/tcp/${port}`)
    } else {
      out.push(addr)
    }
  }
  return [...new Set(out)]
}
