/**
 * Aggregates gate refusals into the operator's report: grouped by (target, cause), each group
 * with a count, a summary, the act that would clear it, an example path with its coordinates,
 * and the provenance of the evidence it looked at; then, per required target, how many files
 * it satisfies. Wording lives here, one function per part.
 */
import type { Cause, GateComponent, GatePolicy, GateTarget, Refusal } from './gate.js'

export interface RefusalView {
  target: string
  cause: Cause
  detail: string
  provenance: string
}

export interface Group extends RefusalView {
  files: number
  summary: string
  advice: string
  example_path: string
}

export interface Requirement {
  target: string
  satisfied: number
  blocked: number
}

/** Names for node row ids (origins and sources). */
export type NodeNamer = (rowId: number) => string

export function provenance (c: GateComponent | undefined, name: NodeNamer): string {
  if (c === undefined) return 'none'
  return c.sourceNodeId === null ? 'locally verified' : `asserted by peer ${name(c.sourceNodeId)}`
}

function ago (nowNs: number, thenNs: number): string {
  const days = (nowNs - thenNs) / 86_400e9
  if (days >= 2) return `${Math.floor(days)}d`
  const hours = (nowNs - thenNs) / 3600e9
  if (hours >= 2) return `${Math.floor(hours)}h`
  return `${Math.max(0, Math.floor((nowNs - thenNs) / 60e9))}m`
}

export function detailOf (r: Refusal, file: { originNodeId: number, originRunId: number, statusChangedRunId: number }, policy: GatePolicy, name: NodeNamer): string {
  const t = r.target
  const origin = name(file.originNodeId)
  const c = r.component
  switch (r.cause) {
    case 'no-evidence':
      return `no component for origin ${origin} at ${t.name}; the file is from ${origin} run ${file.originRunId}`
    case 'evidence-behind':
      return `${t.name} holds origin ${origin} through run ${c?.originRunId ?? '?'}; the file is from run ${file.originRunId}`
    case 'evidence-age-unknown':
      return `${t.name} holds origin ${origin} through run ${c?.originRunId ?? '?'}, verified at an unknown time, under a ${Math.round((policy.maxEvidenceAgeNs ?? 0) / 86_400e9)}d age limit`
    case 'evidence-stale':
      return `${t.name} was last verified for origin ${origin} ${ago(policy.nowNs, c?.verifiedAtNs ?? 0)} ago; the limit is ${Math.round((policy.maxEvidenceAgeNs ?? 0) / 86_400e9)}d`
    case 'not-pushed':
      if (t.reach === 'pushed') {
        return t.lastPushRunId === null
          ? `no successful push to ${t.name} yet`
          : `the file changed at run ${file.statusChangedRunId}, after the last successful push to ${t.name} (run ${t.lastPushRunId})`
      }
      return t.freshness.has(file.originNodeId)
        ? `the last push to ${t.name} a peer reported covered origin ${origin} through run ${t.freshness.get(file.originNodeId) ?? '?'}; the file is from run ${file.originRunId}`
        : `no peer has reported pushing origin ${origin} to ${t.name}`
    case 'not-content-verified':
      if (t.failedVerifyRunId !== null && c !== undefined && (c.verifyMethod === 'sha256-readback' || c.verifyMethod === 'peer-sha256')) {
        return `verify run ${t.failedVerifyRunId} found files missing or changed at ${t.name}`
      }
      return `method ${c?.verifyMethod ?? 'none'} at ${t.name} does not prove the bytes (only sha256-readback and peer-sha256 do)`
  }
}

export function adviceOf (t: GateTarget, cause: Cause): string {
  const push = `the next push to ${t.name} covers it`
  const relay = `a pull from the peer that pushes to ${t.name}, after that peer's next push there`
  switch (cause) {
    case 'no-evidence':
    case 'evidence-behind':
    case 'not-pushed':
      return t.reach === 'pushed' ? push : relay
    case 'evidence-age-unknown':
    case 'evidence-stale':
      if (t.reach === 'relayed') return `a pull from the peer that pushes to ${t.name}, after it verifies ${t.name}`
      return t.kind === 'directory' ? `a verify pass over ${t.name} refreshes it` : `the next push to ${t.name} refreshes it`
    case 'not-content-verified':
      if (t.reach === 'relayed') return `a pull from the peer that pushes to ${t.name}, once it holds content-verified evidence`
      return t.kind === 'directory' ? `a verify pass over ${t.name} (or a push without --shallow)` : push
  }
}

export function summaryOf (target: string, cause: Cause, files: number): string {
  const n = `${files} file${files === 1 ? '' : 's'}`
  switch (cause) {
    case 'no-evidence': return `${n}: no evidence at ${target}`
    case 'evidence-behind': return `${n}: evidence at ${target} is behind the files' origin runs`
    case 'evidence-age-unknown': return `${n}: evidence at ${target} has no known verification time`
    case 'evidence-stale': return `${n}: evidence at ${target} is older than the age limit`
    case 'not-pushed': return `${n}: changed or re-acquired since the last push to ${target}`
    case 'not-content-verified': return `${n}: evidence at ${target} is not content-verified`
  }
}

/** Accumulates refusals file by file; memory stays proportional to groups, not files. */
export class ReportBuilder {
  readonly groups = new Map<string, Group>()
  readonly requirements: Map<string, Requirement>

  constructor (readonly policy: GatePolicy, private readonly name: NodeNamer) {
    this.requirements = new Map(policy.targets.map(t => [t.name, { target: t.name, satisfied: 0, blocked: 0 }]))
  }

  /** Records one gated file; returns its per-file reasons. */
  add (path: string, file: { originNodeId: number, originRunId: number, statusChangedRunId: number }, refusals: Refusal[]): RefusalView[] {
    const refused = new Set(refusals.map(r => r.target.name))
    for (const req of this.requirements.values()) {
      if (refused.has(req.target)) req.blocked++
      else req.satisfied++
    }
    return refusals.map(r => {
      const view: RefusalView = { target: r.target.name, cause: r.cause, detail: detailOf(r, file, this.policy, this.name), provenance: provenance(r.component, this.name) }
      const key = `${r.target.name}\u0000${r.cause}`
      const g = this.groups.get(key)
      if (g === undefined) {
        this.groups.set(key, { ...view, files: 1, summary: '', advice: adviceOf(r.target, r.cause), example_path: path })
      } else {
        g.files++
      }
      return view
    })
  }

  /** Groups in the order of the volume's targets, then of causes. */
  finishGroups (): Group[] {
    const order = this.policy.targets.map(t => t.name)
    const causes = ['no-evidence', 'evidence-behind', 'evidence-age-unknown', 'evidence-stale', 'not-pushed', 'not-content-verified']
    return [...this.groups.values()]
      .map(g => ({ ...g, summary: summaryOf(g.target, g.cause, g.files) }))
      .sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target) || causes.indexOf(a.cause) - causes.indexOf(b.cause))
  }
}
