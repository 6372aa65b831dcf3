import { describe, expect, it } from 'vitest'
import { runBatch, scenarioSpecs, seedSpecs, SIM_SEEDS, SIM_STEPS } from './suite.js'

// The random seeds are split over two files so vitest's two workers share them.
describe('fleet simulator', () => {
  it('never offloads a file whose exact bytes are not on every required target, and opens the gate after a clean cycle: the audit reproductions, aimed', async () => {
    const v = await runBatch(scenarioSpecs())
    console.log(`sim scenarios: ${v.summary}`)
    expect(v.report, v.report).toBe('')
  }, 240_000)

  it(`never offloads a file whose exact bytes are not on every required target, and opens the gate after a clean cycle: ${SIM_SEEDS} seeds × ${SIM_STEPS} steps, shard 1/2`, async () => {
    const v = await runBatch(seedSpecs(0, 2))
    console.log(`sim seeds shard 1/2: ${v.summary}`)
    expect(v.report, v.report).toBe('')
  }, 400_000)
})
