/**
 * Loads what the gate needs for one volume, once per invocation: each required target
 * resolved once (never falling back to another meaning), with this node's placements there
 * or at its custodian, the custodian's custody and claims, plus one `now`. `withoutSource`
 * leaves out everything a peer asserted (the revocation impact preview).
 *
 * Names: a configured directory → the directory this node writes; a name that ever named a
 * peer (live or revoked) → that peer; `PEER/NAME` → the directory PEER asserts under NAME;
 * anything else is unknown and refuses — never "whichever peer uses that label".
 */
import type { Config, VolumeConfig } from '../config/types.js'
import { relayedMarker, resolveTarget } from '../naming.js'
import type { DestinationRow } from '../store/destinations.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'
import type { Component } from '../store/vector.js'
import type { GateComponent, GatePlacement, GatePolicy, GateTarget, PlacementLookup } from './gate.js'

function toGate (c: Component): GateComponent {
  return { originRunId: c.originRunId, verifyMethod: c.verifyMethod, verifiedAtNs: c.verifiedAtNs, sourceNodeId: c.sourceNodeId, exceptions: c.exceptions, floorRunId: c.floorRunId }
}

export function loadGatePolicy (store: Store, config: Config, volume: VolumeConfig, nowNs: number, options: { withoutSource?: number } = {}): GatePolicy {
  const row = store.volumes.get(volume.name)
  const vector = row === undefined ? [] : store.vector.list(row.id)
  // point lookups for a file read without the join; the streaming path never calls them
  const placements = (key: string): PlacementLookup => ({
    get: (path: string): GatePlacement | undefined => row === undefined ? undefined : store.placements.one(key, row.id, path)
  })
  const claims = (key: string, source: number | null): Map<number, GateComponent> => {
    const m = new Map<number, GateComponent>()
    if (source !== null && source === options.withoutSource) return m
    for (const c of vector) if (c.destination === key && c.sourceNodeId === source) m.set(c.originNodeId, toGate(c))
    return m
  }
  const none = new Map<number, GateComponent>()

  const relayed = (name: string, peer: NodeRow, rows: DestinationRow[]): GateTarget => {
    // the marker the peer carries live evidence for under that label; two at once (it reset
    // the directory and still asserts the old one) is ambiguous and covers nothing
    const marker = relayedMarker(rows, k => vector.some(c => c.destination === k && c.sourceNodeId === peer.id))
    const key = marker.key ?? `${peer.nodeId}/${marker.ambiguous ? 'ambiguous' : '?'}`
    return {
      name, key, reach: 'relayed', kind: 'directory', custodian: peer.id, revoked: peer.revokedAtNs !== null,
      placementKey: peer.nodeId, placements: placements(peer.nodeId), custody: claims(peer.nodeId, peer.id), components: marker.ambiguous ? none : claims(key, peer.id)
    }
  }

  const targets: GateTarget[] = volume.offloadRequires.map((name): GateTarget => {
    const t = resolveTarget(store, config, name)
    if (t.kind === 'directory') {
      // before its first push a directory has no key, and so no evidence
      const key = t.key ?? `dir:?${name}`
      return { name, key, reach: 'pushed', kind: 'directory', custodian: null, revoked: false, placementKey: t.key ?? null, placements: t.key === undefined ? new Map() : placements(t.key), custody: none, components: t.key === undefined ? none : claims(t.key, null) }
    }
    if (t.kind === 'peer') {
      const peer = t.node
      const custody = claims(peer.nodeId, peer.id)
      return { name, key: peer.nodeId, reach: 'pushed', kind: 'peer', custodian: peer.id, revoked: peer.revokedAtNs !== null, placementKey: peer.nodeId, placements: placements(peer.nodeId), custody, components: custody }
    }
    if (t.kind === 'relayed') return relayed(name, t.via, t.rows)
    // a name that is none of these never falls back to another meaning (invariant 23)
    return { name, key: name, reach: 'relayed', kind: 'unknown', custodian: null, revoked: false, placementKey: null, placements: new Map(), custody: none, components: none }
  })
  return { targets, maxEvidenceAgeNs: volume.offloadMaxEvidenceAgeMs === undefined ? undefined : volume.offloadMaxEvidenceAgeMs * 1e6, nowNs }
}

/** The placement keys of a policy's targets, in order, for `FileStore.iterateGateRows`. */
export function placementKeys (policy: GatePolicy): Array<string | null> {
  return policy.targets.map(t => t.placementKey ?? null)
}
