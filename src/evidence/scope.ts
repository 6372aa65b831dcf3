/**
 * Who may claim what (DESIGN invariants 8 and 28), decided per component of a verified
 * assertion before anything is stored:
 *
 *  - the signer's custody (destination = the signer's own node id) is kept when the volume
 *    cares about the signer (pushes to it, requires it, or requires a directory it reaches);
 *  - a claim naming any other node as destination is about a third node's custody: only that
 *    node may make it, so it is dropped and counted (`third-party`);
 *  - a claim about a directory is the signer's directory: it is stored under a key that names
 *    the signer (`<signer node id>/<label>`), so one node's label can never land in another
 *    node's row, and kept only when the volume requires it as `PEER/LABEL`.
 */
import type { VolumeConfig } from '../config/types.js'
import { isNodeId } from '../identity/node-id.js'
import type { AssertedComponent } from '../protocol/messages.js'
import type { NodeRow } from '../store/nodes.js'

export type DropKind = 'component' | 'third-party'

export interface ScopedComponent extends AssertedComponent {
  /** The store key: the signer's node id for custody, `<signer>/<label>` for its directory. */
  key: string
}

export interface Scoped {
  kept: ScopedComponent[]
  drops: Array<{ destination: string, origin: string, kind: DropKind }>
}

/** The store key of a directory that `owner` reaches, named `label` there. */
export function relayedKey (ownerNodeId: string, label: string): string {
  return `${ownerNodeId}/${label}`
}

function careAboutPeer (volume: VolumeConfig, peer: NodeRow): boolean {
  if (peer.name === null) return false
  const name = peer.name
  return volume.pushTo.includes(name) || volume.offloadRequires.some(r => r === name || r.startsWith(`${name}/`))
}

function requiresDirectory (volume: VolumeConfig, peer: NodeRow, label: string): boolean {
  return peer.name !== null && volume.offloadRequires.includes(`${peer.name}/${label}`)
}

/** `receipt`: the assertion answers this node's push to the signer, whose custody it always keeps. */
export function scopeAssertion (volume: VolumeConfig, signer: NodeRow, components: readonly AssertedComponent[], receipt = false): Scoped {
  const out: Scoped = { kept: [], drops: [] }
  for (const c of components) {
    if (c.destination === signer.nodeId) {
      if (receipt || careAboutPeer(volume, signer)) out.kept.push({ ...c, key: signer.nodeId })
      else out.drops.push({ destination: c.destination, origin: c.originNode, kind: 'component' })
    } else if (isNodeId(c.destination)) {
      out.drops.push({ destination: c.destination, origin: c.originNode, kind: 'third-party' })
    } else if (requiresDirectory(volume, signer, c.destination)) {
      out.kept.push({ ...c, key: relayedKey(signer.nodeId, c.destination) })
    } else {
      out.drops.push({ destination: c.destination, origin: c.originNode, kind: 'component' })
    }
  }
  return out
}
