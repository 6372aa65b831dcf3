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
      return `this version of the file is not placed at ${t.name}: it was never pushed there, changed or came back since the last push, or a verify found it missing or damaged there`
    case 'not-content-verified':
      return `method ${c?.verifyMethod ?? 'none'} at ${t.name} does not prove the bytes (only sha256-readback and peer-sha256 do)`
    case 'target-revoked':
      return `${t.name} is revoked: nothing it or anyone else says about it counts`
    case 'custody-hole':
      return `${t.name} reports it no longer holds this version of the file (missing, offloaded or replaced there)`
    case 'relay-not-holding': {
      const relay = t.name.includes('/') ? t.name.slice(0, t.name.indexOf('/')) : 'the peer that reaches it'
      return `${relay} has not confirmed it holds this file, so its word about ${t.name} does not cover it`
    }
    case 'not-held':
      return holdDetail(t.name, 'refused')
    case 'held-for-peer':
      return `this node holds this file for ${t.name}'s offload`
    case 'destination-unverified':
      return `${t.name} cannot be checked now: ${t.unverified ?? 'its identity marker is missing or not this node\'s'}`
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
    case 'not-held':
      return holdAdvice(t.name, 'unreachable')
    case 'held-for-peer':
      return heldForPeerAdvice(t.name)
    case 'target-revoked':
      return `re-enroll ${t.name} if it is trusted again (\`cairn peer add\`), or change offload_requires`
    case 'custody-hole':
      return `the next push to ${t.name} sends it again`
    case 'relay-not-holding':
      return `push to ${t.name.includes('/') ? t.name.slice(0, t.name.indexOf('/')) : 'that peer'} so it holds this file, then pull from it after its next push to ${t.name}`
    case 'destination-unverified':
      return `mount ${t.name} (the disk the evidence is about) and run the offload again; if the disk was replaced, \`cairn destination reset ${t.name} --yes\` and push again`
  }
}

/** Why a custodian did not hold a file (DESIGN invariant 29), as the hold exchange reported it. */
export type HoldWhy = 'offloading' | 'not-present' | 'changed' | 'not-placed' | 'unreachable' | 'invalid-response' | 'refused'

export function holdDetail (holder: string, why: HoldWhy): string {
  switch (why) {
    case 'unreachable': return `${holder} is not reachable to hold this file`
    case 'offloading': return `${holder} is offloading this file itself`
    case 'not-present': return `${holder} has no present copy of this content at this path`
    case 'changed': return `${holder}'s copy changed on disk since it last indexed it`
    case 'not-placed': return `${holder} no longer has this file placed and read back at the directory this node relies on through it (a verify there may have found it damaged)`
    case 'invalid-response': return `${holder}'s answer to the hold request did not verify`
    case 'refused': return `${holder} refused to hold this file`
  }
}

export function holdAdvice (holder: string, why: HoldWhy): string {
  switch (why) {
    case 'unreachable':
    case 'invalid-response':
      return `${holder} is not reachable to hold these files; start \`cairn serve\` on ${holder} and run the offload again`
    case 'offloading':
      return `${holder} is offloading these files itself; run the offload again after its offload finishes`
    case 'not-present':
    case 'changed':
      return `${holder} no longer holds these files as indexed; push to ${holder} again before offloading`
    case 'not-placed':
      return `${holder}'s next push places them again; pull from ${holder} after it, then run the offload again`
    case 'refused':
      return `${holder} refused to hold these files (see its log); run the offload again later`
  }
}

export function heldForPeerAdvice (peer: string): string {
  return `this node promised ${peer} to keep these files while ${peer} offloads them; run the offload again after the hold ends (at most 10 minutes)`
}

export function summaryOf (target: string, cause: Cause, files: number): string {
  const n = `${files} file${files === 1 ? '' : 's'}`
  switch (cause) {
    case 'no-evidence': return `${n}: no evidence at ${target}`
    case 'evidence-behind': return `${n}: evidence at ${target} is behind the files' origin runs`
    case 'evidence-age-unknown': return `${n}: evidence at ${target} has no known verification time`
    case 'evidence-stale': return `${n}: evidence at ${target} is older than the age limit`
    case 'not-pushed': return `${n}: not placed at ${target} (never pushed, changed or back since, or found damaged there)`
    case 'not-content-verified': return `${n}: evidence at ${target} is not content-verified`
    case 'not-held': return `${n}: ${target} did not hold them for this offload`
    case 'held-for-peer': return `${n}: held for ${target}'s offload`
    case 'target-revoked': return `${n}: ${target} is revoked`
    case 'custody-hole': return `${n}: ${target} no longer holds them`
    case 'relay-not-holding': return `${n}: the relay to ${target} has not confirmed it holds them`
    case 'destination-unverified': return `${n}: ${target} is not the directory the evidence is about right now (marker missing or changed)`
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
        // the first path in path order, whatever order the rows came in (the index records files
        // as its hashing workers finish them)
        if (path < g.example_path) g.example_path = path
      }
      return view
    })
  }

  /** Groups in the order of the volume's targets, then of causes. */
  finishGroups (): Group[] {
    const order = this.policy.targets.map(t => t.name)
    const causes = ['target-revoked', 'no-evidence', 'relay-not-holding', 'evidence-behind', 'custody-hole', 'evidence-age-unknown', 'evidence-stale', 'not-pushed', 'not-content-verified', 'not-held', 'held-for-peer', 'destination-unverified']
    return [...this.groups.values()]
      .map(g => ({ ...g, summary: summaryOf(g.target, g.cause, g.files) }))
      .sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target) || causes.indexOf(a.cause) - causes.indexOf(b.cause))
  }
}
