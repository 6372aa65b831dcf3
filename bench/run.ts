/**
 * `npm run bench [-- --quick] [-- --only NAME]`: runs every scenario in bench/scenarios/ in its
 * own process, prints a table (median, baseline measured in the same run, ratio, peak RSS) and
 * appends one line per scenario to bench/results.jsonl with the commit and date. `--quick`
 * runs small versions (CI uses it so the harness never rots) and records nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ScenarioResult } from './harness.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const root = join(here, '..')
const quick = process.argv.includes('--quick')
const onlyIndex = process.argv.indexOf('--only')
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined

function commit (): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

const scenarios = readdirSync(join(here, 'scenarios')).filter(f => f.endsWith('.ts')).sort()
  .filter(f => only === undefined || f.replace(/\.ts$/, '') === only)
const results: ScenarioResult[] = []
let failed = 0
for (const file of scenarios) {
  const name = file.replace(/\.ts$/, '')
  process.stderr.write(`bench: ${name}${quick ? ' (quick)' : ''} ...\n`)
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'scenarios', file), ...(quick ? ['--quick'] : [])], {
    cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000
  })
  const line = child.stdout.split('\n').find(l => l.startsWith('BENCH_RESULT '))
  if (child.status !== 0 || line === undefined) {
    failed++
    process.stderr.write(`bench: ${name} failed (exit ${child.status}):\n${child.stderr.slice(-4000)}\n`)
    continue
  }
  results.push(JSON.parse(line.slice('BENCH_RESULT '.length)) as ScenarioResult)
}

const date = new Date().toISOString()
const sha = commit()
const rows = results.map(r => [
  r.scenario,
  `${r.median} ${r.unit}`,
  r.baseline_median === null ? '-' : `${r.baseline_median} ${r.unit}`,
  r.ratio === null ? '-' : `${r.ratio}×`,
  r.goal ?? '-',
  `${r.peak_rss_mb} MB`,
  r.what
])
const header = ['scenario', 'median', 'baseline', 'ratio', 'goal', 'peak RSS', 'what']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
for (const r of [header, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd() + '\n')
for (const r of results) if (r.baseline_name !== null) process.stdout.write(`  ${r.scenario}: baseline = ${r.baseline_name}\n`)

if (!quick) {
  for (const r of results) appendFileSync(join(here, 'results.jsonl'), JSON.stringify({ commit: sha, date, ...r }) + '\n')
  process.stdout.write(`appended ${results.length} result(s) to bench/results.jsonl (commit ${sha})\n`)
}
process.exitCode = failed > 0 ? 1 : 0
