/**
 * What revoking a peer would take away, computed with the gate before anything changes: the
 * live components and freshness rows it asserted, per volume, and how many present files pass
 * the offload gate now but would not once its evidence is gone.
 */
import type { Config } from '../config/types.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'
import { gateFile } from './gate.js'
import { loadGatePolicy, placementKeys } from './gate-policy.js'
import { offloadedAtRisk, type AtRiskGroup } from './where.js'

export interface RevocationImpact {
  components: number
  freshness: number
  volumes: Array<{ volume: string, components: number, freshness: number }>
  filesLosingGate: Array<{ volume: string, files: number }>
  /** Offloaded files no trusted target holds once the peer's evidence is gone, by directory, with the restore to run first. */
  offloadedAtRisk: AtRiskGroup[]
}

export function revocationImpact (store: Store, config: Config, peer: NodeRow, nowNs: number): RevocationImpact {
  const volumes = store.volumes.list().map(v => {
    const components = store.vector.list(v.id).filter(c => c.sourceNodeId === peer.id).length
    const freshness = store.vector.listFreshness(v.id).filter(f => f.sourceNodeId === peer.id).length
    return { volume: v.name, components, freshness }
  }).filter(v => v.components > 0 || v.freshness > 0)
  const filesLosingGate: RevocationImpact['filesLosingGate'] = []
  const atRisk: AtRiskGroup[] = []
  for (const volume of config.volumes.values()) {
    atRisk.push(...offloadedAtRisk(store, config, volume, nowNs, { withoutSource: peer.id, peerName: peer.name ?? peer.nodeId }))
    const row = store.volumes.get(volume.name)
    if (row === undefined || volume.offloadRequires.length === 0) continue
    const now = loadGatePolicy(store, config, volume, nowNs)
    const after = loadGatePolicy(store, config, volume, nowNs, { withoutSource: peer.id })
    let losing = 0
    // both policies name the same targets in the same order: one joined read serves both
    for (const f of store.files.iterateGateRows(row.id, placementKeys(now))) {
      if (gateFile(now, f).length === 0 && gateFile(after, f).length > 0) losing++
    }
    if (losing > 0) filesLosingGate.push({ volume: volume.name, files: losing })
  }
  return {
    components: volumes.reduce((n, v) => n + v.components, 0),
    freshness: volumes.reduce((n, v) => n + v.freshness, 0),
    volumes,
    filesLosingGate,
    offloadedAtRisk: atRisk
  }
}
