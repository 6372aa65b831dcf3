/**
 * What revoking a peer would take away, computed before anything changes: the live
 * components and freshness rows it asserted, per volume, and how many indexed files would lose
 * their offload gate.
 */
import type { Config } from './config/types.js'
import type { NodeRow } from './store/nodes.js'
import type { Store } from './store/store.js'

export interface RevocationImpact {
  components: number
  freshness: number
  volumes: Array<{ volume: string, components: number, freshness: number }>
  filesLosingGate: Array<{ volume: string, files: number }>
  /** Set when file counts are not available. */
  note: string | null
}

export function revocationImpact (store: Store, _config: Config, peer: NodeRow, _nowNs: number): RevocationImpact {
  const volumes = store.volumes.list().map(v => {
    const components = store.vector.list(v.id).filter(c => c.sourceNodeId === peer.id).length
    const freshness = store.vector.listFreshness(v.id).filter(f => f.sourceNodeId === peer.id).length
    return { volume: v.name, components, freshness }
  }).filter(v => v.components > 0 || v.freshness > 0)
  return {
    components: volumes.reduce((n, v) => n + v.components, 0),
    freshness: volumes.reduce((n, v) => n + v.freshness, 0),
    volumes,
    filesLosingGate: [],
    note: 'file counts need the offload gate, which this build does not have yet; the component counts above are exact'
  }
}
