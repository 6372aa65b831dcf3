/**
 * The judge. Safety: every file an offload marked offloaded has its exact indexed bytes, at
 * that moment, at every required target's true location — unless damage the simulator injected
 * there has not been seen by any real read since (then it is counted as undetected damage, not
 * a failure). Liveness: after a clean cycle, a dry-run offload passes every present file whose
 * bytes truly are at every required target.
 */
import { DIR_OWNER, DIRS, locationOf, NODES, type Fleet, type Location, type NodeName } from './fleet.js'
import { execute, offloadOn, SIM_HOLD_MS, type At, type OffloadCheck, type Step, type World } from './steps.js'
import { trueHash } from './truth.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MARKER_FILE, parseMarker } from '../../src/push/destination-marker.js'

function readText (path: string): string | undefined {
  try { return readFileSync(path, 'utf8') } catch { return undefined }
}

/**
 * false-durable: a real offload deleted a file whose bytes are not on a required target;
 * gate-never-opens: liveness. A dry run that passes such a file deletes nothing: it reports
 * what the evidence this node holds proves, and the real offload checks "now" with holds
 * (invariant 29). It is counted (`dryRunOptimistic`), and the real offload of `.` that ends
 * every seed is judged for safety like any other.
 */
export type Category = 'false-durable' | 'gate-never-opens'

export interface Failure {
  category: Category
  node: NodeName
  path: string
  target: string
  detail: string
  /** 1-based index of the step that exposed it (0: the final liveness cycle). */
  step: number
}

export interface Stats {
  steps: number
  offloadsChecked: number
  filesOffloaded: number
  dryRunPassesChecked: number
  undetectedDamage: number
  livenessFilesJudged: number
  /** Dry-run passes of files whose bytes were not at a required target (no deletion; see Category). */
  dryRunOptimistic: number
  /** Files refused by real offloads, per `target:cause`. */
  refusals: Record<string, number>
}

export function newStats (): Stats {
  return { steps: 0, offloadsChecked: 0, filesOffloaded: 0, dryRunPassesChecked: 0, undetectedDamage: 0, livenessFilesJudged: 0, dryRunOptimistic: 0, refusals: {} }
}

function describe (fleet: Fleet, l: Location): string {
  return l.kind === 'node' ? `${l.node}'s volume` : `${l.dir} (${DIR_OWNER[l.dir]}'s directory)`
}

/** Checks one offload (or a dry run's passes) against the true bytes. */
export function checkSafety (w: World, c: OffloadCheck, stats: Stats, failures: Failure[], step: number, dryRun = false): void {
  const s = w.fleet.nodes[c.node]
  const maxAgeMs = s.volume.offloadMaxEvidenceAgeMs
  if (dryRun) stats.dryRunPassesChecked += c.offloaded.length
  else {
    stats.offloadsChecked++
    stats.filesOffloaded += c.offloaded.length
    for (const g of c.report.groups) stats.refusals[`${g.target}:${g.cause}`] = (stats.refusals[`${g.target}:${g.cause}`] ?? 0) + g.files
  }
  for (const f of c.offloaded) {
    for (const target of s.volume.offloadRequires) {
      const loc = locationOf(target, c.node)
      if (loc === undefined) continue
      const actual = trueHash(w.fleet, loc, f.path)
      if (actual === f.hash) continue
      if (w.damage.unseen(loc, f.path, maxAgeMs) !== undefined) {
        stats.undetectedDamage++
        continue
      }
      if (dryRun) {
        stats.dryRunOptimistic++
        continue
      }
      failures.push({
        category: 'false-durable',
        node: c.node,
        path: f.path,
        target,
        step,
        detail: `offload on ${c.node} passed ${f.path} (sha256 ${f.hash.slice(0, 12)}) but ${describe(w.fleet, loc)} holds ${actual === null ? 'nothing' : `sha256 ${actual.slice(0, 12)}`} there`
      })
    }
  }
}

function revokedEitherWay (w: World, a: NodeName, b: NodeName): boolean {
  return w.fleet.peerRow(a, b).revokedAtNs !== null || w.fleet.peerRow(b, a).revokedAtNs !== null
}

/** Whether the liveness judge expects `target` to be satisfiable from `node` at all. */
function judged (w: World, node: NodeName, target: string): boolean {
  const loc = locationOf(target, node)
  if (loc === undefined) return false
  if (loc.kind === 'node') return !revokedEitherWay(w, node, loc.node)
  const owner = DIR_OWNER[loc.dir]
  // a directory another node took over (its marker lost, then that node pushed first) is no
  // longer its owner's to fill: the owner's pushes are refused until an operator acts
  const marker = parseMarker(readText(join(w.fleet.dirs[loc.dir].path, MARKER_FILE)))
  if (marker.kind === 'v2' && marker.ownerNodeId !== w.fleet.nodes[owner].n.key.nodeId) return false
  // a relayed directory reaches this node through its owner
  return owner === node || !revokedEitherWay(w, node, owner)
}

