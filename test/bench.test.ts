import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../', import.meta.url))

describe('npm run bench -- --quick', () => {
  it('runs every scenario of the harness (so it never rots) and records nothing', () => {
    const results = `${ROOT}bench/results.jsonl`
    const sizeBefore = (() => { try { return statSync(results).size } catch { return -1 } })()
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 })
    expect(r.status, r.stderr.slice(-3000)).toBe(0)
    const scenarios = readdirSync(`${ROOT}bench/scenarios`).filter(f => f.endsWith('.ts')).map(f => f.replace(/\.ts$/, ''))
    expect(scenarios.length).toBeGreaterThanOrEqual(7)
    for (const s of scenarios) expect(r.stdout, s).toMatch(new RegExp(`^${s} `, 'm'))
    const sizeAfter = (() => { try { return statSync(results).size } catch { return -1 } })()
    expect(sizeAfter).toBe(sizeBefore)
    if (sizeAfter > 0) for (const line of readFileSync(results, 'utf8').trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
  }, 250_000)
})
