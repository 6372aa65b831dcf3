/**
 * CI's crash injection (issue 14, deliverable 7): every kill point of push to a directory, push
 * to a peer, receive, pull, offload and restore, once each, in two parallel slots. The harness
 * and what it checks: test/crash/README.md. `npm run crash` runs more variants.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { OPERATIONS, runCampaign, type OpName } from './harness.js'
import { summarize } from './report.js'
import { CI_VARIANT, crashRoot } from './world.js'

/** CI's budget for the whole file is 3 minutes on an idle 2-core machine; the timeout leaves room for a shared one (README "Runtime"). */
const CAMPAIGN_TIMEOUT_MS = 600_000

describe('crash injection', () => {
  const root = mkdtempSync(join(crashRoot(), 'cairn-crash-'))
  afterAll(() => { rmSync(root, { recursive: true, force: true }) })

  it('a SIGKILL at any store write or filesystem commit point of push, receive, pull, offload or restore loses nothing, leaves no evidence for absent bytes, and the re-run converges', async () => {
    const ops = Object.keys(OPERATIONS) as OpName[]
    const c = await runCampaign({ variant: CI_VARIANT, ops, slots: 2, root })
    const report = summarize(c)
    process.stdout.write(`${report}\n`)
    for (const op of ops) expect(c.points[op], `${op} has crash points`).toBeGreaterThan(0)
    expect(c.uncovered, report).toEqual(Object.fromEntries(ops.map(op => [op, []])))
    expect(c.results.filter(r => r.problems.length > 0).map(r => `${r.op}#${r.k} ${r.label}: ${r.problems.join(' | ')}`), report).toEqual([])
  }, CAMPAIGN_TIMEOUT_MS)
})
