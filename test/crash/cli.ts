/**
 * `npm run crash [-- --seeds N] [--ops a,b] [--slots K]`: the CI campaign (test/crash/crash.test.ts)
 * over more variants: for each seed, the CI shape and a larger one (more files, bigger files, a
 * large file spread over several data frames). Prints a summary per variant; exits 1 on any
 * problem or uncovered point.
 */
import '../../src/shim.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { OPERATIONS, runCampaign, type OpName } from './harness.js'
import { summarize } from './report.js'
import { CI_VARIANT, crashRoot, type Variant } from './world.js'

function arg (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}

async function main (): Promise<number> {
  const seeds = Number(arg('seeds') ?? 2)
  const ops = (arg('ops')?.split(',') ?? Object.keys(OPERATIONS)) as OpName[]
  const slots = Number(arg('slots') ?? 2)
  const variants: Variant[] = []
  for (let seed = 1; seed <= seeds; seed++) {
    variants.push({ ...CI_VARIANT, seed })
    variants.push({ files: 3 + seed, fileBytes: 4096 * seed, largeBytes: 3_500_000 + seed * 1000, changeLarge: true, seed })
  }
  let bad = 0
  for (const v of variants) {
    const root = mkdtempSync(join(crashRoot(), 'cairn-crash-'))
    try {
      const c = await runCampaign({ variant: v, ops, slots, root })
      process.stdout.write(`variant ${JSON.stringify(v)}\n${summarize(c)}\n\n`)
      bad += c.results.filter(r => r.problems.length > 0).length + Object.values(c.uncovered).flat().length
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
  return bad > 0 ? 1 : 0
}

main().then(code => { process.exitCode = code }, (err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 })
