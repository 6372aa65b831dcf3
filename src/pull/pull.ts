/**
 * One pull of one volume from one peer, as a `pull` run, in the order DESIGN invariant 7
 * asks: fetch; open and accept the envelope (signature, signer, context, sequence); scope
 * (drop entries for destinations the volume neither pushes to nor requires); cap new origins;
 * then merge all or nothing in one transaction. The assertion is the peer's whole set: what
 * it carries lower, or no longer carries, is retracted (counted in `retracted`). Every fetched
 * entry lands in exactly one of applied / dropped; `rewinds` stays empty (a source lowering
 * its own claim is a retraction, not a rewind) and is kept for the CLI contract.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Config, VolumeConfig } from '../config/types.js'
import { CairnError, PeerStatusError, TooManyOriginsError, UnknownVolumeError } from '../errors.js'
import type { Logger } from '../logger.js'
import { scopeAssertion, scopeFilter, storeOwnerLookup, type DropKind } from '../evidence/scope.js'
import { MAX_NEW_ORIGINS_PER_PULL } from '../protocol/limits.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'
import { newOrigins, recordAssertion, verifyAssertion } from './accept.js'
import { fetchAssertion } from './fetch.js'
import { describeExchangeFailure } from '../p2p/dial-failure.js'

export const MAX_DROP_SAMPLES = 16

export interface PullDrop {
  destination: string
  origin: string
  kind: DropKind
}

export interface PullRewind {
  destination: string
  origin: string
  current: number
  attempted: number
}

export interface PullReport {
  runId: number
  volume: string
  peer: string
  status: 'success' | 'partial' | 'failed' | 'refused'
  error: string | null
  /** Components plus freshness entries in the peer's assertion. */
  fetched: number
  /** In-scope entries merged (including re-confirmations that changed nothing). */
  applied: number
  /** Of `applied`, the components that changed the live vector. */
  changed: number
  /** Components of this peer that came down or went away (retractions, audited). */
  retracted: number
  dropped: number
  /** Lower than recorded and refused (or, with allowRewind, applied as rewinds). */
  rewinds: PullRewind[]
  rewound: number
  /** Up to MAX_DROP_SAMPLES examples of dropped entries. */
  drops: PullDrop[]
  assertionId: number | null
}

export interface PullInit {
  store: Store
  config: Config
  host: Libp2p
  peer: NodeRow
  volume: string
  allowRewind: boolean
  logger: Logger
  timeoutMs?: number
  signal?: AbortSignal
}

function label (store: Store, nodeId: string): string {
  const n = store.nodes.byNodeId(nodeId)
  return n?.name ?? nodeId
}

export interface PulledEnvelopeInit {
  store: Store
  config: Config
  volume: VolumeConfig
  volumeId: number
  peer: NodeRow
  envelope: Uint8Array
  runId: number
  allowRewind: boolean
}

export type PullCounts = Pick<PullReport, 'fetched' | 'applied' | 'changed' | 'retracted' | 'dropped' | 'rewinds' | 'rewound' | 'drops' | 'assertionId'>

/**
 * Everything a pull does after the bytes arrived, no network: accept the envelope (signature,
 * signer, context, sequence), scope it, cap new origins, merge in one transaction. Throws a
 * CairnError (and writes nothing) when the envelope is refused.
 */
