/**
 * Shared pieces for benchmark scenarios. A scenario is a module run in its own process (so its
 * peak RSS is its own); it measures itself and its baseline in the same run and prints one
 * JSON result line, which bench/run.ts collects.
 */
import '../src/shim.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { join } from 'node:path'

export interface ScenarioResult {
  scenario: string
  /** What was measured, in words. */
  what: string
  unit: 'ms' | 'MB/s'
  /** Median of the measured runs, in `unit`. */
  median: number
  runs: number[]
  baseline_name: string | null
  baseline_median: number | null
  /** For ms: baseline / ours (higher is better, 1 = as fast); for MB/s: ours / baseline. */
  ratio: number | null
  goal: string | null
  peak_rss_mb: number
  params: Record<string, unknown>
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

export async function timeMs (fn: () => unknown): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

export async function repeat (n: number, fn: () => unknown): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(await timeMs(fn))
  return out
}

/**
 * `n` pairs of runs, ours then the baseline's, interleaved, so a noisy machine moves both
 * (bench/README.md); `i` is the pair's index (a scenario that needs a fresh target per run uses it).
 */
export async function pairedRuns (n: number, ours: (i: number) => unknown, baseline: (i: number) => unknown): Promise<{ ours: number[], base: number[] }> {
  const out = { ours: [] as number[], base: [] as number[] }
  for (let i = 0; i < n; i++) {
    out.ours.push(await timeMs(async () => { await ours(i) }))
    out.base.push(await timeMs(async () => { await baseline(i) }))
  }
  return out
}

/**
 * A full garbage collection, outside any timed region: a scenario that repeats a large
 * operation calls it between repetitions, so its peak RSS is one operation's, not the garbage
 * of all of them that V8 had not yet collected (a process doing one pull sees no such pile).
 */
export function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
}

export function peakRssMb (): number {
  return Math.round(process.resourceUsage().maxRSS / 1024)
}

export function isQuick (): boolean {
  return process.argv.includes('--quick')
}

export function benchDir (): string {
  return mkdtempSync(join(tmpdir(), 'cairn-bench-'))
}

export function cleanup (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

export function report (r: Omit<ScenarioResult, 'peak_rss_mb'>): void {
  const result: ScenarioResult = { ...r, peak_rss_mb: peakRssMb() }
  process.stdout.write('BENCH_RESULT ' + JSON.stringify(result) + '\n')
}

export function round (x: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
