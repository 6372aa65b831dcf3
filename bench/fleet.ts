/**
 * An N-node fleet converging by pulls, in one process over loopback (TCP + Noise + Yamux):
 * every node holds one file of each of ORIGINS origins, placed at its own directory
 * destination, requires every other node's directory (`nodeJ/destJ`), and pulls every other
 * node once; converged when every node holds the other N - 1 directories' evidence. Baseline:
 * the same N·(N - 1) accept-and-merge steps with the envelopes handed over in memory (no
 * network), so the ratio is what the network path costs. Used by fleet-16 and fleet-64.
 *
 * All N nodes share one process and one event loop, and every commit (synchronous = FULL) blocks
 * it for all of them: `maxInFlight` caps the pulls in flight across the fleet, so a pull's wait
 * for the others stays inside its protocol deadline (64 unbounded pulls ran past the 30 s
 * DURABILITY_DEADLINE_MS here). Each node still pulls its peers one after the other.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { NodeId } from '../src/identity/node-id.js'
import { silentLogger } from '../src/logger.js'
import { settleClaims } from '../src/evidence/settle.js'
import { sealLocalAssertion } from '../src/pull/local-assertion.js'
import { applyPulledEnvelope, pullVolume } from '../src/pull/pull.js'
import { isDirectoryKey } from '../src/store/destinations.js'
import { nodeKeyFromSeed } from '../src/identity/node-key.js'
import { benchDir, cleanup, median, peakRssMb, report, round, timeMs } from './harness.js'
import { benchNode, type BenchNode } from './nodes.js'

export interface FleetInit {
  scenario: string
  nodes: number
  origins: number
  runs: number
  /** Pulls in flight across the whole fleet (default: one per node). */
  maxInFlight?: number
  /** Measure the in-memory baseline beside each run (default true). */
  baseline?: boolean
}

