/**
 * `npm run sim -- --seeds N --steps M [--seed S] [--scenarios] [--replay FILE] [--shrink K]`
 *
 *   --seeds N      random seeds to run (default 200), starting at --seed (default 1)
 *   --steps M      random steps per seed (default 40); or a JSON step list to replay with --seed
 *   --shape JSON   fleet shape for a replayed step list (default: drawn from the seed)
 *   --replay FILE  replay one JSON document written on a failure
 *   --scenarios    run the aimed scenarios too; --scenario NAME runs one
 *   --shrink K     re-runs allowed to shrink each distinct failure (default 40; 0 = off)
 *   --verbose      print every step of failing runs (--log: of every run)
 */
import '../../src/shim.js'
import { readFileSync } from 'node:fs'
import type { FleetShape } from './fleet.js'
import type { Failure } from './oracle.js'
import { formatFailure, replayOf, saveReplay } from './report.js'
import { runSeed, shrink, type Replay, type SeedResult, type SeedSpec } from './run.js'
import { SCENARIOS } from './scenarios.js'
import type { Step } from './steps.js'

function arg (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`)

const out = (s: string): void => { process.stdout.write(s + '\n') }

async function main (): Promise<number> {
  const shrinkRuns = Number(arg('shrink') ?? 40)
  const specs: SeedSpec[] = []
  const replayFile = arg('replay')
  const stepsArg = arg('steps')
  if (replayFile !== undefined) {
    const r = JSON.parse(readFileSync(replayFile, 'utf8')) as Replay
    specs.push({ seed: r.seed, name: r.name, budget: 0, steps: r.steps, shape: r.shape, liveness: r.liveness })
  } else if (stepsArg !== undefined && stepsArg.trim().startsWith('[')) {
    const shape = arg('shape')
    specs.push({ seed: Number(arg('seed') ?? 1), budget: 0, steps: JSON.parse(stepsArg) as Step[], shape: shape === undefined ? undefined : JSON.parse(shape) as FleetShape })
  } else {
    const first = Number(arg('seed') ?? 1)
    const n = arg('scenario') !== undefined && arg('seeds') === undefined ? 0 : arg('seed') !== undefined && arg('seeds') === undefined ? 1 : Number(arg('seeds') ?? 200)
    const budget = Number(stepsArg ?? 40)
    const only = arg('scenario')
    if (flag('scenarios') || only !== undefined) for (const s of SCENARIOS.filter(x => only === undefined || x.name === only)) specs.push({ seed: s.seed, name: s.name, budget: 0, steps: s.steps, shape: s.shape, liveness: s.liveness })
    for (let i = 0; i < n; i++) specs.push({ seed: first + i, budget })
  }

  const t0 = performance.now()
  const totals = { seeds: 0, steps: 0, offloadsChecked: 0, filesOffloaded: 0, dryRunPassesChecked: 0, dryRunOptimistic: 0, undetectedDamage: 0, livenessFilesJudged: 0, failingSeeds: 0, errors: 0 }
  const byKind = new Map<string, { count: number, first: SeedResult, failure: Failure }>()
  const refusals = new Map<string, number>()
  const opMs = new Map<string, [number, number]>()
  let lastProgress = 0
  let stopping = false
  process.once('SIGTERM', () => { stopping = true; out('SIGTERM: finishing the current run, then reporting what was found') })
  process.once('SIGINT', () => { stopping = true; out('SIGINT: finishing the current run, then reporting what was found') })
  for (const spec of specs) {
    if (stopping) break
    const r = await runSeed(spec)
    totals.seeds++
    for (const k of ['steps', 'offloadsChecked', 'filesOffloaded', 'dryRunPassesChecked', 'dryRunOptimistic', 'undetectedDamage', 'livenessFilesJudged'] as const) totals[k] += r.stats[k]
    totals.errors += r.errors.length
    for (const [k, [c, ms]] of r.opMs) { const e = opMs.get(k) ?? [0, 0]; e[0] += c; e[1] += ms; opMs.set(k, e) }
    for (const [k, v] of Object.entries(r.stats.refusals)) refusals.set(k, (refusals.get(k) ?? 0) + v)
    if (r.errors.length > 0 && flag('verbose')) for (const e of r.errors.slice(0, 3)) out(`  error in ${r.name}: ${e}`)
    if (r.failures.length > 0) {
      totals.failingSeeds++
      // said at once: a long run stopped by a time limit keeps what it found
      for (const f of r.failures.slice(0, 3)) out(`FAILING ${r.name}: ${f.category} on ${f.node}, ${f.path}, target ${f.target}: ${f.detail.slice(0, 300)}`)
      for (const f of r.failures) {
        const key = `${f.category} ${f.target}${spec.steps !== undefined && spec.name !== undefined ? ` [${spec.name}]` : ''}`
        const e = byKind.get(key)
        if (e === undefined) byKind.set(key, { count: 1, first: r, failure: f })
        else e.count++
      }
      if (flag('verbose') && !flag('log')) out(r.log.join('\n'))
    }
    if (flag('log')) out(`--- ${r.name}\n${r.log.join('\n')}`)
    const now = performance.now()
    if (now - lastProgress > 5000 || totals.seeds === specs.length) {
      lastProgress = now
      out(`[${((now - t0) / 1000).toFixed(0)}s] ${totals.seeds}/${specs.length} runs, ${totals.steps} steps, ${totals.offloadsChecked} offloads checked, ${totals.failingSeeds} failing runs`)
    }
  }
  out('')
  for (const [key, e] of byKind) {
    out(`== ${key}: ${e.count} occurrence(s), first in ${e.first.name}`)
    let steps = e.first.steps
    let failure = e.failure
    if (shrinkRuns > 0) {
      const s = await shrink(e.first, e.failure, shrinkRuns, (runs, len) => { if (runs % 10 === 0) out(`   shrinking: ${runs} re-runs, ${len} steps`) })
      steps = s.steps
      failure = s.failure
    }
    const file = saveReplay(replayOf(e.first, steps, failure), failure)
    out(formatFailure(e.first, failure, steps, file))
    out('')
  }
  if (flag('profile')) out(`time per step kind (count, total s, mean ms): ${[...opMs].sort((a, b) => b[1][1] - a[1][1]).map(([k, [c, ms]]) => `${k} ${c} ${(ms / 1000).toFixed(1)}s ${(ms / c).toFixed(0)}ms`).join('; ')}`)
  out(`refusals by target:cause (files, real offloads): ${[...refusals].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ')}`)
  out(`summary: ${totals.seeds} runs, ${totals.steps} steps, ${totals.offloadsChecked} offloads checked, ${totals.filesOffloaded} files offloaded, ${totals.dryRunPassesChecked} dry-run passes checked (${totals.dryRunOptimistic} optimistic: refused by the hold when real), ${totals.livenessFilesJudged} files judged for liveness, ${totals.undetectedDamage} undetected-damage, ${totals.errors} unexpected errors, ${totals.failingSeeds} failing runs, ${byKind.size} distinct failures, ${((performance.now() - t0) / 1000).toFixed(1)}s`)
  return byKind.size === 0 ? 0 : 1
}

main().then(code => { process.exitCode = code }, (err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 2 })
