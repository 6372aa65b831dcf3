/** One summary of a campaign, for the test's failure message and `npm run crash`. */
import type { Campaign } from './harness.js'

export function summarize (c: Campaign): string {
  const lines: string[] = []
  const failed = c.results.filter(r => r.problems.length > 0)
  lines.push(`points per operation: ${Object.entries(c.points).map(([op, n]) => `${op} ${n}`).join(', ')}`)
  lines.push(`kills: ${c.results.filter(r => r.killed).length} of ${c.results.length} points; build ${(c.buildMs / 1000).toFixed(1)} s, total ${(c.totalMs / 1000).toFixed(1)} s`)
  for (const [op, labels] of Object.entries(c.uncovered)) if (labels.length > 0) lines.push(`never killed at (${op}): ${labels.join(', ')}`)
  lines.push(`${failed.length} point(s) with problems`)
  for (const r of failed) {
    lines.push(`- ${r.op} point ${r.k} (${r.label})${r.killed ? '' : ' [not reached]'}:`)
    for (const p of r.problems.slice(0, 8)) lines.push(`    ${p}`)
    if (r.problems.length > 8) lines.push(`    … ${r.problems.length - 8} more`)
  }
  return lines.join('\n')
}
