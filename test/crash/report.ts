/** One summary of a campaign, for the test's failure message and `npm run crash`. */
import type { Campaign } from './harness.js'

export function summarize (c: Campaign): string {
  const lines: string[] = []
  const failed = c.results.filter(r => r.problems.length > 0)
  lines.push(`points per operation: ${Object.entries(c.points).map(([op, n]) => `${op} ${n}`).join(', ')}`)
  lines.push(`kills: ${c.results.filter(r => r.killed).length} of ${c.results.length} points; build ${(c.buildMs / 1000).toFixed(1)} s, total ${(c.totalMs / 1000).toFixed(1)} s`)
  for (const [op, labels] of Object.entries(c.uncovered)) if (labels.length > 0) lines.push(`never killed at (${op}): ${labels.join(', ')}`)
  // what the re-runs said and what was left behind (not failures, but worth reading)
  const noted = new Map<string, string[]>()
  for (const r of c.results) {
    for (const n of r.notes) {
      const kind = n.startsWith('re-run refused') ? `${r.op}: ${n.replace(/owner process \d+/, 'owner process N').replace(/run=\d+/, 'run=N')}` : n.startsWith('staging left') ? `${r.op}: staging left after the restart` : n.startsWith('after `index') ? `${r.op}: ${n}` : `${r.op}: ${n.replace(/^point \d+ /, 'point ')}`
      noted.set(kind, [...(noted.get(kind) ?? []), `${r.k}`])
    }
  }
  for (const [kind, ks] of noted) lines.push(`note ${kind} (points ${ks.join(', ')})`)
  lines.push(`${failed.length} point(s) with problems`)
  for (const r of failed) {
    lines.push(`- ${r.op} point ${r.k} (${r.label})${r.killed ? '' : ' [not reached]'}:`)
    for (const p of r.problems.slice(0, 8)) lines.push(`    ${p}`)
    if (r.problems.length > 8) lines.push(`    … ${r.problems.length - 8} more`)
  }
  return lines.join('\n')
}
