/**
 * The hold phase of a real offload (DESIGN invariant 29), between "the gate passed" and the
 * first unlink:
 *
 *  a. record this node's offload intents for the files the gate passed, in one transaction;
 *     a file this node holds for a peer's offload gets no intent and is refused
 *     (`held-for-peer`);
 *  b. ask every custodian — the peer whose custody a required target relies on — to hold the
 *     files (`requestHold`); no host, an unreachable peer or a refusal refuses those files
 *     (`not-held`);
 *  c. the offload may then unlink only files every custodian holds, and only while every hold
 *     and this node's intents are unexpired: `live()` is asked before each file, and the
 *     unlink hook asks again right before the unlink itself (hashing a large file takes time);
 *  d. `release()` ends the intents and the holds taken, when the offload run ends.
 *
 * A directory target needs no hold: cairn never deletes at a directory.
 */
import { isDirectoryKey } from '../store/destinations.js'
import type { Libp2p } from '@libp2p/interface'
import type { VolumeConfig } from '../config/types.js'
import { CairnError } from '../errors.js'
import { requestHold, type HoldRefusedReason } from '../hold/client.js'
import type { Logger } from '../logger.js'
import { HOLD_DEADLINE_MS, MAX_HOLD_DURATION_MS } from '../protocol/limits.js'
import type { LiveFile } from '../store/files.js'
import type { Store } from '../store/store.js'
import type { GatePolicy, GateTarget } from './gate.js'
import { heldForPeerAdvice, holdAdvice, holdDetail, type NodeNamer, type ReportBuilder, type RefusalView } from './report.js'
import type { UnlinkHooks } from './unlink.js'

/** An unlink must start at least this long (or a quarter of a shorter hold) before the earliest hold ends. */
export const HOLD_UNLINK_MARGIN_NS = 5e9

export class HoldExpiredError extends CairnError {
  override name = 'HoldExpiredError' as const
  constructor (readonly path: string) {
    super(`the holds this offload relies on ended before ${path} could be unlinked; run the offload again`)
  }
}

export interface HoldPhaseInit {
  store: Store
  host: Libp2p | undefined
  volume: VolumeConfig
  volumeId: number
  runId: number
  policy: GatePolicy
  /** The files the gate passed, re-read, present. */
  files: LiveFile[]
  builder: ReportBuilder
  name: NodeNamer
  logger: Logger
  /** How long to ask custodians to hold (default and maximum MAX_HOLD_DURATION_MS). */
  durationMs?: number
  deadlineMs?: number
}

export interface HoldPhase {
  /** Files that may be unlinked, in the order given. */
  allowed: LiveFile[]
  /** Refused files by path, with their reasons (already counted in the builder's groups). */
  refused: Map<string, RefusalView[]>
  /** Whether an unlink may start now: every hold and intent outlives it (renews intents). */
  live: () => boolean
  /** Unlink hooks that re-check `live()` immediately before the unlink. */
  hooks: (inner: UnlinkHooks | undefined) => UnlinkHooks
  /** Why the offload must stop, once `live()` returned false. */
  stopReason: string
  release: () => void
}