export function applyPulledEnvelope (init: PulledEnvelopeInit): PullCounts {
  const { store, peer } = init
  const peerLabel = peer.name ?? peer.nodeId
  const counts: PullCounts = { fetched: 0, applied: 0, changed: 0, retracted: 0, dropped: 0, rewinds: [], rewound: 0, drops: [], assertionId: null }
  const ownerOf = storeOwnerLookup(store)
  // scoped while decoding: a claim this node would drop is counted, never built (invariant 8)
  const verified = verifyAssertion(store, init.envelope, { expectedSigner: peer.nodeId, volume: init.volume.name, receiptFor: null, filter: scopeFilter(init.volume, peer, ownerOf) })
  const a = verified.opened.assertion
  const filtered = verified.opened.filtered
  counts.fetched = a.components.length + a.tombstones.length + filtered.count
  const scoped = scopeAssertion(init.volume, peer, a.components, ownerOf)
  const samples = filtered.samples as Array<{ destination: string, label?: string, origin: string, kind: DropKind }>
  counts.dropped += filtered.count - samples.length
  for (const d of [...samples, ...scoped.drops]) {
    counts.dropped++
    if (counts.drops.length < MAX_DROP_SAMPLES) counts.drops.push({ destination: d.label === undefined ? label(store, d.destination) : `${d.label} (${peerLabel}'s, ${d.destination})`, origin: label(store, d.origin), kind: d.kind })
  }
  const fresh = newOrigins(store, scoped.kept)
  if (fresh.size > MAX_NEW_ORIGINS_PER_PULL) throw new TooManyOriginsError(peerLabel, fresh.size, MAX_NEW_ORIGINS_PER_PULL)

  const recorded = recordAssertion(store, verified, { volumeId: init.volumeId, runId: init.runId, components: scoped.kept })
  counts.assertionId = recorded.assertionId
  counts.changed = recorded.merge.changed
  counts.retracted = recorded.merge.retracted
  // a tombstone is applied as a retraction: every fetched entry is applied or dropped
  counts.applied = recorded.merge.applied + a.tombstones.length
  if (recorded.ownerRaceDrops > 0) {
    counts.dropped += recorded.ownerRaceDrops
    if (counts.drops.length < MAX_DROP_SAMPLES) counts.drops.push({ destination: '(a directory another node was seen owning first)', origin: '-', kind: 'third-party' })
  }
  if (recorded.merge.notOwned > 0) {
    counts.dropped += recorded.merge.notOwned
    if (counts.drops.length < MAX_DROP_SAMPLES) counts.drops.push({ destination: '(evidence another provenance owns)', origin: '-', kind: 'component' })
  }
  return counts
}

export async function pullVolume (init: PullInit): Promise<PullReport> {
  const { store, config, peer, volume } = init
  const volConfig = config.volumes.get(volume)
  if (volConfig === undefined) throw new UnknownVolumeError(volume, [...config.volumes.keys()])
  const volRow = store.volumes.ensure(volume, volConfig.path)
  const peerLabel = peer.name ?? peer.nodeId
  const run = store.runs.begin({ kind: 'pull', volumeId: volRow.id, peerNodeId: peer.id, detail: { allow_rewind: init.allowRewind ? 1 : 0 } })
  const report: PullReport = {
    runId: run.id, volume, peer: peerLabel, status: 'failed', error: null, fetched: 0, applied: 0, changed: 0, retracted: 0, dropped: 0, rewinds: [], rewound: 0, drops: [], assertionId: null
  }
  const finish = (status: PullReport['status'], error: string | null): PullReport => {
    report.status = status
    report.error = error
    store.runs.finish(run.id, status, {
      error,
      fileCount: 0,
      detail: { fetched: report.fetched, applied: report.applied, changed: report.changed, retracted: report.retracted, dropped: report.dropped, rewinds: report.rewinds.length, rewound: report.rewound, assertion_id: report.assertionId }
    })
    return report
  }

  let envelope: Uint8Array
  try {
    envelope = await fetchAssertion(init.host, peer, volume, { timeoutMs: init.timeoutMs, signal: init.signal })
  } catch (err) {
    const message = describeExchangeFailure(err, peerLabel)
    init.logger.warn('pull fetch failed', { peer: peerLabel, volume, error: message })
    const refused = err instanceof PeerStatusError && err.status === 'UNKNOWN_VOLUME'
    return finish(refused ? 'refused' : 'failed', message)
  }

  try {
    Object.assign(report, applyPulledEnvelope({ store, config, volume: volConfig, volumeId: volRow.id, peer, envelope, runId: run.id, allowRewind: init.allowRewind }))
    if (!init.allowRewind && report.rewinds.length > 0) {
      return finish('partial', `refused ${report.rewinds.length} rewind(s); \`cairn pull ${peerLabel} ${volume} --allow-rewind\` accepts them`)
    }
    return finish('success', null)
  } catch (err) {
    if (!(err instanceof CairnError)) {
      finish('failed', `internal error: ${err instanceof Error ? err.message : String(err)}`)
      throw err
    }
    init.logger.warn('refused a pulled assertion; nothing was written', { peer: peerLabel, volume, code: err.name, error: err.message })
    report.applied = 0
    report.changed = 0
    return finish('refused', `${err.name}: ${err.message}`)
  }
}
