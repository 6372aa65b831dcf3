/**
 * A push of 100,000 files of 2 KB (issue 17, deliverable 2), pair by pair:
 *  - to a fresh directory destination, against `cp -r` + `sync -f` + an `openssl dgst -sha256`
 *    re-read of the copies on 2 processes (goal ≤ 3×): what durability and a read-back cost per
 *    file beside copying the bytes;
 *  - to a fresh peer (a real `cairn serve` process over loopback), against the directory push of
 *    the same run (goal ≤ 1.5×).
 * Every run writes into a fresh target, so every file is copied, made durable and verified.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../src/logger.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { benchDir, cleanup, isQuick, median, report, round, timeMs } from '../harness.js'
import { directoryAt } from '../fixture.js'
import { benchNode, serveChild } from '../nodes.js'
import { makeSmallTree, opensslTwoProcesses } from '../tree.js'

const FILES = isQuick() ? 2_000 : 100_000
const RUNS = isQuick() ? 1 : Number(process.env.CAIRN_BENCH_RUNS ?? 5)
const dir = benchDir()
try {
  const tree = join(dir, 'tree')
  makeSmallTree(tree, FILES)
  const laptop = await benchNode(dir, 'laptop', `[volumes.photos]\npath = "${tree}"\n`, { mdns: false })
  const volume = laptop.config.volumes.get('photos')!
  const indexed = await indexVolume({ store: laptop.store, volume, quick: false, logger: silentLogger })
  if (indexed.status !== 'success') throw new Error('index failed')
  // the marker `cairn volume init` wrote is a file of the volume too
  const files = indexed.filesSeen

  const dirPush = async (i: number): Promise<number> => {
    const dest = join(dir, `dest-${i}`)
    mkdirSync(dest)
    return await timeMs(async () => {
      const r = await pushToDirectory({ store: laptop.store, volume, destination: directoryAt(dest, `usb${i + 1}`), shallow: false, logger: silentLogger })
      if (r.status !== 'success' || r.filesSent !== files) throw new Error(`directory push ${r.status}: ${r.filesSent} of ${files} (${r.error ?? ''})`)
    })
  }
  const copySyncHash = async (i: number): Promise<number> => {
    const dest = join(dir, `cp-${i}`)
    return await timeMs(() => { execFileSync('sh', ['-c', `cp -r "${tree}" "${dest}" && sync -f "${dest}" && ${opensslTwoProcesses(dest, FILES)}`]) })
  }
  const peerPush = async (i: number): Promise<number> => {
    const recvDir = join(dir, `recv-${i}`)
    mkdirSync(recvDir)
    const nas = await serveChild(dir, `nas${i + 1}`, `[volumes.photos]\npath = "${recvDir}"\n`)
    try {
      const nasStore = nas.store()
      nasStore.nodes.enrollPeer(laptop.key.nodeId, 'laptop', [])
      nasStore.close()
      const peer = laptop.store.nodes.enrollPeer(nas.nodeId as never, nas.name, nas.addrs)
      return await timeMs(async () => {
        const r = await pushToPeer({ store: laptop.store, volume, peer, host: laptop.node.host, logger: silentLogger })
        if (r.status !== 'success' || r.filesSent !== files) throw new Error(`peer push ${r.status}: ${r.filesSent} of ${files} (${r.error ?? ''}); the receiver said: ${nas.stderr().slice(-3000)}`)
      })
    } finally {
      await nas.stop()
    }
  }

  await dirPush(-1)
  await copySyncHash(-1)
  const ours: number[] = []
  const base: number[] = []
  const peer: number[] = []
  const loads: number[] = []
  for (let i = 0; i < RUNS; i++) {
    loads.push(round(loadavg()[0] ?? 0))
    ours.push(await dirPush(i))
    base.push(await copySyncHash(i))
    peer.push(await peerPush(i))
  }
  await laptop.stop()
  const perPair = ours.map((ms, i) => round(ms / (base[i] ?? ms), 2))
  const peerPerPair = peer.map((ms, i) => round(ms / (ours[i] ?? ms), 2))
  report({
    scenario: 'push-100k-small',
    what: `directory push of ${files} files of 2 KB to a fresh destination (copy, durable, read back); peer push of the same to a fresh receiver in params`,
    unit: 'ms',
    median: round(median(ours)),
    runs: ours.map(round),
    baseline_name: 'cp -r, sync -f, then openssl dgst -sha256 on 2 processes over the copies',
    baseline_median: round(median(base)),
    ratio: round(median(ours) / median(base), 2),
    goal: '≤ 3× the baseline; peer push ≤ 1.5× the directory push (issue 17)',
    params: {
      files,
      baseline_runs_ms: base.map(round),
      ratio_per_pair: perPair,
      peer_median_ms: round(median(peer)),
      peer_runs_ms: peer.map(round),
      peer_vs_directory: round(median(peer) / median(ours), 2),
      peer_vs_directory_per_pair: peerPerPair,
      load_average_1m: loads
    }
  })
} finally {
  cleanup(dir)
}
