/**
 * Index throughput vs `openssl dgst -sha256` on 2 processes over the same generated tree (issue
 * 17, goal ratio ≥ 0.7; it was `sha256sum` on one process until cairn hashed on both cores —
 * the scenario keeps its name so its history stays one line). Both read from the page cache
 * (one warm-up pass each); each cairn run indexes into a fresh database, so it hashes every file.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '../../src/logger.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { benchDir, cleanup, isQuick, median, pairedRuns, report, round } from '../harness.js'
import { benchStore, volumeAt } from '../fixture.js'
import { loadavg } from 'node:os'
import { FULL_TREE, QUICK_TREE, makeTree, opensslTwoProcesses } from '../tree.js'

const RUNS = isQuick() ? 2 : 5
const dir = benchDir()
try {
  const tree = join(dir, 'tree')
  const { files, bytes } = makeTree(tree, isQuick() ? QUICK_TREE : FULL_TREE)
  const sha256sum = (): void => { execFileSync('sh', ['-c', opensslTwoProcesses(tree, files)]) }
  const index = async (i: number): Promise<void> => {
    const d = join(dir, `db-${i}`)
    mkdirSync(d)
    const store = benchStore(d)
    const r = await indexVolume({ store, volume: volumeAt(tree), quick: false, logger: silentLogger })
    if (r.status !== 'success' || r.filesSeen !== files) throw new Error(`index saw ${r.filesSeen} of ${files}: ${r.status}`)
    store.close()
  }
  sha256sum()
  await index(-1)
  const { ours, base } = await pairedRuns(RUNS, index, sha256sum)
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000)
  report({
    scenario: 'index-vs-sha256sum',
    what: `cairn index of ${files} files, ${(bytes / 1e6).toFixed(0)} MB (fresh database each run)`,
    unit: 'MB/s',
    median: round(mbps(median(ours))),
    runs: ours.map(ms => round(mbps(ms))),
    baseline_name: 'openssl dgst -sha256 on 2 processes (find | xargs -P 2) over the same tree',
    baseline_median: round(mbps(median(base))),
    ratio: round(median(base) / median(ours), 3),
    goal: '≥ 0.7 (issue 17)',
    params: { files, bytes, median_ms: round(median(ours)), baseline_median_ms: round(median(base)), baseline_runs_ms: base.map(round), load_average_1m: round(loadavg()[0] ?? 0) }
  })
} finally {
  cleanup(dir)
}
