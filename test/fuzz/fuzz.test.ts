/**
 * CI's share of the fuzzer: 20,000 seeded inputs over every decoder (the weighted rotation of
 * engine.ts), none of which may crash a decoder, hang a frame read past its deadline, take more
 * than SLOW_INPUT_MS, disagree with the reference check of the field rules, or fail to survive
 * a re-encoding. Every finding recorded in test/fuzz/findings/ is replayed from its stored
 * input as a regression test. `npm run fuzz` runs 1,000,000 (see README.md).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../../src/errors.js'
import { checkSync, generateCase, replayFinding, runFuzz, schedule, TARGET_NAMES, type Finding } from './engine.js'
import { SYNC_TARGETS, type Case } from './targets.js'

const CI_SEED = 14
const CI_INPUTS = 20_000
const FINDINGS_DIR = new URL('./findings/', import.meta.url)

describe('fuzzing every decoder', () => {
  it('finds nothing in 20,000 seeded inputs across all decoders', async () => {
    const stats = await runFuzz({ seed: CI_SEED, inputs: CI_INPUTS, canonicalAll: false })
    expect(stats.inputs).toBe(CI_INPUTS)
    for (const name of TARGET_NAMES) expect(stats.targets[name]?.inputs ?? 0).toBeGreaterThan(0)
    expect(stats.findings.map(f => `${f.target} #${f.index} ${f.kind}: ${f.detail}`)).toEqual([])
  }, 120_000)

  it('replays every recorded finding from its stored input, and none comes back', async () => {
    const files = existsSync(FINDINGS_DIR) ? readdirSync(FINDINGS_DIR).filter(f => f.endsWith('.json')) : []
    for (const file of files) {
      const f = JSON.parse(readFileSync(new URL(file, FINDINGS_DIR), 'utf8')) as Finding
      const again = await replayFinding(f, { canonicalAll: false })
      expect(again === undefined ? 'fixed' : `${file}: ${again.kind}: ${again.detail}`).toBe('fixed')
    }
  })

  it('reproduces an input from its seed and index alone', () => {
    for (const name of TARGET_NAMES) {
      const a = generateCase(name, 5, 12345)
      const b = generateCase(name, 5, 12345)
      expect(b).toEqual(a)
      expect(generateCase(name, 5, 12346)).not.toEqual(a)
    }
    expect(new Set(schedule(TARGET_NAMES))).toEqual(new Set(TARGET_NAMES))
  })

  it('reports a decoder that accepts what the rules refuse, or throws anything but InvalidMessageError', () => {
    const real = SYNC_TARGETS.find(t => t.name === 'push-offer')
    if (real === undefined) throw new Error('no push-offer target')
    const refusedByRules: Case = { target: 'push-offer', bytes: Uint8Array.from([0x0a, 0x01, 0x41]), ctx: { originCount: 0, planEntries: 0, requested: 0 } } // volume "A"
    expect(checkSync(real, refusedByRules, { canonicalAll: false }).finding).toBeUndefined()
    const lax = { ...real, decode: () => ({ volume: 'A', pusherRun: 1, entries: 0, totalBytes: 0, origins: [] }) }
    expect(checkSync(lax, refusedByRules, { canonicalAll: false }).finding?.kind).toBe('verdict')
    const crashing = { ...real, decode: () => { throw new TypeError('boom') } }
    expect(checkSync(crashing, refusedByRules, { canonicalAll: false }).finding?.kind).toBe('crash')
    const typed = { ...real, decode: () => { throw new InvalidMessageError('volume', 'bad') } }
    expect(checkSync(typed, refusedByRules, { canonicalAll: false }).finding).toBeUndefined()
  })
})
