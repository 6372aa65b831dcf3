/**
 * Accept and merge one pulled assertion of 100,000 components (400 destinations × 250
 * origins) into a fresh database: signature, validation, scoping, origin cap, and the one
 * merge transaction through the vector's core (history rows included). Baseline: inserting
 * the same 100k rows straight into the vector table in one transaction (the SQLite floor,
 * history triggers included).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { nodeKeyFromSeed } from '../../src/identity/node-key.js'
import type { NodeId } from '../../src/identity/node-id.js'
import { sealAssertion } from '../../src/protocol/envelope.js'
import { applyPulledEnvelope } from '../../src/pull/pull.js'
import { benchDir, cleanup, collectGarbage, isQuick, median, report, round, timeMs } from '../harness.js'
import { benchStore } from '../fixture.js'

const DESTS = isQuick() ? 40 : 400
const ORIGINS = 250
const RUNS = isQuick() ? 2 : 5
const dir = benchDir()
try {
  const peerKey = nodeKeyFromSeed(new Uint8Array(32).fill(21))
  const origins = Array.from({ length: ORIGINS }, (_, i) => nodeKeyFromSeed(Uint8Array.from({ length: 32 }, (_, j) => j === 0 ? i : j === 1 ? 77 : 5)).nodeId)
  const dests = Array.from({ length: DESTS }, (_, i) => `d${i}`)
  const keyOf = (d: string): string => `dir:${d.slice(1).padStart(32, 'a')}`
  const now = 1_760_000_000e9
  // sealed once, before any run: every run pulls it into a fresh database, and the fixture's
  // objects are garbage before the first pull (the peak RSS is the pull's, not the fixture's)
  const COMPONENTS = DESTS * ORIGINS
  const envelope = sealAssertion(peerKey, {
    signer: peerKey.nodeId, volume: 'photos', epoch: 'a1a1a1a1a1a1a1a1', counter: 1, issuedAtNs: now, receiptFor: null, tombstones: [],
    components: dests.flatMap(d => origins.map((o, k) => ({ destination: keyOf(d), label: d, owner: peerKey.nodeId, originNode: o as NodeId, originRun: 1 + k, verifyMethod: 'sha256-readback' as const, verifiedAtNs: now - k * 1e6, exceptions: [] })))
  })
  const volume: VolumeConfig = { name: 'photos', path: join(dir, 'photos'), pushTo: [], offloadRequires: dests.map(d => `nas/${d}`), offloadMaxEvidenceAgeMs: undefined }
  const config: Config = { file: join(dir, 'cairn.toml'), name: 'bench', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([['photos', volume]]), destinations: new Map() }
  const ours: number[] = []
  const base: number[] = []
  for (let i = -1; i < RUNS; i++) {
    const d = join(dir, `run-${i}`)
    mkdirSync(d)
    const store = benchStore(d)
    const peer = store.nodes.enrollPeer(peerKey.nodeId, 'nas', [])
    const vol = store.volumes.ensure('photos', volume.path)
    const run = store.runs.begin({ kind: 'pull', volumeId: vol.id, peerNodeId: peer.id })
    collectGarbage()
    let applied = 0
    const ms = await timeMs(() => { applied = applyPulledEnvelope({ store, config, volume, volumeId: vol.id, peer, envelope, runId: run.id, allowRewind: false }).changed })
    if (applied !== COMPONENTS) throw new Error(`merged ${applied} of ${COMPONENTS}`)
    store.runs.finish(run.id, 'success')
    // the floor: the same rows inserted directly, in a second database, under the keys scoping
    // gives them (a peer's directory claim is stored under its marker key)
    const d2 = join(dir, `floor-${i}`)
    mkdirSync(d2)
    const floor = benchStore(d2)
    const fpeer = floor.nodes.enrollPeer(peerKey.nodeId, 'nas', [])
    const fvol = floor.volumes.ensure('photos', volume.path)
    const ids = origins.map(o => floor.nodes.ensureOrigin(o as NodeId).id)
    const frun = floor.runs.begin({ kind: 'pull', volumeId: fvol.id, peerNodeId: fpeer.id })
    const insert = floor.db.prepare(`INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, source_node_id, run_id, updated_at_ns)
                                     VALUES (?, ?, ?, ?, 'sha256-readback', ?, ?, ?, ?)`)
    const floorMs = await timeMs(() => {
      floor.db.transaction(() => {
        for (const d of dests) ids.forEach((id, k) => insert.run(fvol.id, keyOf(d), id, 1 + k, now - k * 1e6, fpeer.id, frun.id, now))
      }).immediate()
    })
    if (i >= 0) { ours.push(ms); base.push(floorMs) }
    store.close()
    floor.close()
  }
  report({
    scenario: 'pull-merge-100k',
    what: `accept + scope + merge one pulled assertion of ${COMPONENTS} components (${DESTS} destinations × ${ORIGINS} origins) into a fresh database`,
    unit: 'ms',
    median: round(median(ours)),
    runs: ours.map(x => round(x)),
    baseline_name: 'the same rows INSERTed directly in one transaction (history triggers included)',
    baseline_median: round(median(base)),
    ratio: round(median(base) / median(ours), 3),
    goal: '≤ 1.3× the INSERT floor, ≤ 200 MB peak RSS (issue 17)',
    params: { components: COMPONENTS, envelope_bytes: envelope.length }
  })
} finally {
  cleanup(dir)
}
