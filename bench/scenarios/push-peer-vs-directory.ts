/**
 * Peer push over loopback (TCP + Noise + Yamux, receiver hashes, fsyncs and reads back) vs a
 * directory push of the same tree (issue 7; goal ratio ≥ 0.6). The receiver is a real
 * `cairn serve` process, as a peer is; each run pushes to a fresh receiver / destination, so
 * every byte moves.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '../../src/logger.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { benchDir, cleanup, isQuick, median, report, round, timeMs } from '../harness.js'
import { directoryAt } from '../fixture.js'
import { benchNode, serveChild } from '../nodes.js'
import { FULL_TREE, QUICK_TREE, makeTree } from '../tree.js'

const RUNS = isQuick() ? 2 : 5
const dir = benchDir()
try {
  const tree = join(dir, 'tree')
  const { files, bytes } = makeTree(tree, isQuick() ? QUICK_TREE : FULL_TREE)
  const laptop = await benchNode(dir, 'laptop', `[volumes.photos]\npath = "${tree}"\n`)
  const volume = laptop.config.volumes.get('photos')!
  const indexed = await indexVolume({ store: laptop.store, volume, quick: false, logger: silentLogger })
  if (indexed.status !== 'success') throw new Error('index failed')

  const peerRun = async (i: number): Promise<number> => {
    const recvDir = join(dir, `recv-${i}`)
    mkdirSync(recvDir)
    const nas = await serveChild(dir, `nas${i + 1}`, `[volumes.photos]\npath = "${recvDir}"\n`)
    const nasStore = nas.store()
    nasStore.nodes.enrollPeer(laptop.key.nodeId, 'laptop', [])
    nasStore.close()
    const peer = laptop.store.nodes.enrollPeer(nas.nodeId as never, nas.name, nas.addrs)
    const ms = await timeMs(async () => {
      const r = await pushToPeer({ store: laptop.store, volume, peer, host: laptop.node.host, logger: silentLogger })
      if (r.status !== 'success' || r.filesSent !== files) throw new Error(`peer push ${r.status}: ${r.error ?? ''}`)
    })
    await nas.stop()
    return ms
  }
  const dirRun = async (i: number): Promise<number> => {
    const dest = join(dir, `dest-${i}`)
    mkdirSync(dest)
    return await timeMs(async () => {
      const r = await pushToDirectory({ store: laptop.store, volume, destination: directoryAt(dest, `usb${i + 1}`), shallow: false, logger: silentLogger })
      if (r.status !== 'success' || r.filesSent !== files) throw new Error(`directory push ${r.status}`)
    })
  }
  await peerRun(-1)
  await dirRun(-1)
  const ours: number[] = []
  const base: number[] = []
  for (let i = 0; i < RUNS; i++) {
    ours.push(await peerRun(i))
    base.push(await dirRun(i))
  }
  await laptop.stop()
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000)
  report({
    scenario: 'push-peer-vs-directory',
    what: `cairn peer push of ${files} files, ${(bytes / 1e6).toFixed(0)} MB over loopback to a fresh receiver (receipt included)`,
    unit: 'MB/s',
    median: round(mbps(median(ours))),
    runs: ours.map(ms => round(mbps(ms))),
    baseline_name: 'cairn directory push of the same tree to a fresh directory',
    baseline_median: round(mbps(median(base))),
    ratio: round(median(base) / median(ours), 3),
    goal: '≥ 0.6',
    params: { files, bytes, median_ms: round(median(ours)), baseline_median_ms: round(median(base)) }
  })
} finally {
  cleanup(dir)
}
