/**
 * The offload gate: a pure function over data loaded once per invocation (DESIGN invariants
 * 12, 13, 19, 20, 28). A file may be offloaded only if every target the volume requires
 * passes; the first failing check is the target's reason.
 *
 *  - a **directory this node writes**: the file's path is placed there with the file's
 *    content (`not-pushed`), read back content-verified (`not-content-verified`), with a last
 *    real read inside the age limit (`evidence-stale`). A verify that found it damaged forgot
 *    the placement, so a partial push counts for exactly what it placed.
 *  - a **peer this node pushes to**: the peer is not revoked (`target-revoked`); this node
 *    placed the path there with the file's content (`not-pushed`); the peer's own custody
 *    (in its own signature) covers the version placed (`no-evidence`, `evidence-behind`,
 *    `custody-hole`), content-verified and inside the age limit.
 *  - a **directory only a peer reaches** (`PEER/NAME`): the chain of invariant 20 — the peer
 *    is not revoked, holds the file (this node placed it there and the peer's custody covers
 *    it, else `relay-not-holding`), and the peer's claim about the directory covers the same
 *    version (`no-evidence`, `evidence-behind`), content-verified, inside the age limit. Both
 *    claims come from the peer's latest accepted assertion (each replaces the peer's whole
 *    set), so the directory claim was computed no earlier than the custody it rests on.
 *
 * The hold of invariant 29 (`not-held`, `held-for-peer`) is taken by the offload after the
 * gate; a dry run reports what the gate alone decides. No requirement at all refuses
 * everything; that is decided by the caller before the gate.
 */
import { claimCovers, type Hole } from '../evidence/claims.js'
import { isContentVerified, PEER_SHA256 } from '../verify-method.js'

export type Cause = 'no-evidence' | 'evidence-behind' | 'evidence-age-unknown' | 'evidence-stale' | 'not-pushed' | 'not-content-verified' |
  'target-revoked' | 'custody-hole' | 'relay-not-holding' | 'not-held' | 'held-for-peer' | 'destination-unverified'

export interface GateComponent {
  originRunId: number
  verifyMethod: string | null
  verifiedAtNs: number | null
  /** NULL = verified by this node. */
  sourceNodeId: number | null
  exceptions: readonly Hole[]
  /** The lowest run the claim covers; absent = 1. */
  floorRunId?: number
}

export interface GatePlacement {
  contentId: number
  verifyMethod: string
  /** The last real read of the bytes at the destination. */
  verifiedAtNs: number
  originNodeId: number | null
  originRunId: number | null
}

export interface PlacementLookup {
  get: (path: string) => GatePlacement | undefined
}

export interface GateTarget {
  /** As the operator names it (config name, peer name, or PEER/NAME). */
  name: string
  /** The store key (directory name, node id, or `<node id>/<label>`). */
  key: string
  /** `pushed`: this node writes it; `relayed`: only a peer reaches it. */
  reach: 'pushed' | 'relayed'
  kind: 'directory' | 'peer' | 'unknown'
  /** The node row of the peer whose custody this target relies on (a peer, or a relay). */
  custodian: number | null
  /** The peer (or the relay) is revoked: the requirement always refuses. */
  revoked: boolean
  /**
   * Set by an offload that checked a directory this node writes, right before judging: its
   * marker is missing or not this node's (not the disk the evidence is about, or another node
   * took the directory over), so its placements prove nothing now.
   */
  unverified?: string
  /**
   * The store key whose placements the target is judged on: the directory this node writes,
   * or the custodian's node id; null when nothing is placed for it.
   */
  placementKey?: string | null
  /**
   * By path: this node's placements there. A file from `iterateGateRows(volume, keys)` carries
   * them already (one SQL join, streamed); this lookup is for a file that does not.
   */
  placements: PlacementLookup
  /** The custodian's custody by origin node row id (empty for a directory this node writes). */
  custody: ReadonlyMap<number, GateComponent>
  /** The claim the target is judged on, by origin: local claim, custody, or the relay's claim. */
  components: ReadonlyMap<number, GateComponent>
}

export interface GatePolicy {
  targets: readonly GateTarget[]
  /** undefined = no age limit. */
  maxEvidenceAgeNs: number | undefined
  nowNs: number
}

