/**
 * Runs one seed (random steps drawn with per-seed weights, or a given step list), judging
 * after every offload and at the end; and shrinks a failing step list by delta debugging.
 */
import { DEFAULT_REQUIRES, startFleet, type FleetShape, type NodeName } from './fleet.js'
import { checkSafety, liveness, newStats, type Failure, type Stats } from './oracle.js'
import { Prng } from './prng.js'
import { drawWeights, execute, generate, newWorld, prelude, type Step } from './steps.js'

export interface SeedSpec {
  seed: number
  /** Random steps to draw (ignored with `steps`). */
  budget: number
  /** A fixed step list (replay, aimed scenario, shrinking). */
  steps?: Step[]
  shape?: FleetShape
  /** Run the final clean cycle and liveness judgement (default true). */
  liveness?: boolean
  name?: string
  /** Stop at the first false durable (default true; shrinking a liveness failure keeps going). */
  stopAtFirst?: boolean
}

export interface SeedResult {
  seed: number
  name: string
  shape: FleetShape
  steps: Step[]
  failures: Failure[]
  stats: Stats
  errors: string[]
  log: string[]
  ms: number
  opMs: Map<string, [number, number]>
}

/** Per-seed fleet variants (the required shape most of the time). */
export function drawShape (rng: Prng): FleetShape {
  const laptop = rng.weighted({ base: 6, usb: 2, usbOnly: 1, nasOnly: 1 })
  const requires: Record<NodeName, string[]> = {
    laptop: laptop === 'base' ? DEFAULT_REQUIRES.laptop : laptop === 'usb' ? [...DEFAULT_REQUIRES.laptop, 'usb'] : laptop === 'usbOnly' ? ['usb'] : ['nas'],
    nas: rng.chance(0.2) ? [...DEFAULT_REQUIRES.nas, 'offsite'] : DEFAULT_REQUIRES.nas,
    // desk names nas `big`, and has its own directories labelled `usb` and `nas`
    desk: rng.pick([DEFAULT_REQUIRES.desk, DEFAULT_REQUIRES.desk, DEFAULT_REQUIRES.desk, [...DEFAULT_REQUIRES.desk, 'big/offsite'], [...DEFAULT_REQUIRES.desk, 'usb'], [...DEFAULT_REQUIRES.desk, 'nas']])
  }
  const maxAge: FleetShape['maxAge'] = rng.chance(0.1) ? { laptop: '1h' } : {}
  return { requires, maxAge }
}

export async function runSeed (spec: SeedSpec): Promise<SeedResult> {
  const t0 = performance.now()
  const rng = new Prng(spec.seed)
  const shape = spec.shape ?? drawShape(rng)
  const weights = drawWeights(rng)
  const fleet = await startFleet(shape)
  const w = newWorld(fleet)
  const stats = newStats()
  const failures: Failure[] = []
  const done: Step[] = []
  const opening = spec.steps === undefined ? prelude(rng) : []
  try {
    const total = spec.steps?.length ?? spec.budget
    const stop = spec.stopAtFirst !== false
    for (let i = 0; i < total && (!stop || failures.length === 0); i++) {
      const step = spec.steps?.[i] ?? opening[i] ?? generate(w, rng, weights)
      done.push(step)
      const r = await execute(w, step)
      stats.steps++
      w.log.push(`${i + 1}. ${JSON.stringify(step)} → ${r.note}`)
      for (const c of r.check ?? []) checkSafety(w, c, stats, failures, i + 1)
    }
    if ((!stop || failures.length === 0) && spec.liveness !== false) await liveness(w, stats, failures)
  } finally {
    await fleet.close()
  }
  return { seed: spec.seed, name: spec.name ?? `seed ${spec.seed}`, shape, steps: done, failures, stats, errors: w.errors, log: w.log, ms: performance.now() - t0, opMs: w.opMs }
}

function sameFailure (a: Failure, b: Failure): boolean {
  return a.category === b.category && a.target === b.target && (a.category === 'false-durable' || a.node === b.node)
}

/**
 * ddmin over the step list: re-run from a fresh fleet with chunks removed, keep any smaller list
 * that still fails the same way (category and target), at most `maxRuns` re-runs.
 */
export async function shrink (result: SeedResult, target: Failure | undefined, maxRuns: number, onProgress?: (runs: number, len: number) => void): Promise<{ steps: Step[], failure: Failure, runs: number }> {
  const first = target ?? result.failures[0]
  if (first === undefined) throw new Error('nothing to shrink')
  // a safety failure needs no step after the one that exposed it
  let steps = first.step > 0 ? result.steps.slice(0, first.step) : result.steps
  let failure = first
  let runs = 0
  const fails = async (candidate: Step[]): Promise<Failure | undefined> => {
    runs++
    const live = first.category !== 'false-durable'
    const r = await runSeed({ seed: result.seed, budget: 0, steps: candidate, shape: result.shape, liveness: live || first.step === 0, stopAtFirst: !live })
    onProgress?.(runs, candidate.length)
    return r.failures.find(f => sameFailure(f, first))
  }
  let n = 2
  while (steps.length >= 2 && runs < maxRuns) {
    const size = Math.ceil(steps.length / n)
    let reduced = false
    for (let i = 0; i < n && runs < maxRuns; i++) {
      const complement = [...steps.slice(0, i * size), ...steps.slice((i + 1) * size)]
      if (complement.length === steps.length) continue
      const f = await fails(complement)
      if (f !== undefined) {
        steps = f.step > 0 ? complement.slice(0, f.step) : complement
        failure = f
        n = Math.max(n - 1, 2)
        reduced = true
        break
      }
    }
    if (!reduced) {
      if (n >= steps.length) break
      n = Math.min(steps.length, n * 2)
    }
  }
  return { steps, failure, runs }
}

/** The replay document `npm run sim -- --replay FILE` accepts. */
export interface Replay {
  seed: number
  name: string
  shape: FleetShape
  liveness: boolean
  steps: Step[]
}
