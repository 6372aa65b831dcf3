/**
 * The offload gate: a pure function over data loaded once per invocation (DESIGN invariants
 * 12 and 13). A file may be offloaded only if, for every target the volume requires, none of
 * these fails — checked in this order, the first failing one is the target's reason:
 *
 *  1. coverage    — a component for the file's origin node (`no-evidence`), at or above the
 *                   file's origin run (`evidence-behind`);
 *  2. age         — only under offload_max_evidence_age: a known verification instant
 *                   (`evidence-age-unknown`) no older than the limit (`evidence-stale`);
 *  3. re-acquired — for a target this node pushes to, the file's status must not have changed
 *                   after the last successful push to it; for a target only a peer reaches,
 *                   that peer's pulled push freshness must cover the file's origin run
 *                   (`not-pushed`);
 *  4. method      — content-verified only: sha256-readback or peer-sha256; presence+size,
 *                   none or unknown refuse, and so does a verify pass that failed after the
 *                   last successful push (`not-content-verified`).
 *
 * No requirement at all refuses everything; that is decided by the caller before the gate.
 */
import { isContentVerified } from '../verify-method.js'

export type Cause = 'no-evidence' | 'evidence-behind' | 'evidence-age-unknown' | 'evidence-stale' | 'not-pushed' | 'not-content-verified'

export interface GateComponent {
  originRunId: number
  verifyMethod: string | null
  verifiedAtNs: number | null
  /** NULL = verified by this node. */
  sourceNodeId: number | null
}

export interface GateTarget {
  /** As the operator names it (config name or peer name). */
  name: string
  /** The store key (directory name or node id). */
  key: string
  /** `pushed`: this node pushes to it (push_to); `relayed`: only a peer reaches it. */
  reach: 'pushed' | 'relayed'
  kind: 'directory' | 'peer' | 'unknown'
  /** The last successful push of this volume to the target (pushed targets). */
  lastPushRunId: number | null
  /** Live components by origin node row id. */
  components: ReadonlyMap<number, GateComponent>
  /** Pulled push freshness by origin node row id: the highest run a peer last pushed (relayed targets). */
  freshness: ReadonlyMap<number, number>
  /** A verify of this target that failed after its last successful push. */
  failedVerifyRunId: number | null
}

export interface GatePolicy {
  targets: readonly GateTarget[]
  /** undefined = no age limit. */
  maxEvidenceAgeNs: number | undefined
  nowNs: number
}

export interface GateFile {
  originNodeId: number
  originRunId: number
  statusChangedRunId: number
}

export interface Refusal {
  target: GateTarget
  cause: Cause
  /** The component the decision looked at, if there was one. */
  component: GateComponent | undefined
}

function check (policy: GatePolicy, t: GateTarget, f: GateFile): Refusal | undefined {
  const c = t.components.get(f.originNodeId)
  if (c === undefined) return { target: t, cause: 'no-evidence', component: undefined }
  if (c.originRunId < f.originRunId) return { target: t, cause: 'evidence-behind', component: c }
  if (policy.maxEvidenceAgeNs !== undefined) {
    if (c.verifiedAtNs === null) return { target: t, cause: 'evidence-age-unknown', component: c }
    if (policy.nowNs - c.verifiedAtNs > policy.maxEvidenceAgeNs) return { target: t, cause: 'evidence-stale', component: c }
  }
  if (t.reach === 'pushed') {
    if (t.lastPushRunId === null || f.statusChangedRunId > t.lastPushRunId) return { target: t, cause: 'not-pushed', component: c }
  } else {
    const fresh = t.freshness.get(f.originNodeId)
    if (fresh === undefined || fresh < f.originRunId) return { target: t, cause: 'not-pushed', component: c }
  }
  if (!isContentVerified(c.verifyMethod) || t.failedVerifyRunId !== null) return { target: t, cause: 'not-content-verified', component: c }
  return undefined
}

/** Every target's first failing condition for one file; empty means the file may be offloaded. */
export function gateFile (policy: GatePolicy, file: GateFile): Refusal[] {
  const out: Refusal[] = []
  for (const t of policy.targets) {
    const r = check(policy, t, file)
    if (r !== undefined) out.push(r)
  }
  return out
}