export async function runHoldPhase (init: HoldPhaseInit): Promise<HoldPhase> {
  const { store, builder, name } = init
  const clock = store.clock
  const durationMs = Math.min(init.durationMs ?? MAX_HOLD_DURATION_MS, MAX_HOLD_DURATION_MS)
  const windowNs = durationMs * 1e6
  const marginNs = Math.min(HOLD_UNLINK_MARGIN_NS, windowNs / 4)
  const refused = new Map<string, RefusalView[]>()
  const refuse = (f: LiveFile, target: string, view: Omit<RefusalView, 'target'>, advice: string): void => {
    const v: RefusalView = { target, ...view }
    const list = refused.get(f.path) ?? []
    const firstForTarget = !list.some(x => x.target === target)
    list.push(v)
    refused.set(f.path, list)
    const key = `${target}\u0000${v.cause}`
    const g = builder.groups.get(key)
    if (g === undefined) builder.groups.set(key, { ...v, files: 1, summary: '', advice, example_path: f.path })
    else g.files++
    const req = builder.requirements.get(target)
    if (firstForTarget && req !== undefined) {
      // the gate counted the file as satisfying this requirement
      req.satisfied--
      req.blocked++
    }
  }

  // a. intents, refusing what this node holds for a peer
  let intentExpiresAtNs = clock.nowNs() + windowNs
  const intents = store.holds.beginIntents(init.volumeId, init.runId, init.files.map(f => ({ path: f.path, hash: f.hash })), intentExpiresAtNs)
  const byPath = new Map(init.files.map(f => [f.path, f]))
  for (const h of intents.heldForPeer) {
    const peer = name(h.peerNodeId)
    refuse(byPath.get(h.path) as LiveFile, peer, { cause: 'held-for-peer', detail: `this node holds this file for ${peer}'s offload`, provenance: `hold granted by this node to ${peer}` }, heldForPeerAdvice(peer))
  }
  let candidates = init.files.filter(f => !refused.has(f.path))

  // b. a hold from every custodian, for every file (each file relies on every required target)
  const custodians = new Map<number, GateTarget[]>()
  for (const t of init.policy.targets) {
    const c = t.custodian
    if (c === null) continue
    custodians.set(c, [...(custodians.get(c) ?? []), t])
  }
  let holdsEndNs = Number.POSITIVE_INFINITY
  if (candidates.length > 0 && custodians.size > 0) {
    try {
      await askCustodians()
    } catch (err) {
      store.holds.release(init.runId)
      throw err
    }
  }
  async function askCustodians (): Promise<void> {
    const held = candidates.map(f => ({ path: f.path, hash: f.hash }))
    const outcomes = await Promise.all([...custodians.keys()].map(async (rowId) => {
      const peer = store.nodes.byRowId(rowId)
      if (peer === undefined) return { rowId, outcome: { granted: new Set<string>(), refused: new Map<string, HoldRefusedReason>(held.map(f => [f.path, 'unreachable'])), expiresAtNs: null } }
      // a directory only this custodian reaches: it must hold the file there too, now
      const placedAt = (custodians.get(rowId) ?? []).filter(t => t.reach === 'relayed' && t.custodian === rowId && isDirectoryKey(t.key)).map(t => t.key)
      return { rowId, outcome: await requestHold(init.host, peer, init.volume.name, held, durationMs, init.deadlineMs ?? HOLD_DEADLINE_MS, { store, volumeId: init.volumeId, runId: init.runId, logger: init.logger }, placedAt) }
    }))
    for (const { rowId, outcome } of outcomes) {
      const holder = name(rowId)
      if (outcome.expiresAtNs !== null) holdsEndNs = Math.min(holdsEndNs, outcome.expiresAtNs)
      for (const f of candidates) {
        if (outcome.granted.has(f.path)) continue
        const why = outcome.refused.get(f.path) ?? 'refused'
        for (const t of custodians.get(rowId) ?? []) {
          refuse(f, t.name, { cause: 'not-held', detail: holdDetail(holder, why), provenance: `no hold from ${holder}` }, holdAdvice(holder, why))
        }
      }
      if (outcome.refused.size > 0) init.logger.info('a custodian did not hold every file', { volume: init.volume.name, peer: holder, held: outcome.granted.size, refused: outcome.refused.size })
    }
    candidates = candidates.filter(f => !refused.has(f.path))
  }

  // c. the clock decides, before every unlink
  const phase: HoldPhase = {
    allowed: candidates,
    refused,
    stopReason: '',
    live: () => {
      const now = clock.nowNs()
      if (now + marginNs >= holdsEndNs) {
        phase.stopReason = 'the holds this offload relies on are ending; run the offload again to take new ones'
        return false
      }
      if (intentExpiresAtNs - now < windowNs / 2) {
        // renewed only while still live: a lapsed intent may have let a peer's hold in
        const renewed = now + windowNs
        if (intentExpiresAtNs <= now + marginNs || store.holds.extendIntents(init.runId, renewed) === 0) {
          phase.stopReason = 'this offload\'s intents lapsed; run the offload again'
          return false
        }
        intentExpiresAtNs = renewed
      }
      return true
    },
    hooks: (inner) => ({
      ...inner,
      beforeUnlink: async (abs) => {
        await inner?.beforeUnlink?.(abs)
        const now = clock.nowNs()
        if (now >= holdsEndNs || now >= intentExpiresAtNs) throw new HoldExpiredError(abs)
      }
    }),
    // d. the end of the run
    release: () => { store.holds.release(init.runId) }
  }
  return phase
}
