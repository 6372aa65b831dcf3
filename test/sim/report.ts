/** How the simulator prints a failure: seed, category, file, target, and a replayable step list. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Failure } from './oracle.js'
import type { Replay, SeedResult } from './run.js'
import type { Step } from './steps.js'

export function replayOf (r: SeedResult, steps: Step[], failure: Failure): Replay {
  return { seed: r.seed, name: r.name, shape: r.shape, liveness: failure.category !== 'false-durable' || failure.step === 0, steps }
}

/** Writes the replay JSON next to the temp dir (or into SIM_REPRO_DIR) and returns its path. */
export function saveReplay (replay: Replay, failure: Failure): string {
  const dir = process.env.SIM_REPRO_DIR ?? join(tmpdir(), 'cairn-sim-repro')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${replay.name.replace(/[^a-z0-9-]+/gi, '_')}-${failure.category}-${failure.target.replace(/[^a-z0-9]+/gi, '_')}.json`)
  writeFileSync(file, JSON.stringify(replay, null, 1) + '\n')
  return file
}

export function formatFailure (r: SeedResult, failure: Failure, steps: Step[], file: string | undefined): string {
  const lines = [
    `FAIL ${failure.category} — ${r.name} (seed ${r.seed})`,
    `  node ${failure.node}, file ${failure.path}, target ${failure.target}`,
    `  ${failure.detail}`,
    `  shape: ${JSON.stringify(r.shape)}`,
    `  shortest reproduction (${steps.length} steps${failure.step === 0 ? ' + the clean cycle' : ''}):`,
    ...steps.map((s, i) => `    ${i + 1}. ${JSON.stringify(s)}`)
  ]
  if (file !== undefined) lines.push(`  replay: npm run sim -- --replay ${file}`)
  lines.push(`  or: npm run sim -- --seed ${r.seed} --steps '${JSON.stringify(steps)}' --shape '${JSON.stringify(r.shape)}'`)
  return lines.join('\n')
}
