/**
 * A pull of a maximal assertion (issue 14, deliverable 4): MAX_COMPONENTS_PER_ASSERTION
 * components (2048 directories × 256 origins, the most new origins one pull may bring) plus MAX_EXCEPTIONS_PER_ASSERTION exceptions
 * with long paths, so the envelope is close to MAX_FRAME_BYTES, of which the puller's volume
 * requires one directory (256 components). Measured: applyPulledEnvelope into a fresh database
 * (signature over the exact bytes, canonical walk, scoping while decoding, merge), wall time
 * and CPU time, and how far the first pull raises the process's peak RSS. Baseline:
 * the signature verification alone over the same bytes, the floor any pull pays.
 *
 * The envelope is built in a child process (encoding it costs far more memory than pulling
 * it), so this process's peak RSS is the pull's.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Config, VolumeConfig } from '../../src/config/types.js'
import { verifySignatureParts } from '../../src/identity/signing.js'
import { nodeKeyFromSeed } from '../../src/identity/node-key.js'
import type { NodeId } from '../../src/identity/node-id.js'
import type { AssertedComponent } from '../../src/protocol/messages.js'
import { ASSERTION_DOMAIN, sealAssertion } from '../../src/protocol/envelope.js'
import { uvarint } from '../../src/protocol/varint.js'
import { MAX_COMPONENTS_PER_ASSERTION, MAX_EXCEPTIONS_PER_ASSERTION, MAX_EXCEPTIONS_PER_COMPONENT, MAX_FRAME_BYTES } from '../../src/protocol/limits.js'
import { decodeEnvelope } from '../../src/protocol/wire.js'
import { applyPulledEnvelope } from '../../src/pull/pull.js'
import { benchDir, cleanup, isQuick, median, report, round } from '../harness.js'
import { benchStore } from '../fixture.js'

const quick = isQuick()
const DESTS = quick ? 64 : 2048
const ORIGINS = 256
const RUNS = quick ? 1 : 5
const now = 1_760_000_000e9
const peerSeed = new Uint8Array(32).fill(23)

function build (file: string): void {
  const peerKey = nodeKeyFromSeed(peerSeed)
  const origins = Array.from({ length: ORIGINS }, (_, i) => nodeKeyFromSeed(Uint8Array.from({ length: 32 }, (_, j) => j === 0 ? i % 256 : j === 1 ? 90 + (i >> 8) : 6)).nodeId)
  const withHoles = quick ? 4 : MAX_EXCEPTIONS_PER_ASSERTION / MAX_EXCEPTIONS_PER_COMPONENT
  // long exception paths fill the frame up to MAX_FRAME_BYTES
  const pathBytes = quick ? 40 : 190
  const components: AssertedComponent[] = []
  for (let d = 0; d < DESTS; d++) {
    for (let o = 0; o < ORIGINS; o++) {
      const holes: Array<{ path: string, run: number }> = components.length < withHoles
        ? Array.from({ length: MAX_EXCEPTIONS_PER_COMPONENT }, (_, k) => ({ path: `${'p'.repeat(pathBytes)}/${d}-${o}-${k}.jpg`, run: 1 }))
        : []
      components.push({ destination: `dir:${d.toString(16).padStart(32, '0')}`, label: `l${d}`, owner: peerKey.nodeId, originNode: origins[o] as NodeId, originRun: 1e12 + o, verifyMethod: 'sha256-readback' as const, verifiedAtNs: now - 1e9, exceptions: holes, floorRun: 2 })
    }
  }
  const envelope = sealAssertion(peerKey, { signer: peerKey.nodeId, volume: 'photos', epoch: 'b2b2b2b2b2b2b2b2', counter: 1, issuedAtNs: now, receiptFor: null, components, tombstones: [] })
  if (envelope.length > MAX_FRAME_BYTES) throw new Error(`envelope of ${envelope.length} bytes is over MAX_FRAME_BYTES`)
  writeFileSync(file, envelope)
}

if (process.argv.includes('--build')) {
  build(process.argv[process.argv.indexOf('--build') + 1] as string)
  process.exit(0)
}

const dir = benchDir()
try {
  const file = join(dir, 'envelope.bin')
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--build', file, ...(quick ? ['--quick'] : [])], { stdio: 'inherit' })
  if (child.status !== 0) throw new Error('building the envelope failed')
  const envelope = new Uint8Array(readFileSync(file))
  const peerKey = nodeKeyFromSeed(peerSeed)
  const volume: VolumeConfig = { name: 'photos', path: join(dir, 'photos'), pushTo: [], offloadRequires: ['nas/l3'], offloadMaxEvidenceAgeMs: undefined }
  const config: Config = { file: join(dir, 'cairn.toml'), name: 'bench', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([['photos', volume]]), destinations: new Map() }
  const domain = new TextEncoder().encode(ASSERTION_DOMAIN)

  const ours: number[] = []
  const cpu: number[] = []
  const base: number[] = []
  let kept = 0
  let dropped = 0
  // RSS growth: the first pull's rise of the process's peak RSS over the RSS before it
  setFlagsFromString('--expose_gc')
  const gc = runInNewContext('gc') as () => void
  const rssStart = process.memoryUsage().rss
  let growth = 0
  for (let i = -1; i < RUNS; i++) {
    const d = join(dir, `run-${i}`)
    mkdirSync(d)
    const store = benchStore(d)
    const peer = store.nodes.enrollPeer(peerKey.nodeId, 'nas', [])
    const vol = store.volumes.ensure('photos', volume.path)
    const run = store.runs.begin({ kind: 'pull', volumeId: vol.id, peerNodeId: peer.id })
    gc()
    const maxRssBefore = process.resourceUsage().maxRSS * 1024
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const counts = applyPulledEnvelope({ store, config, volume, volumeId: vol.id, peer, envelope, runId: run.id, allowRewind: false })
    const ms = performance.now() - t0
    const c1 = process.cpuUsage(c0)
    // the pull is synchronous: its peak shows in the process's high-water mark (the first pull
    // raises it; later ones only if they need more)
    if (i === -1) growth = process.resourceUsage().maxRSS * 1024 - Math.max(maxRssBefore, rssStart)
    store.runs.finish(run.id, 'success')
    kept = counts.changed
    dropped = counts.dropped
    if (kept !== ORIGINS || counts.fetched !== DESTS * ORIGINS) throw new Error(`kept ${kept}, fetched ${counts.fetched}`)
    // the floor: verifying the signature over the same bytes
    const parts = decodeEnvelope(envelope)
    const b0 = performance.now()
    const signed = [uvarint(domain.length), domain, uvarint(parts.payloadType.length), parts.payloadType, uvarint(parts.payload.length), parts.payload]
    if (!verifySignatureParts(parts.publicKey, signed, parts.signature)) throw new Error('bad signature')
    const floorMs = performance.now() - b0
    if (i >= 0) {
      ours.push(ms)
      cpu.push((c1.user + c1.system) / 1000)
      base.push(floorMs)
    }
    store.close()
  }
  report({
    scenario: 'pull-maximal-assertion',
    what: `pull (verify, canonical walk, scope while decoding, merge) of one assertion of ${DESTS * ORIGINS} components and ${quick ? 'a few' : MAX_EXCEPTIONS_PER_ASSERTION} exceptions (${envelope.length} bytes), ${kept} in scope, into a fresh database`,
    unit: 'ms',
    median: round(median(ours)),
    runs: ours.map(x => round(x)),
    baseline_name: 'ed25519 verification alone over the same envelope (the floor of any pull)',
    baseline_median: round(median(base)),
    ratio: round(median(base) / median(ours), 3),
    goal: '< 500 ms, < 64 MiB RSS growth per pull',
    params: {
      components: DESTS * ORIGINS,
      max_components: MAX_COMPONENTS_PER_ASSERTION,
      envelope_bytes: envelope.length,
      kept,
      dropped,
      cpu_ms_median: round(median(cpu)),
      rss_at_start_mb: Math.round(rssStart / 1048576),
      // the first pull's rise of the peak RSS over the RSS before it (the envelope stored in SQLite included)
      rss_growth_mb: Math.round(growth / 1048576),
      load_average_1m: round((await import('node:os')).loadavg()[0] ?? 0)
    }
  })
} finally {
  cleanup(dir)
}
