/**
 * The first index of 100,000 files of 2 KB (issue 17: ≤ 3× the anchor, ≤ 200 MB peak RSS)
 * against `openssl dgst -sha256` on 2 processes over the same files, pair by pair. Each cairn
 * run indexes into a fresh database, so it walks, hashes and records every file: what a small
 * file costs beside its bytes (syscalls, statements, messages to the hashing workers).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../src/logger.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { benchDir, cleanup, isQuick, median, pairedRuns, report, round } from '../harness.js'
import { benchStore, volumeAt } from '../fixture.js'
import { makeSmallTree, opensslTwoProcesses } from '../tree.js'

const FILES = isQuick() ? 5_000 : 100_000
const RUNS = isQuick() ? 2 : 5
const dir = benchDir()
try {
  const tree = join(dir, 'tree')
  makeSmallTree(tree, FILES)
  const openssl = (): void => { execFileSync('sh', ['-c', opensslTwoProcesses(tree, FILES)]) }
  const index = async (i: number): Promise<void> => {
    const d = join(dir, `db-${i}`)
    mkdirSync(d)
    const store = benchStore(d)
    const r = await indexVolume({ store, volume: volumeAt(tree), quick: true, logger: silentLogger })
    if (r.status !== 'success' || r.filesSeen !== FILES || r.filesHashed !== FILES) throw new Error(`index: ${r.status}, ${r.filesSeen} seen, ${r.filesHashed} hashed of ${FILES}`)
    store.close()
  }
  openssl()
  await index(-1)
  const { ours, base } = await pairedRuns(RUNS, index, openssl)
  report({
    scenario: 'index-100k-small',
    what: `first index of ${FILES} files of 2 KB (fresh database each run: every file walked, hashed, recorded)`,
    unit: 'ms',
    median: round(median(ours)),
    runs: ours.map(round),
    baseline_name: 'openssl dgst -sha256 on 2 processes (find | xargs -P 2) over the same files',
    baseline_median: round(median(base)),
    ratio: round(median(ours) / median(base), 2),
    goal: '≤ 3× openssl on 2 processes, ≤ 200 MB RSS (issue 17)',
    params: { files: FILES, baseline_runs_ms: base.map(round), load_average_1m: round(loadavg()[0] ?? 0) }
  })
} finally {
  cleanup(dir)
}
