/**
 * The quick re-index of an unchanged tree (issue 15): 100,000 files of 2 KB, indexed once, then
 * indexed again by default (size, mtime, ctime and inode decide; nothing is hashed), against a
 * `find -printf '%s %T@ %i\n'` stat walk of the same tree, pair by pair. The first index runs
 * after the files' racy window (2 s) has passed, so the re-index trusts every file.
 */
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../src/logger.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { benchDir, cleanup, isQuick, median, pairedRuns, report, round } from '../harness.js'
import { benchStore, volumeAt } from '../fixture.js'
import { makeSmallTree } from '../tree.js'

const FILES = isQuick() ? 5_000 : 100_000
const RUNS = isQuick() ? 2 : 5
const dir = benchDir()
try {
  const tree = join(dir, 'tree')
  makeSmallTree(tree, FILES)
  await new Promise(resolve => setTimeout(resolve, 2500))
  const store = benchStore(dir)
  const volume = volumeAt(tree)
  const first = await indexVolume({ store, volume, quick: true, logger: silentLogger })
  if (first.filesSeen !== FILES) throw new Error(`first index saw ${first.filesSeen} of ${FILES}`)
  const walk = (): void => { execFileSync('sh', ['-c', `find "${tree}" -type f -printf '%s %T@ %i\\n' > /dev/null`]) }
  walk()
  let hashed = 0
  const { ours, base } = await pairedRuns(RUNS, async () => {
    const r = await indexVolume({ store, volume, quick: true, logger: silentLogger })
    if (r.status !== 'success' || r.filesSeen !== FILES) throw new Error(`re-index: ${r.status}, ${r.filesSeen} seen`)
    hashed += r.filesHashed
  }, walk)
  store.close()
  report({
    scenario: 'reindex-100k',
    what: `quick re-index of ${FILES} unchanged files of 2 KB (nothing hashed: ${hashed} files hashed over ${RUNS} runs)`,
    unit: 'ms',
    median: round(median(ours)),
    runs: ours.map(round),
    baseline_name: "find -printf '%s %T@ %i' walk of the same tree",
    baseline_median: round(median(base)),
    ratio: round(median(ours) / median(base), 2),
    goal: '≤ 3× the walk (issue 17)',
    params: { files: FILES, hashed, baseline_runs_ms: base.map(round), load_average_1m: round(loadavg()[0] ?? 0) }
  })
} finally {
  cleanup(dir)
}