/** At most `n` calls of the returned wrapper run at once. */
function limiter (n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: Array<() => void> = []
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>(resolve => waiting.push(resolve))
    running++
    try {
      return await fn()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

export async function runFleet ({ scenario, nodes: NODES, origins: ORIGINS, runs: RUNS, maxInFlight, baseline = true }: FleetInit): Promise<void> {
const inFlight = limiter(maxInFlight ?? NODES)
const dir = benchDir()
const origins = Array.from({ length: ORIGINS }, (_, i) => nodeKeyFromSeed(Uint8Array.from({ length: 32 }, (_, j) => j === 0 ? i : j === 1 ? 99 : 3)).nodeId)

async function fleet (round: number): Promise<BenchNode[]> {
  const root = join(dir, `fleet-${round}`)
  const dests = Array.from({ length: NODES }, (_, i) => `dest${i}`)
  const nodes: BenchNode[] = []
  for (let i = 0; i < NODES; i++) {
    mkdirSync(join(root, `vol${i}`), { recursive: true })
    const others = dests.map((d, j) => `node${j}/${d}`).filter((_, j) => j !== i)
    nodes.push(await benchNode(root, `node${i}`, `[volumes.photos]\npath = "${join(root, `vol${i}`)}"\noffload_requires = [${others.map(d => JSON.stringify(d)).join(', ')}]\n`, { mdns: false }))
  }
  for (const a of nodes) for (const b of nodes) if (a !== b) a.store.nodes.enrollPeer(b.key.nodeId, b.name, b.node.addrs())
  nodes.forEach((n, i) => {
    const vol = n.store.volumes.ensure('photos', n.config.volumes.get('photos')!.path)
    // its directory, keyed by the marker its first push recorded (one distinct marker per node)
    const dest = n.store.destinations.recordLocal(n.store.nodes.self().id, `dest${i}`, (i + 1).toString(16).padStart(32, 'd')).key
    const run = n.store.runs.begin({ kind: 'push', volumeId: vol.id, destination: `dest${i}` })
    const files = origins.map((o, k) => ({ path: `f${k}`, hash: Buffer.alloc(32, k + 1), size: 1, mtimeNs: 1, originNodeId: n.store.nodes.ensureOrigin(o as NodeId).id, originRunId: 1 + k }))
    n.store.files.recordObserved(vol.id, run.id, files, 'received')
    for (const f of files) {
      n.store.placements.record(dest, vol.id, f.path, { contentId: n.store.files.contentIdOf(f.hash)!, size: 1, mtimeNs: 1, verifyMethod: 'sha256-readback', runId: run.id, originNodeId: f.originNodeId, originRunId: f.originRunId })
    }
    settleClaims(n.store, vol.id, run.id, 'bench')
    n.store.runs.finish(run.id, 'success')
  })
  return nodes
}

/** node i's peers in the order nodes i+1, i+2, ... (wrapping round). */
function pullOrder<P extends { nodeId: string }> (nodes: BenchNode[], i: number, peers: P[]): P[] {
  const rank = new Map(nodes.map((n, j) => [n.key.nodeId as string, (j - i + nodes.length) % nodes.length]))
  return [...peers].sort((a, b) => (rank.get(a.nodeId) ?? 0) - (rank.get(b.nodeId) ?? 0))
}

/** Every node holds evidence, pulled from its owner, for each of the other nodes' directories. */
function converged (nodes: BenchNode[]): boolean {
  return nodes.every(n => new Set(n.store.vector.list(n.store.volumes.get('photos')!.id).filter(c => isDirectoryKey(c.destination) && c.sourceNodeId !== null).map(c => c.destination)).size === NODES - 1)
}

try {
  const ours: number[] = []
  const base: number[] = []
  const rssAfterPulls: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const nodes = await fleet(r)
    ours.push(await timeMs(async () => {
      await Promise.all(nodes.map(async (n, i) => {
        // node i pulls node i+1 first, then i+2, ...: every node is pulled by one node at a
        // time, not by all of them at once (the herd timed dials out at 64 nodes)
        for (const peer of pullOrder(nodes, i, n.store.nodes.listPeers())) {
          const p = await inFlight(async () => await pullVolume({ store: n.store, config: n.config, host: n.node.host, peer, volume: 'photos', allowRewind: false, logger: silentLogger }))
          if (p.status !== 'success') throw new Error(`pull ${p.status}: ${p.error ?? ''}`)
        }
      }))
    }))
    if (!converged(nodes)) throw new Error('the fleet did not converge')
    rssAfterPulls.push(Math.round(process.memoryUsage().rss / 1e6))
    for (const n of nodes) await n.stop()

    if (!baseline) continue
    // the same merges, envelopes handed over in memory
    const again = await fleet(r + 100)
    base.push(await timeMs(() => {
      for (const n of again) {
        const vol = n.store.volumes.get('photos')!
        for (const peer of n.store.nodes.listPeers()) {
          const source = again.find(x => x.key.nodeId === peer.nodeId)!
          const envelope = sealLocalAssertion(source.store, source.key, 'photos', silentLogger)
          const run = n.store.runs.begin({ kind: 'pull', volumeId: vol.id, peerNodeId: peer.id })
          applyPulledEnvelope({ store: n.store, config: n.config, volume: n.config.volumes.get('photos')!, volumeId: vol.id, peer, envelope, runId: run.id, allowRewind: false })
          n.store.runs.finish(run.id, 'success')
        }
      }
    }))
    if (!converged(again)) throw new Error('the in-memory fleet did not converge')
    for (const n of again) await n.stop()
  }
  report({
    scenario,
    what: `${NODES} nodes on loopback, each pulling every other once (${NODES * (NODES - 1)} pulls, ${ORIGINS} origins per node) until all hold every node's evidence`,
    unit: 'ms',
    median: round(median(ours)),
    runs: ours.map(x => round(x)),
    baseline_name: baseline ? 'the same accept-and-merge steps with envelopes handed over in memory' : null,
    baseline_median: baseline ? round(median(base)) : null,
    ratio: baseline ? round(median(base) / median(ours), 3) : null,
    goal: null,
    params: { nodes: NODES, pulls: NODES * (NODES - 1), origins: ORIGINS, max_in_flight: maxInFlight ?? NODES, rss_after_pulls_mb: rssAfterPulls, peak_rss_at_end_mb: peakRssMb() }
  })
} finally {
  cleanup(dir)
}
}
