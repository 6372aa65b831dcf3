/**
 * Who may fetch a volume's bytes from this node (`/cairn/fetch/1.0.0`): a live peer with which
 * this node shares the volume, where sharing means one of the two pushes that volume to the
 * other, as this node's own records and config say —
 *  - this node's config declares the volume and lists the peer in its `push_to` (this node
 *    pushes the volume to the requester), or
 *  - this node declares the volume and has committed a push of it from the requester (a
 *    `receive` run of that volume from that peer that ended success or partial).
 * Nothing the requester says counts: a peer that merely knows a volume's name gets nothing.
 */
import type { Config } from '../config/types.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'

export type Sharing = { shared: true, volumeId: number | undefined } | { shared: false, reason: 'unknown-volume' | 'not-shared' }

export function sharesVolume (store: Store, config: Config, peer: NodeRow, volume: string): Sharing {
  const v = config.volumes.get(volume)
  if (v === undefined) return { shared: false, reason: 'unknown-volume' }
  const volumeId = store.volumes.get(volume)?.id
  if (peer.name !== null && v.pushTo.includes(peer.name)) return { shared: true, volumeId }
  if (volumeId !== undefined && store.runs.hasReceivedFrom(volumeId, peer.id)) return { shared: true, volumeId }
  return { shared: false, reason: 'not-shared' }
}
