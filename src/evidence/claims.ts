/**
 * What this node may claim (DESIGN "What a component claims", invariant 19), computed from
 * everything it holds — never from one push's snapshot maxima.
 *
 * Inputs: every file row of the volume (superseded ones included) and this node's placements.
 * For origin O, the rows of origin O form the set of versions this node ever held under O.
 *
 *  - **custody** (destination = this node): every version of origin O with run <= R that this
 *    node received or indexed is on its disk now. A version is *held* when the path's present
 *    row has the same content (whatever origin it is recorded under now). It is a *hole*
 *    otherwise: the live row is missing or offloaded, or the path now holds other content —
 *    even a newer version of the same origin (a third node may still hold the old one and
 *    rely on this node's copy of it). A receiver conflict (src/store/conflicts.ts) is a hole
 *    too: the pusher's version it kept out is not here, and a present row whose file was
 *    found changed on disk is not held until an index records what is there.
 *  - **about a directory D this node writes**: every version of origin O with run <= R whose
 *    bytes this node holds is content-verified at D: placed there with that content. A held
 *    version not placed is a hole.
 *
 * Holes become a bounded list of exceptions: (path, run) is exactly that version, not covered.
 * Past the budget (per claim, and shared over the assertion by count and path bytes, so peers
 * can always read it) the claim keeps its newest holes and raises its floor above the first
 * that does not fit: versions older than the floor are not covered, newer ones still are. R is the highest run of origin O this node knows, so
 * a claim never reaches past what this node has seen. `verifiedAtNs` is the oldest real read
 * behind the covered versions (invariant 22): this node's own read of its bytes for custody,
 * the placement's last read for a directory.
 */
import { MAX_EXCEPTIONS_PER_ASSERTION, MAX_EXCEPTIONS_PER_COMPONENT } from '../protocol/limits.js'
import type { Store } from '../store/store.js'
import { PEER_SHA256, PRESENCE_SIZE, SHA256_READBACK, type VerifyMethod } from '../verify-method.js'

/** Exceptions one claim may carry; past it the claim is capped instead (the wire's bound). */
export const MAX_EXCEPTIONS_PER_CLAIM = MAX_EXCEPTIONS_PER_COMPONENT
/**
 * Bytes of exception paths one assertion may carry over all its claims: with the components
 * themselves it stays well inside MAX_FRAME_BYTES, so every peer can read what this node signs.
 */
export const MAX_EXCEPTION_PATH_BYTES_PER_ASSERTION = 8 * 1024 * 1024

/** What one claim may spend on exceptions: shared fairly by all claims of one assertion. */
export interface ExceptionBudget {
  count: number
  bytes: number
}

export function exceptionBudget (claims: number): ExceptionBudget {
  const n = Math.max(1, claims)
  return {
    count: Math.min(MAX_EXCEPTIONS_PER_CLAIM, Math.floor(MAX_EXCEPTIONS_PER_ASSERTION / n)),
    bytes: Math.floor(MAX_EXCEPTION_PATH_BYTES_PER_ASSERTION / n)
  }
}

export interface Hole {
  path: string
  run: number
}

export interface LocalClaim {
  /** This node's id for custody, else a directory destination's store key. */
  destination: string
  originNodeId: number
  originRunId: number
  /** The lowest run covered (1 = from the first). */
  floorRunId: number
  verifyMethod: VerifyMethod
  verifiedAtNs: number | null
  exceptions: Hole[]
}

interface Acc {
  maxRun: number
  /** The versions not covered, as `path\u0000run` (each once). */
  holes: Map<string, Hole>
  /**
   * Covered versions, per run: the oldest read instant among them (null = one was never read).
   * One entry a run, not one a file: the claim needs only which runs are covered and their
   * oldest read.
   */
  covered: Map<number, number | null>
  weak: boolean
}

function acc (): Acc {
  return { maxRun: 0, holes: new Map(), covered: new Map(), weak: false }
}

function cover (a: Acc, run: number, readAtNs: number | null): void {
  const had = a.covered.get(run)
  if (had === undefined && !a.covered.has(run)) a.covered.set(run, readAtNs)
  else if (had !== null && had !== undefined) a.covered.set(run, readAtNs === null ? null : Math.min(had, readAtNs))
}

/** Turns the versions seen for one (destination, origin) into a claim, or undefined. */
function hole (a: Acc, path: string, run: number): void {
  a.holes.set(`${path}\u0000${run}`, { path, run })
}