export interface GateFile {
  path: string
  contentId: number
  originNodeId: number
  originRunId: number
  statusChangedRunId: number
  /** The placement per policy target (same order), when the rows were read with a join. */
  placed?: ReadonlyArray<GatePlacement | undefined>
}

export interface Refusal {
  target: GateTarget
  cause: Cause
  /** The component the decision looked at, if there was one. */
  component: GateComponent | undefined
}

function ageRefusal (policy: GatePolicy, t: GateTarget, atNs: number | null, c: GateComponent | undefined): Refusal | undefined {
  if (policy.maxEvidenceAgeNs === undefined) return undefined
  if (atNs === null) return { target: t, cause: 'evidence-age-unknown', component: c }
  if (policy.nowNs - atNs > policy.maxEvidenceAgeNs) return { target: t, cause: 'evidence-stale', component: c }
  return undefined
}

/** The version this node placed at the custodian, when it is the file's content. */
function placedVersion (p: GatePlacement | undefined, f: GateFile): { originNodeId: number, originRunId: number } | undefined {
  if (p === undefined || p.contentId !== f.contentId || p.originNodeId === null || p.originRunId === null) return undefined
  return { originNodeId: p.originNodeId, originRunId: p.originRunId }
}

function check (policy: GatePolicy, t: GateTarget, f: GateFile, slot: number): Refusal | undefined {
  if (t.revoked) return { target: t, cause: 'target-revoked', component: undefined }
  if (t.unverified !== undefined) return { target: t, cause: 'destination-unverified', component: undefined }
  if (t.kind === 'unknown') return { target: t, cause: 'no-evidence', component: undefined }
  const p = f.placed !== undefined ? f.placed[slot] : t.placements.get(f.path)
  if (t.reach === 'pushed' && t.kind === 'directory') {
    if (p === undefined || p.contentId !== f.contentId) return { target: t, cause: 'not-pushed', component: t.components.get(f.originNodeId) }
    // the evidence judged is the placement itself: this node's own read of those bytes there
    const judged: GateComponent = { originRunId: p.originRunId ?? f.originRunId, verifyMethod: p.verifyMethod, verifiedAtNs: p.verifiedAtNs, sourceNodeId: null, exceptions: [] }
    if (!isContentVerified(p.verifyMethod)) return { target: t, cause: 'not-content-verified', component: judged }
    return ageRefusal(policy, t, p.verifiedAtNs, judged)
  }
  const placed = placedVersion(p, f)
  if (t.reach === 'pushed') {
    if (placed === undefined) return { target: t, cause: 'not-pushed', component: t.custody.get(f.originNodeId) }
    const c = t.custody.get(placed.originNodeId)
    if (c === undefined) return { target: t, cause: 'no-evidence', component: undefined }
    if (c.originRunId < placed.originRunId) return { target: t, cause: 'evidence-behind', component: c }
    if (!claimCovers(c, f.path, placed.originRunId)) return { target: t, cause: 'custody-hole', component: c }
    // custody is a node re-hashing its own bytes: only peer-sha256 says that
    if (c.verifyMethod !== PEER_SHA256) return { target: t, cause: 'not-content-verified', component: c }
    return ageRefusal(policy, t, c.verifiedAtNs, c)
  }
  // relayed: only through a chain that holds the file
  const custody = placed === undefined ? undefined : t.custody.get(placed.originNodeId)
  if (placed === undefined || custody === undefined || custody.verifyMethod !== PEER_SHA256 || !claimCovers(custody, f.path, placed.originRunId)) {
    return { target: t, cause: 'relay-not-holding', component: custody }
  }
  const d = t.components.get(placed.originNodeId)
  if (d === undefined) return { target: t, cause: 'no-evidence', component: undefined }
  if (!claimCovers(d, f.path, placed.originRunId)) return { target: t, cause: 'evidence-behind', component: d }
  if (!isContentVerified(d.verifyMethod)) return { target: t, cause: 'not-content-verified', component: d }
  return ageRefusal(policy, t, d.verifiedAtNs, d)
}

/** Every target's first failing condition for one file; empty means the file may be offloaded. */
export function gateFile (policy: GatePolicy, file: GateFile): Refusal[] {
  const out: Refusal[] = []
  policy.targets.forEach((t, slot) => {
    const r = check(policy, t, file, slot)
    if (r !== undefined) out.push(r)
  })
  return out
}
