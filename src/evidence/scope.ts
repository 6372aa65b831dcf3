/**
 * Who may claim what (DESIGN invariants 8, 23 and 28), decided per component of a verified
 * assertion before anything is stored:
 *
 *  - the signer's custody (destination = the signer's own node id) is kept when the volume
 *    cares about the signer (pushes to it, requires it, or requires a directory it reaches);
 *  - a claim naming any other node as destination is about a third node's custody: only that
 *    node may make it, so it is dropped and counted (`third-party`);
 *  - a claim about a directory (`dir:<marker id>`) must name the signer as the marker's owner
 *    and must not be a marker another node owns (`third-party`) or one this node owns itself
 *    (`own-destination`: this node verifies its own destinations); it is kept only when the
 *    volume requires it as `PEER/LABEL` under the label the signer asserts it with.
 */
import type { VolumeConfig } from '../config/types.js'
import { isNodeId } from '../identity/node-id.js'
import type { AssertedComponent } from '../protocol/messages.js'
import type { ComponentFilter, FilterView } from '../protocol/wire.js'
import { isDirectoryKey } from '../store/destinations.js'
import type { NodeRow } from '../store/nodes.js'

export type DropKind = 'component' | 'third-party' | 'own-destination'

export interface ScopedComponent extends AssertedComponent {
  /** The store key: the signer's node id for custody, `dir:<marker id>` for its directory. */
  key: string
}

export interface Scoped {
  kept: ScopedComponent[]
  drops: Array<{ destination: string, label?: string, origin: string, kind: DropKind }>
}

/** Who the registry says owns a directory key: 'self', another node's row id, or unknown. */
export type OwnerLookup = (key: string) => 'self' | number | undefined

function careAboutPeer (volume: VolumeConfig, peer: NodeRow): boolean {
  if (peer.name === null) return false
  const name = peer.name
  return volume.pushTo.includes(name) || volume.offloadRequires.some(r => r === name || r.startsWith(`${name}/`))
}

function requiresDirectory (volume: VolumeConfig, peer: NodeRow, label: string): boolean {
  return peer.name !== null && volume.offloadRequires.includes(`${peer.name}/${label}`)
}

/** Why one claim is dropped, or null when this node keeps it (the rules in the header). */
function classify (volume: VolumeConfig, signer: NodeRow, ownerOf: OwnerLookup, receipt: boolean, c: Pick<AssertedComponent, 'destination' | 'owner' | 'label'>): DropKind | null {
  if (c.destination === signer.nodeId) return receipt || careAboutPeer(volume, signer) ? null : 'component'
  // a directory key is never a node id: tested first, so a directory claim never pays for a
  // failed node-id parse
  if (isDirectoryKey(c.destination)) {
    if (c.owner !== signer.nodeId || c.label === undefined) return 'third-party'
    const owner = ownerOf(c.destination)
    if (owner === 'self') return 'own-destination'
    if (owner !== undefined && owner !== signer.id) return 'third-party'
    return requiresDirectory(volume, signer, c.label) ? null : 'component'
  }
  return 'third-party'
}

/** A kept component with its store key, built field by field (a spread copy of each is several times larger). */
function keyed (c: AssertedComponent, key: string): ScopedComponent {
  const s: ScopedComponent = { destination: c.destination, originNode: c.originNode, originRun: c.originRun, verifyMethod: c.verifyMethod, verifiedAtNs: c.verifiedAtNs, exceptions: c.exceptions, key }
  if (c.owner !== undefined) s.owner = c.owner
  if (c.label !== undefined) s.label = c.label
  if (c.floorRun !== undefined) s.floorRun = c.floorRun
  return s
}

/** `receipt`: the assertion answers this node's push to the signer, whose custody it always keeps. */
export function scopeAssertion (volume: VolumeConfig, signer: NodeRow, components: readonly AssertedComponent[], ownerOf: OwnerLookup, receipt = false): Scoped {
  const out: Scoped = { kept: [], drops: [] }
  // the verdict depends only on (destination, owner, label): decided once per distinct triple
  // (an assertion repeats each destination once per origin)
  const verdicts = new Map<string, DropKind | null>()
  for (const c of components) {
    const memo = `${c.destination}\u0000${c.owner ?? ''}\u0000${c.label ?? ''}`
    let kind = verdicts.get(memo)
    if (kind === undefined) {
      kind = classify(volume, signer, ownerOf, receipt, c)
      verdicts.set(memo, kind)
    }
    if (kind === null) out.kept.push(keyed(c, isDirectoryKey(c.destination) ? c.destination : signer.nodeId))
    else out.drops.push({ destination: c.destination, ...(c.label === undefined ? {} : { label: c.label }), origin: c.originNode, kind })
  }
  return out
}

/**
 * The same rules as a filter the decoder applies while it reads the assertion (after the
 * signature verified), so a claim this node would drop is never built: an assertion of half a
 * million components for destinations the volume does not care about costs a walk of its
 * bytes. A tombstone is kept for the signer's custody when that is kept, and for a directory
 * whose marker the registry records as the signer's (only then can it withdraw anything here).
 */
export function scopeFilter (volume: VolumeConfig, signer: NodeRow, ownerOf: OwnerLookup, receipt = false): ComponentFilter<DropKind> {
  return (c: FilterView): DropKind | null => {
    if (!c.tombstone || c.destination === signer.nodeId || isNodeId(c.destination)) return classify(volume, signer, ownerOf, receipt, c)
    return isDirectoryKey(c.destination) && ownerOf(c.destination) === signer.id ? null : 'component'
  }
}

/** The registry lookup scoping needs, from the store. */
export function storeOwnerLookup (store: { destinations: { byKey: (k: string) => { ownerRowId: number } | undefined }, nodes: { self: () => NodeRow, byRowId: (id: number) => NodeRow | undefined } }): OwnerLookup {
  const selfId = store.nodes.self().id
  return (key) => {
    const row = store.destinations.byKey(key)
    if (row === undefined) return undefined
    if (row.ownerRowId === selfId) return 'self'
    // a revoked node's claim to a marker lapses (the registry hands it to the live asserter)
    return store.nodes.byRowId(row.ownerRowId)?.revokedAtNs != null ? undefined : row.ownerRowId
  }
}