function finish (destination: string, originNodeId: number, a: Acc, method: VerifyMethod, budget: ExceptionBudget): LocalClaim | undefined {
  // newest holes first while the budget lasts; the first that does not fit sets the floor
  const holes: Hole[] = [...a.holes.values()]
    .sort((x, y) => y.run - x.run || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
  const r = a.maxRun
  let floor = 1
  let bytes = 0
  let fit = 0
  for (const h of holes) {
    bytes += Buffer.byteLength(h.path)
    if (fit + 1 > budget.count || bytes > budget.bytes) break
    fit++
  }
  let exceptions = holes
  if (fit < holes.length) {
    floor = (holes[fit] as Hole).run + 1
    exceptions = holes.slice(0, fit).filter(h => h.run >= floor)
  }
  const inRange = (run: number): boolean => run >= floor && run <= r
  let anyCovered = false
  for (const run of a.covered.keys()) if (inRange(run)) { anyCovered = true; break }
  if (floor > r || !anyCovered) return undefined
  exceptions.sort((x, y) => x.run - y.run || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
  // the oldest read behind the covered versions; null when one of them was never read
  let verifiedAtNs: number | null = null
  let first = true
  for (const [run, readAtNs] of a.covered) {
    if (!inRange(run)) continue
    if (readAtNs === null) { verifiedAtNs = null; break }
    verifiedAtNs = first ? readAtNs : Math.min(verifiedAtNs as number, readAtNs)
    first = false
  }
  return { destination, originNodeId, originRunId: r, floorRunId: floor, verifyMethod: a.weak ? PRESENCE_SIZE : method, verifiedAtNs, exceptions }
}

/**
 * This node's claims for a volume: custody under `selfKey`, and one claim per origin for each
 * directory destination in `directories` (store keys). Pure read; nothing is written.
 */
export function computeLocalClaims (store: Store, volumeId: number, selfKey: string, directories: readonly string[]): LocalClaim[] {
  // its several reads see one state of the store: inside the caller's transaction, or one of its own
  if (store.db.inTransaction) return compute(store, volumeId, selfKey, directories)
  return store.db.transaction(() => compute(store, volumeId, selfKey, directories)).deferred()
}

function compute (store: Store, volumeId: number, selfKey: string, directories: readonly string[]): LocalClaim[] {
  const conflicts = store.conflicts.forVolume(volumeId)
  // a local edit a receive kept, and a row a receive is replacing (or was, when killed), are not held
  const drifted = new Set([...conflicts.flatMap(c => c.localFileId === null ? [] : [c.localFileId]), ...store.conflicts.replacingIds(volumeId)])
  // two streamed passes over the rows (the present ones, then all), none held: 100,000 rows
  // kept as objects for the second pass were most of this function's memory and time
  const present = new Map<string, { id: number, contentId: number, originNodeId: number, originRunId: number, readAtNs: number | null }>()
  for (const r of store.files.iterateClaimRows(volumeId, 'present')) if (!drifted.has(r.id)) present.set(r.path, r)
  const placements = directories.map(d => ({ key: d, byPath: store.placements.forVolume(d, volumeId) }))

  const custody = new Map<number, Acc>()
  const dirs = placements.map(() => new Map<number, Acc>())
  const get = (m: Map<number, Acc>, o: number): Acc => {
    let a = m.get(o)
    if (a === undefined) { a = acc(); m.set(o, a) }
    return a
  }
  // one version per (origin, path, run, content): superseded re-recordings of the same bytes
  // repeat it. The version a path's present row records is counted at that row (no key to build
  // for the common path of one row); any other version is counted the first time it is met.
  const seen = new Set<string>()
  for (const r of store.files.iterateClaimRows(volumeId)) {
    const now = present.get(r.path)
    if (now !== undefined && now.contentId === r.contentId && now.originNodeId === r.originNodeId && now.originRunId === r.originRunId) {
      if (r.id !== now.id) continue
    } else {
      const id = `${r.originNodeId}\u0000${r.originRunId}\u0000${r.path}\u0000${r.contentId}`
      if (seen.has(id)) continue
      seen.add(id)
    }
    const c = get(custody, r.originNodeId)
    c.maxRun = Math.max(c.maxRun, r.originRunId)
    const held = now !== undefined && now.contentId === r.contentId
    if (!held) {
      hole(c, r.path, r.originRunId)
      continue
    }
    cover(c, r.originRunId, now.readAtNs)
    placements.forEach((d, i) => {
      const a = get(dirs[i] as Map<number, Acc>, r.originNodeId)
      a.maxRun = Math.max(a.maxRun, r.originRunId)
      const p = d.byPath.get(r.path)
      if (p === undefined || p.contentId !== r.contentId) {
        hole(a, r.path, r.originRunId)
        return
      }
      if (p.verifyMethod !== SHA256_READBACK) a.weak = true
      cover(a, r.originRunId, p.verifiedAtNs)
    })
  }
  // the versions pushers offered and this node kept out (invariant 25) are holes in custody
  for (const k of conflicts) {
    const c = get(custody, k.originNodeId)
    c.maxRun = Math.max(c.maxRun, k.originRunId)
    hole(c, k.path, k.originRunId)
  }
  const out: LocalClaim[] = []
  const budget = exceptionBudget(custody.size + dirs.reduce((n, m) => n + m.size, 0))
  for (const [o, a] of custody) {
    const claim = finish(selfKey, o, a, PEER_SHA256, budget)
    if (claim !== undefined) out.push(claim)
  }
  placements.forEach((d, i) => {
    for (const [o, a] of dirs[i] as Map<number, Acc>) {
      const claim = finish(d.key, o, a, SHA256_READBACK, budget)
      if (claim !== undefined) out.push(claim)
    }
  })
  return out
}

/** Whether a claim covers the version (path, run) of its origin: inside [floor, R], not excepted. */
export function claimCovers (claim: { originRunId: number, floorRunId?: number, exceptions: readonly Hole[] }, path: string, run: number): boolean {
  if (run > claim.originRunId || run < (claim.floorRunId ?? 1)) return false
  return !claim.exceptions.some(h => h.path === path && h.run === run)
}
