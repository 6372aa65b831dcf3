/**
 * `cairn destination adopt NAME`: the explicit, audited way for a node to take over a
 * directory whose marker names another owner — in practice this machine before a rebuild
 * with a new key (the old one revoked on the other nodes). Never automatic.
 *
 * Refused when the marker's owner is a live enrolled peer of this node (push through it, or
 * revoke it first), when the marker already names this node, and when the name already
 * resolves to another recorded marker (reset it first). The old marker is replaced by a new
 * one with a fresh id owned by this node: nothing said about the old id (by the old owner,
 * to anyone) can ever count for the new one, and the next push reads every file again.
 * The run (kind `reset`, detail `action: adopt`) records the old marker's text.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { DirectoryDestinationConfig } from '../config/types.js'
import { CairnError, DestinationOwnedError, DestinationUnavailableError } from '../errors.js'
import type { Store } from '../store/store.js'
import { nodeDirectoryFs, type DirectoryFs } from './directory-fs.js'
import { formatMarker, MARKER_FILE, readMarker, type Marker } from './destination-marker.js'

export class NothingToAdoptError extends CairnError {
  override name = 'NothingToAdoptError' as const
  constructor (readonly destination: string, readonly reason: string, hint: string) {
    super(`destination ${destination}: ${reason}`, { hint })
  }
}

export interface AdoptPlan {
  marker: Marker
  previousOwner: string | null
  previousOwnerLabel: string
  previousMarkerId: string | null
}

export async function planAdopt (store: Store, dest: DirectoryDestinationConfig, fs: DirectoryFs = nodeDirectoryFs): Promise<AdoptPlan> {
  const info = await fs.lstat(dest.path)
  if (info?.kind !== 'dir') throw new DestinationUnavailableError(dest.name, dest.path, info === undefined ? 'does not exist' : 'is not a directory')
  const marker = await readMarker(fs, dest.path)
  const self = store.nodes.self()
  if (marker.kind === 'none') throw new NothingToAdoptError(dest.name, `${dest.path} has no marker`, `push to it: a directory without a marker becomes this node's on its first push`)
  const recorded = store.destinations.local(dest.name)
  if (recorded !== undefined) {
    throw new NothingToAdoptError(dest.name, `the name already resolves to marker ${recorded.markerId}`, `if the directory there is another one now, run \`cairn destination reset ${dest.name} --yes\` first`)
  }
  if (marker.kind === 'unreadable') return { marker, previousOwner: null, previousOwnerLabel: 'nobody (unreadable marker)', previousMarkerId: null }
  if (marker.kind === 'v1') return { marker, previousOwner: null, previousOwnerLabel: 'nobody named (a marker from an older cairn)', previousMarkerId: marker.markerId }
  if (marker.ownerNodeId === self.nodeId) throw new NothingToAdoptError(dest.name, 'the marker already names this node', 'push to it')
  const owner = store.nodes.byNodeId(marker.ownerNodeId)
  if (owner !== undefined && owner.enrolledAtNs !== null && owner.revokedAtNs === null) {
    const err = new DestinationOwnedError(dest.name, dest.path, marker.markerId, marker.ownerNodeId, owner.name ?? marker.label)
    err.hint = `${owner.name ?? marker.ownerNodeId} is a live peer: push through it, or revoke it first (\`cairn peer revoke ${owner.name ?? marker.ownerNodeId}\`) if this node replaces it`
    throw err
  }
  const ownerLabel = owner === undefined ? `${marker.ownerNodeId} (not known to this node), label ${marker.label}` : `${owner.name ?? marker.ownerNodeId} (revoked)`
  return { marker, previousOwner: marker.ownerNodeId, previousOwnerLabel: ownerLabel, previousMarkerId: marker.markerId }
}

export async function adoptDestination (store: Store, dest: DirectoryDestinationConfig, plan: AdoptPlan, fs: DirectoryFs = nodeDirectoryFs): Promise<{ runId: number, key: string, markerId: string }> {
  const now = await readMarker(fs, dest.path)
  if (JSON.stringify(now) !== JSON.stringify(plan.marker)) throw new NothingToAdoptError(dest.name, 'the marker changed while adopting', 'look at the directory and run adopt again')
  const old = await fs.readText(join(dest.path, MARKER_FILE))
  const self = store.nodes.self()
  const markerId = randomBytes(16).toString('hex')
  await fs.writeTextAtomic(join(dest.path, MARKER_FILE), formatMarker(markerId, self.nodeId, dest.name))
  return store.db.transaction(() => {
    const run = store.runs.begin({ kind: 'reset', destination: dest.name })
    const row = store.destinations.recordLocal(self.id, dest.name, markerId)
    store.runs.finish(run.id, 'success', {
      detail: { action: 'adopt', previous_owner: plan.previousOwner, previous_marker_id: plan.previousMarkerId, previous_marker_text: (old ?? '').slice(0, 512), marker_id: markerId }
    })
    return { runId: run.id, key: row.key, markerId }
  }).immediate()
}
