/**
 * Opens a protocol stream to a pinned peer: each known address with the peer's node id
 * appended, so Noise refuses any other key at that address.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { CairnError } from '../errors.js'
import type { NodeRow } from '../store/nodes.js'

export class PeerUnreachableError extends CairnError {
  override name = 'PeerUnreachableError' as const
  constructor (readonly peer: string, readonly addrs: string[], readonly reason: string) {
    super(`cannot reach ${peer} at ${addrs.length === 0 ? '(no known address)' : addrs.join(', ')}: ${reason}`, {
      hint: `is \`cairn serve\` running there? update its address with \`cairn peer add ${peer} <invite>\` if it moved`
    })
  }
}

export async function openPeerStream (host: Libp2p, peer: NodeRow, protocol: string, signal: AbortSignal): Promise<Stream> {
  const label = peer.name ?? peer.nodeId
  if (peer.addrs.length === 0) throw new PeerUnreachableError(label, [], 'no address is known')
  let last: unknown
  for (const addr of peer.addrs) {
    if (signal.aborted) break
    try {
      const target = multiaddr(addr.includes('/p2p/') ? addr : `${addr}/p2p/${peer.nodeId}`)
      return await host.dialProtocol(target, protocol, { signal })
    } catch (err) {
      last = err
    }
  }
  const reason = signal.aborted ? 'timed out' : last instanceof Error ? last.message : String(last)
  throw new PeerUnreachableError(label, peer.addrs, reason)
}