/** The edges of the clean cycle, in dependency order. */
const CYCLE_PUSHES: Array<[NodeName, string]> = [['laptop', 'nas'], ['desk', 'big'], ['nas', 'offsite'], ['nas', 'laptop'], ['laptop', 'usb'], ['desk', 'usb'], ['desk', 'nas']]

/**
 * The clean cycle, then the liveness judgement. Disks come back and a destination whose
 * marker was removed is reset by its operator first (the act that clears that refusal).
 */
export async function liveness (w: World, stats: Stats, failures: Failure[]): Promise<void> {
  // holds taken by the seed's last offloads end first: a held file is (rightly) not replaced on
  // receive, and the cycle's two push rounds must not spend one round waiting on a hold
  const now = Date.now() * 1e6
  let lastHoldNs = 0
  for (const n of NODES) {
    const row = w.fleet.nodes[n].n.store.db.prepare("SELECT max(expires_at_ns) FROM holds WHERE kind = 'granted' AND released_at_ns IS NULL").pluck().get() as number | null
    if (row !== null) lastHoldNs = Math.max(lastHoldNs, row)
  }
  const cycle: Step[] = lastHoldNs > now ? [{ op: 'sleep', ms: Math.min(SIM_HOLD_MS, Math.ceil((lastHoldNs - now) / 1e6)) + 100 }] : []
  // whole disks first (path ''), then the subtrees that go back onto them
  for (const key of [...w.unmounted].sort((a, b) => Number(!a.endsWith('\u0000')) - Number(!b.endsWith('\u0000')))) {
    const [at, path] = key.split('\u0000') as [At, string]
    cycle.push({ op: 'remount', at, path })
  }
  for (const d of [...w.unmarked]) cycle.push({ op: 'reset', dir: d })
  for (const n of NODES) cycle.push({ op: 'index', node: n })
  for (const d of DIRS) cycle.push({ op: 'verify', dir: d })
  for (let round = 0; round < 2; round++) for (const [node, to] of CYCLE_PUSHES) cycle.push({ op: 'push', node, to })
  for (const a of NODES) for (const b of NODES) if (a !== b) cycle.push({ op: 'pull', node: a, from: b })
  const notes: string[] = []
  for (const s of cycle) notes.push(`${JSON.stringify(s)} → ${(await execute(w, s)).note}`)
  w.log.push(...notes.map(n => `[cycle] ${n}`))

  for (const node of NODES) {
    const s = w.fleet.nodes[node]
    if (s.volume.offloadRequires.length === 0) continue
    const c = await offloadOn(w, node, '.', true)
    checkSafety(w, c, stats, failures, 0, true)
    const targets = s.volume.offloadRequires.filter(t => judged(w, node, t))
    if (targets.length === 0) continue
    for (const fr of c.report.files ?? []) {
      if (fr.outcome === 'offloaded') continue
      const here = trueHash(w.fleet, { kind: 'node', node }, fr.path)
      if (here === null) continue
      stats.livenessFilesJudged++
      const everywhere = targets.every(t => {
        const loc = locationOf(t, node)
        return loc !== undefined && trueHash(w.fleet, loc, fr.path) === here
      })
      if (!everywhere) continue
      // only refusals for judged targets count; a revoked target's refusal is expected
      const relevant = fr.reasons.filter(r => targets.includes(r.target))
      if (relevant.length === 0) continue
      failures.push({
        category: 'gate-never-opens',
        node,
        path: fr.path,
        target: relevant.map(r => r.target).join('+'),
        step: 0,
        detail: `after a clean cycle ${node} refuses ${fr.path} although its bytes are at ${targets.join(', ')}: ${relevant.map(r => `${r.target}:${r.cause} (${r.detail}; ${r.provenance})`).join(' | ')}`
      })
    }
  }
  // then the real thing, node by node: whatever the dry runs promised, a real offload must keep safe
  for (const node of NODES) {
    if (w.fleet.nodes[node].volume.offloadRequires.length === 0) continue
    const r = await execute(w, { op: 'offload', node, selector: '.' })
    w.log.push(`[cycle] {"op":"offload","node":"${node}","selector":"."} → ${r.note}`)
    for (const c of r.check ?? []) checkSafety(w, c, stats, failures, 0)
  }
}
