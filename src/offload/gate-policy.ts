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
import { relayedKey } from '../evidence/scope.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'
import type { Component } from '../store/vector.js'
import type { GateComponent, GatePlacement, GatePolicy, GateTarget, PlacementLookup } from './gate.js'

function peerNamed (store: Store, name: string): NodeRow | undefined {
  const peers = store.nodes.listPeers().filter(p => p.name === name)
  return peers.find(p => p.revokedAtNs === null) ?? peers[peers.length - 1]
}

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

  const relayed = (name: string, peer: NodeRow, label: string): GateTarget => {
    const key = relayedKey(peer.nodeId, label)
    return {
      name, key, reach: 'relayed', kind: 'directory', custodian: peer.id, revoked: peer.revokedAtNs !== null,
      placementKey: peer.nodeId, placements: placements(peer.nodeId), custody: claims(peer.nodeId, peer.id), components: claims(key, peer.id)
    }
  }

  const targets: GateTarget[] = volume.offloadRequires.map((name): GateTarget => {
    if (config.destinations.has(name)) {
      return { name, key: name, reach: 'pushed', kind: 'directory', custodian: null, revoked: false, placementKey: name, placements: placements(name), custody: none, components: claims(name, null) }
    }
    const peer = peerNamed(store, name)
    if (peer !== undefined) {
      const custody = claims(peer.nodeId, peer.id)
      return { name, key: peer.nodeId, reach: 'pushed', kind: 'peer', custodian: peer.id, revoked: peer.revokedAtNs !== null, placementKey: peer.nodeId, placements: placements(peer.nodeId), custody, components: custody }
    }
    const slash = name.indexOf('/')
    if (slash > 0) {
      const via = peerNamed(store, name.slice(0, slash))
      if (via !== undefined) return relayed(name, via, name.slice(slash + 1))
    }
    // a name that is none of these never falls back to another meaning (invariant 23)
    return { name, key: name, reach: 'relayed', kind: 'unknown', custodian: null, revoked: false, placementKey: null, placements: new Map(), custody: none, components: none }
  })
  return { targets, maxEvidenceAgeNs: volume.offloadMaxEvidenceAgeMs === undefined ? undefined : volume.offloadMaxEvidenceAgeMs * 1e6, nowNs }
}

/** The placement keys of a policy's targets, in order, for `FileStore.iterateGateRows`. */
export function placementKeys (policy: GatePolicy): Array<string | null> {
  return policy.targets.map(t => t.placementKey ?? null)
}
