/**
 * The network half of a pull: one durability exchange with a deadline and frame limits.
 * Returns the envelope bytes exactly as received; nothing here trusts them.
 */
import type { Libp2p } from '@libp2p/interface'
import { PeerStatusError } from '../errors.js'
import { openPeerStream } from '../p2p/dial.js'
import { framed } from '../p2p/frames.js'
import { DURABILITY_PROTOCOL } from '../protocol/ids.js'
import { DURABILITY_DEADLINE_MS, MAX_FRAME_BYTES } from '../protocol/limits.js'
import { Status, statusName } from '../protocol/messages.js'
import { decodeDurabilityResponse, encodeDurabilityRequest } from '../protocol/wire.js'
import type { NodeRow } from '../store/nodes.js'

export interface FetchOptions {
  timeoutMs?: number
  /** Aborts the exchange early (the node is stopping). */
  signal?: AbortSignal
}

export async function fetchAssertion (host: Libp2p, peer: NodeRow, volume: string, options: FetchOptions = {}): Promise<Uint8Array> {
  const timeoutMs = options.timeoutMs ?? DURABILITY_DEADLINE_MS
  const deadline = AbortSignal.timeout(timeoutMs)
  const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
  const stream = await openPeerStream(host, peer, DURABILITY_PROTOCOL, signal)
  try {
    const io = framed(stream, MAX_FRAME_BYTES)
    await io.write(encodeDurabilityRequest({ volume }), timeoutMs)
    const response = decodeDurabilityResponse(await io.read('a durability response', MAX_FRAME_BYTES, timeoutMs))
    if (response.status !== Status.OK || response.envelope === null) {
      throw new PeerStatusError(peer.name ?? peer.nodeId, statusName(response.status), response.message)
    }
    return response.envelope
  } finally {
    await stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { stream.abort(new Error('closing')) })
  }
}
