import { describe, expect, it } from 'vitest'
import { runBatch, seedSpecs, SIM_SEEDS, SIM_STEPS } from './suite.js'

describe('fleet simulator', () => {
  it(`never offloads a file whose exact bytes are not on every required target, and opens the gate after a clean cycle: ${SIM_SEEDS} seeds × ${SIM_STEPS} steps, shard 2/2`, async () => {
    const v = await runBatch(seedSpecs(1, 2))
    console.log(`sim seeds shard 2/2: ${v.summary}`)
    expect(v.report, v.report).toBe('')
  }, 400_000)
})
