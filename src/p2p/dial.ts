/**
 * Opens a protocol stream to a pinned peer: each known address with the peer's node id
 * appended, so Noise refuses any other key at that address. A failure becomes one plain line
 * (dial-failure.ts) naming the peer by its local name, with what to do next.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { CairnError } from '../errors.js'
import type { NodeRow } from '../store/nodes.js'
import { classifyDialFailure, dialHint, mostTelling, type DialFailure, type DialFailureKind } from './dial-failure.js'

export class PeerUnreachableError extends CairnError {
  override name = 'PeerUnreachableError' as const
  constructor (readonly peer: string, readonly addrs: string[], readonly reason: string, readonly kind: DialFailureKind = 'other', selfName?: string) {
    super(`cannot reach ${peer} at ${addrs.length === 0 ? '(no known address)' : addrs.join(', ')}: ${reason}`, {
      hint: addrs.length === 0 ? `add its address with \`cairn peer add ${peer} <invite>\`` : dialHint(kind, peer, selfName)
    })
  }
}

/** This node's own name, for the refusal hint; set by createHost. */
const selfNames = new WeakMap<Libp2p, string>()

export function nameHost (host: Libp2p, selfName: string): void {
  selfNames.set(host, selfName)
}

export async function openPeerStream (host: Libp2p, peer: NodeRow, protocol: string, signal: AbortSignal): Promise<Stream> {
  const label = peer.name ?? peer.nodeId
  const selfName = selfNames.get(host)
  if (peer.addrs.length === 0) throw new PeerUnreachableError(label, [], 'no address is known', 'other', selfName)
  const failures: DialFailure[] = []
  for (const addr of peer.addrs) {
    if (signal.aborted) break
    try {
      const target = multiaddr(addr.includes('/p2p/') ? addr : `${addr}/p2p/${peer.nodeId}`)
      return await host.dialProtocol(target, protocol, { signal })
    } catch (err) {
      failures.push(classifyDialFailure(err, label, selfName, signal.aborted))
    }
  }
  const worst = mostTelling(failures) ?? classifyDialFailure(undefined, label, selfName, true)
  throw new PeerUnreachableError(label, peer.addrs, worst.reason, worst.kind, selfName)
}
