/**
 * Everything the status page and /metrics show, read at request time: the status document
 * (the same one `/api/status` serves), each target's lag, which peers have a live connection
 * to this serve process now, recent runs, and what revoking each live peer would take away.
 * Read-only: nothing here writes to the store.
 */
import type { Config } from '../config/types.js'
import { revocationImpact, type RevocationImpact } from '../offload/impact.js'
import type { DirectoryFs } from '../push/directory-fs.js'
import type { NodeStatus } from '../status.js'
import { readNodeStatus } from '../status-report.js'
import type { ServeStatus } from '../status.js'
import type { Run } from '../store/runs.js'
import type { Store } from '../store/store.js'
import { targetLags, type TargetLag } from './lag.js'

/** Runs the page lists, newest first. */
export const PAGE_RECENT_RUNS = 20

export interface ViewSources {
  store: Store
  config: Config
  nowNs: () => number
  /** Node ids with a live libp2p connection to this process now. */
  onlinePeers: () => ReadonlySet<string>
  fs?: DirectoryFs
  /** This serving process, for the status document's `serve`. */
  serve?: ServeStatus
}

export interface PeerImpact {
  peer: string
  node_id: string
  impact: RevocationImpact
}

export interface StatusView {
  nowNs: number
  status: NodeStatus
  /** volume name → target name → lag. */
  lag: Map<string, Map<string, TargetLag>>
  online: ReadonlySet<string>
}

export interface PageView extends StatusView {
  runs: Run[]
  /** A run's recorded destination (a name or a store key) → the target name the config uses. */
  destinationNames: ReadonlyMap<string, string>
  impacts: PeerImpact[]
}

export async function statusView (src: ViewSources): Promise<StatusView> {
  const status = await readNodeStatus(src.store, src.config, src.nowNs, src.fs, src.serve)
  const lag = new Map<string, Map<string, TargetLag>>()
  for (const v of status.volumes) {
    const of = targetLags(src.store, v.name)
    lag.set(v.name, new Map(v.targets.map(t => [t.name, of(t.key)])))
  }
  return { nowNs: src.nowNs(), status, lag, online: src.onlinePeers() }
}

export async function pageView (src: ViewSources): Promise<PageView> {
  const view = await statusView(src)
  const runs = src.store.runs.list({ limit: PAGE_RECENT_RUNS })
  const impacts: PeerImpact[] = []
  for (const p of src.store.nodes.listPeers()) {
    if (p.revokedAtNs !== null) continue
    // what `cairn peer revoke NAME --dry-run` reports, computed the same way
    impacts.push({ peer: p.name ?? p.nodeId, node_id: p.nodeId, impact: revocationImpact(src.store, src.config, p, view.nowNs) })
  }
  const destinationNames = new Map<string, string>()
  for (const v of view.status.volumes) for (const t of v.targets) if (t.key !== null) destinationNames.set(t.key, t.name)
  return { ...view, runs, destinationNames, impacts }
}
