/**
 * `cairn ls`: where each file of a volume is held (git-annex `whereis` for cairn). A target
 * holds a file exactly when the offload gate would accept that target for it: the gate itself
 * judges every target in push_to and offload_requires, one requirement each, so `ls` can never
 * say "held" where an offload would refuse, nor the reverse. An offloaded file is judged the
 * same way: which targets still hold the version this node recorded before it deleted its bytes.
 */
import type { Config, VolumeConfig } from '../config/types.js'
import type { Store } from '../store/store.js'
import { nodeLabel } from '../naming.js'
import { gateFile, type GateComponent } from './gate.js'
import { loadGatePolicy, placementKeys } from './gate-policy.js'
import type { Selection } from './selectors.js'

export interface HeldBy {
  target: string
  verify_method: string | null
  verified_at_ns: number | null
  /** `local` (this node verified it) or the asserting peer's name. */
  source: string
}

export interface WhereEntry {
  path: string
  status: 'present' | 'offloaded'
  size: number
  hash: string
  origin: string
  origin_run: number
  held_by: HeldBy[]
  /** The targets that do not hold it, with the gate's cause. */
  not_held_by: Array<{ target: string, cause: string }>
}

export function whereIs (store: Store, config: Config, volume: VolumeConfig, selection: Selection, options: { offloadedOnly: boolean, nowNs: number }): WhereEntry[] {
  const row = store.volumes.get(volume.name)
  if (row === undefined) return []
  const targets = [...new Set([...volume.pushTo, ...volume.offloadRequires])]
  // the gate over every target this volume names, one requirement each
  const policy = loadGatePolicy(store, config, { ...volume, offloadRequires: targets }, options.nowNs)
  const live = new Map(store.files.listLive(row.id).map(f => [f.id, f]))
  const names = new Map<number, string>()
  const name = (rowId: number): string => {
    let n = names.get(rowId)
    if (n === undefined) {
      const node = store.nodes.byRowId(rowId)
      n = node?.isSelf === true ? 'local' : nodeLabel(node, node?.nodeId ?? `#${rowId}`)
      names.set(rowId, n)
    }
    return n
  }
  const out: WhereEntry[] = []
  for (const f of store.files.iterateGateRows(row.id, placementKeys(policy), options.offloadedOnly ? 'offloaded' : 'live')) {
    if (!selection.matches(f.path)) continue
    const file = live.get(f.id)
    if (file === undefined || file.status === 'missing') continue
    const refused = new Map(gateFile(policy, f).map(r => [r.target.name, r.cause]))
    const held: HeldBy[] = []
    const not: WhereEntry['not_held_by'] = []
    policy.targets.forEach((t, slot) => {
      const cause = refused.get(t.name)
      if (cause !== undefined) { not.push({ target: t.name, cause }); return }
      // what the gate judged: the placement at a directory this node writes, else the claim
      const p = f.placed?.[slot]
      const c: GateComponent | undefined = t.components.get(p?.originNodeId ?? f.originNodeId)
      held.push(t.reach === 'pushed' && t.kind === 'directory' && p !== undefined
        ? { target: t.name, verify_method: p.verifyMethod, verified_at_ns: p.verifiedAtNs, source: 'local' }
        : { target: t.name, verify_method: c?.verifyMethod ?? null, verified_at_ns: c?.verifiedAtNs ?? null, source: c === undefined || c.sourceNodeId === null ? 'local' : name(c.sourceNodeId) })
    })
    out.push({
      path: f.path, status: file.status, size: file.size, hash: file.hash.toString('hex'),
      origin: name(file.originNodeId), origin_run: file.originRunId, held_by: held, not_held_by: not
    })
  }
  return out.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}
