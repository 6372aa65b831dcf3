/**
 * Directory push throughput vs `cp -r` followed by `sha256sum` of the copies (issue 6; goal
 * ratio ≥ 0.7). cairn additionally fsyncs every file and its directory and keeps its records;
 * each run pushes into a fresh destination, so every file is copied and read back.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '../../src/logger.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { benchDir, cleanup, isQuick, median, pairedRuns, report, round } from '../harness.js'
import { benchStore, directoryAt, volumeAt } from '../fixture.js'
import { FULL_TREE, QUICK_TREE, makeTree } from '../tree.js'

const RUNS = isQuick() ? 2 : 5
const dir = benchDir()
try {
  const tree = join(dir, 'tree')
  const { files, bytes } = makeTree(tree, isQuick() ? QUICK_TREE : FULL_TREE)
  const store = benchStore(dir)
  const volume = volumeAt(tree)
  const indexed = await indexVolume({ store, volume, quick: false, logger: silentLogger })
  if (indexed.status !== 'success') throw new Error('index failed')
  const push = async (i: number): Promise<void> => {
    const dest = join(dir, `dest-${i}`)
    mkdirSync(dest)
    const r = await pushToDirectory({ store, volume, destination: directoryAt(dest, `usb${i}`), shallow: false, logger: silentLogger })
    if (r.status !== 'success' || r.filesSent !== files) throw new Error(`push ${r.status}: ${r.filesSent} of ${files}`)
  }
  const cpHash = (i: number): void => {
    const dest = join(dir, `cp-${i}`)
    execFileSync('sh', ['-c', `cp -r "${tree}" "${dest}" && find "${dest}" -type f -print0 | xargs -0 sha256sum > /dev/null`])
  }
  await push(-1)
  cpHash(-1)
  const { ours, base } = await pairedRuns(RUNS, push, cpHash)
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000)
  report({
    scenario: 'push-directory-vs-cp',
    what: `cairn push of ${files} files, ${(bytes / 1e6).toFixed(0)} MB to a fresh directory destination (copy, fsync, read back)`,
    unit: 'MB/s',
    median: round(mbps(median(ours))),
    runs: ours.map(ms => round(mbps(ms))),
    baseline_name: 'cp -r, then find | xargs sha256sum over the copies',
    baseline_median: round(mbps(median(base))),
    ratio: round(median(base) / median(ours), 3),
    goal: '≥ 0.7',
    params: { files, bytes, median_ms: round(median(ours)), baseline_median_ms: round(median(base)) }
  })
  store.close()
} finally {
  cleanup(dir)
}
