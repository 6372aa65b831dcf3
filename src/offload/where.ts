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

export interface AtRiskGroup {
  volume: string
  /** The directory of the files ('.' for the volume root). */
  directory: string
  files: number
  /** Directory destinations that still have this version placed (their evidence may be old): where a restore can come from. */
  restore_from: string[]
  /** What brings them back, or what to do when no trusted copy is known. */
  command: string
}

/**
 * Offloaded files that no target holds on trusted evidence — now, or (withoutSource) once that
 * peer's evidence is gone — grouped by directory, with the restore that brings them back while
 * it still can. The gate decides "holds", as for `ls`.
 */
export function offloadedAtRisk (store: Store, config: Config, volume: VolumeConfig, nowNs: number, options: { withoutSource?: number, peerName?: string } = {}): AtRiskGroup[] {
  const row = store.volumes.get(volume.name)
  if (row === undefined) return []
  const targets = [...new Set([...volume.pushTo, ...volume.offloadRequires])]
  const all = { ...volume, offloadRequires: targets }
  const now = loadGatePolicy(store, config, all, nowNs)
  const after = options.withoutSource === undefined ? now : loadGatePolicy(store, config, all, nowNs, { withoutSource: options.withoutSource })
  const groups = new Map<string, { files: number, from: Set<string>, heldNow: number }>()
  for (const f of store.files.iterateGateRows(row.id, placementKeys(now), 'offloaded')) {
    const refusedAfter = new Set(gateFile(after, f).map(r => r.target.name))
    if (after.targets.some(t => !refusedAfter.has(t.name))) continue
    const slash = f.path.lastIndexOf('/')
    const dir = slash < 0 ? '.' : f.path.slice(0, slash)
    let g = groups.get(dir)
    if (g === undefined) groups.set(dir, g = { files: 0, from: new Set(), heldNow: 0 })
    g.files++
    // a directory this node writes that still has this version placed is where it can come from
    now.targets.forEach((t, slot) => {
      if (t.kind === 'directory' && t.reach === 'pushed' && f.placed?.[slot]?.contentId === f.contentId) g?.from.add(t.name)
    })
  }
  return [...groups.entries()].sort((a, b) => a[0] < b[0] ? -1 : 1).map(([directory, g]) => {
    const from = [...g.from].sort()
    const dirArg = directory === '.' ? '.' : directory
    const peer = options.peerName
    const command = from.length > 0
      ? `cairn restore ${volume.name} ${dirArg} --from ${from[0] ?? ''}`
      : peer !== undefined
        ? `no trusted copy is known: restore from ${peer} before revoking, if you still trust it to serve bytes (cairn restore ${volume.name} ${dirArg} --from ${peer}; every byte is checked against the recorded hash)`
        : `no trusted copy is known: restore from any node that may still hold them (cairn restore ${volume.name} ${dirArg} --from PEER; every byte is checked against the recorded hash)`
    return { volume: volume.name, directory, files: g.files, restore_from: from, command }
  })
}
