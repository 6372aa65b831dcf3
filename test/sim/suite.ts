/**
 * The simulator's CI form: runs a batch (aimed scenarios or a shard of the random seeds),
 * shrinks the first occurrence of each distinct failure within a bounded number of re-runs,
 * and returns a printable verdict.
 */
import type { Failure } from './oracle.js'
import { formatFailure, replayOf, saveReplay } from './report.js'
import { runSeed, shrink, type SeedResult, type SeedSpec } from './run.js'
import { SCENARIOS } from './scenarios.js'

export const SIM_SEEDS = Number(process.env.SIM_SEEDS ?? 120)
export const SIM_STEPS = Number(process.env.SIM_STEPS ?? 40)
/** Re-runs the shrinker may spend per batch (all failures together). */
export const SIM_SHRINK_RUNS = Number(process.env.SIM_SHRINK ?? 24)

export interface BatchVerdict {
  runs: number
  failures: number
  summary: string
  /** Empty when nothing failed; else every distinct failure with its shortest reproduction. */
  report: string
}

export function scenarioSpecs (): SeedSpec[] {
  return SCENARIOS.map(s => ({ seed: s.seed, name: s.name, budget: 0, steps: s.steps, shape: s.shape, liveness: s.liveness }))
}

/** Seeds 1..SIM_SEEDS, every `shards`-th one starting at `shard` (0-based). */
export function seedSpecs (shard: number, shards: number): SeedSpec[] {
  const out: SeedSpec[] = []
  for (let seed = 1 + shard; seed <= SIM_SEEDS; seed += shards) out.push({ seed, budget: SIM_STEPS })
  return out
}

export async function runBatch (specs: SeedSpec[], shrinkRuns = SIM_SHRINK_RUNS): Promise<BatchVerdict> {
  const t0 = performance.now()
  const kinds = new Map<string, { count: number, first: SeedResult, failure: Failure }>()
  let steps = 0
  let offloads = 0
  let offloaded = 0
  let undetected = 0
  let errors = 0
  let failing = 0
  for (const spec of specs) {
    const r = await runSeed(spec)
    steps += r.stats.steps
    offloads += r.stats.offloadsChecked
    offloaded += r.stats.filesOffloaded
    undetected += r.stats.undetectedDamage
    errors += r.errors.length
    if (r.failures.length > 0) failing++
    for (const f of r.failures) {
      const key = `${f.category} ${f.target}${spec.steps !== undefined ? ` [${r.name}]` : ''}`
      const e = kinds.get(key)
      if (e === undefined) kinds.set(key, { count: 1, first: r, failure: f })
      else e.count++
    }
  }
  const parts: string[] = []
  let budget = shrinkRuns
  for (const [key, e] of kinds) {
    let steps = e.first.steps
    let failure = e.failure
    if (budget > 0 && e.first.steps.length > 1) {
      const s = await shrink(e.first, e.failure, Math.min(budget, 12))
      budget -= s.runs
      steps = s.steps
      failure = s.failure
    }
    const file = saveReplay(replayOf(e.first, steps, failure), failure)
    parts.push(`== ${key}: ${e.count} occurrence(s)\n${formatFailure(e.first, failure, steps, file)}`)
  }
  const summary = `${specs.length} runs, ${steps} steps, ${offloads} offloads checked, ${offloaded} files offloaded, ${undetected} undetected-damage, ${errors} unexpected errors, ${failing} failing runs, ${kinds.size} distinct failures, ${((performance.now() - t0) / 1000).toFixed(1)}s`
  return { runs: specs.length, failures: kinds.size, summary, report: parts.join('\n\n') }
}
