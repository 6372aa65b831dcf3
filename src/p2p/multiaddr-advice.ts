/**
 * TCP multiaddrs as an operator types them: what is wrong with one in plain words, what a
 * multiaddr is, and the multiaddr they probably meant, derived from what was typed
 * (`192.168.1.5:4701`, `[fd00::5]:4701`, `nas.lan:4701`, a bare address or hostname,
 * `/ip4/192.168.1.5:4701`). Used by `peer add --addr`, `init --listen`, the config's `listen`
 * and invites, so every one explains itself the same way.
 */
import { isIP } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'

export const MAX_ADDR_CHARS = 256
/** The port a suggestion uses when none was typed: cairn's default listen port. */
export const DEFAULT_TCP_PORT = 4701

export const MULTIADDR_EXPLAINED = 'a multiaddr spells an address as /PROTOCOL/VALUE pairs: /ip4/ADDRESS/tcp/PORT, /ip6/ADDRESS/tcp/PORT or /dns/HOSTNAME/tcp/PORT'

const HOST_PROTOCOLS = ['ip4', 'ip6', 'dns', 'dns4', 'dns6']
const HOSTNAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/

export interface MultiaddrShape {
  /** Allow a trailing /p2p/NODE_ID (an address to dial); a listen address has none. */
  allowPeerId: boolean
}

/** Why `text` is not a TCP multiaddr of that shape, in plain words; undefined when it is one. */
export function multiaddrProblem (text: unknown, shape: MultiaddrShape): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return 'it is empty'
  if (text.length > MAX_ADDR_CHARS) return `it is longer than ${MAX_ADDR_CHARS} characters`
  if (!text.startsWith('/')) return 'it does not start with "/"'
  let protos: string[]
  try {
    protos = multiaddr(text).getComponents().map(c => c.name)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    return `it does not parse (${why.replace(/\s+/g, ' ').slice(0, 120)})`
  }
  if (!HOST_PROTOCOLS.includes(protos[0] ?? '')) return `it starts with /${protos[0] ?? ''}, not /ip4, /ip6 or /dns`
  if (protos[1] !== 'tcp') return 'it has no /tcp/PORT after the host'
  const rest = protos.slice(2)
  if (rest.length === 0) return undefined
  if (shape.allowPeerId && rest.length === 1 && rest[0] === 'p2p') return undefined
  return `it has parts after /tcp/PORT (${rest.map(p => `/${p}`).join('')})${shape.allowPeerId ? '; only /p2p/NODE_ID may follow' : ''}`
}

function hostPart (host: string): string | undefined {
  if (isIP(host) === 4) return `/ip4/${host}`
  if (isIP(host) === 6) return `/ip6/${host}`
  if (HOSTNAME_RE.test(host) && !/^[0-9.]+$/.test(host)) return `/dns/${host}`
  return undefined
}

function validPort (port: string | undefined): string | undefined {
  if (port === undefined) return String(DEFAULT_TCP_PORT)
  return /^[0-9]{1,5}$/.test(port) && Number(port) <= 65535 ? String(Number(port)) : undefined
}

/**
 * The TCP multiaddr the operator probably meant, or undefined when what was typed does not
 * look like an address at all. The suggestion always passes multiaddrProblem.
 */
export function suggestMultiaddr (text: string): string | undefined {
  let t = text.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '')
  let host: string | undefined
  let port: string | undefined
  const slashed = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+?)(?::([0-9]+))?(?:\/tcp\/([0-9]+))?$/.exec(t)
  if (slashed !== null) {
    // `/ip4/1.2.3.4:4701`, `/ip4/1.2.3.4` (no port), `/dns/nas.lan`
    host = slashed[2]
    port = slashed[4] ?? slashed[3]
  } else {
    t = t.replace(/^\/+/, '')
    const v6 = /^\[([0-9a-fA-F:.]+)\](?::([0-9]+))?$/.exec(t)
    const hostPort = /^([^:/\s]+):([0-9]+)$/.exec(t)
    if (v6 !== null) {
      host = v6[1]
      port = v6[2]
    } else if (hostPort !== null) {
      host = hostPort[1]
      port = hostPort[2]
    } else if (isIP(t) !== 0 || HOSTNAME_RE.test(t)) {
      host = t
    }
  }
  if (host === undefined) return undefined
  const head = hostPart(host)
  const p = validPort(port)
  if (head === undefined || p === undefined) return undefined
  const suggestion = `${head}/tcp/${p}`
  return multiaddrProblem(suggestion, { allowPeerId: false }) === undefined ? suggestion : undefined
}
