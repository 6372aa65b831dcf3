/**
 * What each scheduled job of `cairn serve` runs (docs/schedules.md), through the same entry
 * points as the CLI: `index` is a quick index, `rehash` a full one, `push` pushes to every
 * push_to target (a directory, or a peer over the serving host), `verify` re-reads every
 * directory target and asks every peer the volume is pushed to to re-read its copy
 * (`/cairn/verify/1.0.0`). Each target's attempt is its own
 * recorded run; the job's status is the worst of them (a target busy under another run makes
 * the job `busy`, so it is tried again shortly).
 */
import type { Libp2p } from '@libp2p/interface'
import type { Config, VolumeConfig } from '../config/types.js'
import { CairnError, RunConflictError } from '../errors.js'
import { indexVolume } from '../index/index-volume.js'
import type { Logger } from '../logger.js'
import { resolveTarget } from '../naming.js'
import { pushToDirectory } from '../push/directory-push.js'
import { pushToPeer } from '../push/peer-push.js'
import { verifyDirectory } from '../push/verify-directory.js'
import { verifyPeer } from '../verify/verify-peer.js'
import type { AttemptStatus } from '../store/schedules.js'
import type { Store } from '../store/store.js'
import type { JobResult, ScheduledJob } from './scheduler.js'

export interface ScheduledWorkInit {
  store: Store
  config: () => Config
  host: Libp2p
  logger: Logger
}

interface TargetOutcome {
  target: string
  status: AttemptStatus
  error: string | null
  runId: number | null
}

const RANK: Record<AttemptStatus, number> = { success: 0, partial: 1, busy: 2, aborted: 3, refused: 4, failed: 5 }

function combine (outcomes: TargetOutcome[]): JobResult {
  let status: AttemptStatus = 'success'
  for (const o of outcomes) if (RANK[o.status] > RANK[status]) status = o.status
  const errors = outcomes.filter(o => o.error !== null && o.status !== 'success').map(o => `${o.target}: ${o.error ?? ''}`)
  return { status, error: errors.length === 0 ? null : errors.join('; '), runIds: outcomes.flatMap(o => o.runId === null ? [] : [o.runId]) }
}

/** One target's attempt; a held run gate is `busy`, an operator-fixable refusal `refused`. */
async function attemptTarget (target: string, work: () => Promise<{ runId: number, status: AttemptStatus, error: string | null }>): Promise<TargetOutcome> {
  try {
    const r = await work()
    return { target, status: r.status, error: r.error, runId: r.runId }
  } catch (err) {
    if (err instanceof RunConflictError) return { target, status: 'busy', error: err.message, runId: null }
    const message = err instanceof Error ? err.message : String(err)
    return { target, status: err instanceof CairnError ? 'refused' : 'failed', error: message, runId: null }
  }
}

export function scheduledWork (init: ScheduledWorkInit): (job: ScheduledJob, signal: AbortSignal) => Promise<JobResult> {
  return async (job, signal) => {
    const config = init.config()
    const volume = config.volumes.get(job.volume)
    if (volume === undefined) return { status: 'refused', error: `volume ${job.volume} is no longer configured`, runIds: [] }
    switch (job.kind) {
      case 'index':
      case 'rehash':
        return combine([await attemptTarget(job.volume, async () => {
          const r = await indexVolume({ store: init.store, volume, quick: job.kind === 'index', signal, logger: init.logger.forComponent(job.kind) })
          return { runId: r.runId, status: r.status, error: r.error }
        })])
      case 'push':
        return combine(await pushAll(init, config, volume, signal))
      case 'verify':
        return combine(await verifyAll(init, config, volume, signal))
    }
  }
}

async function pushAll (init: ScheduledWorkInit, config: Config, volume: VolumeConfig, signal: AbortSignal): Promise<TargetOutcome[]> {
  const out: TargetOutcome[] = []
  if (volume.pushTo.length === 0) return [{ target: '(none)', status: 'refused', error: `volumes.${volume.name}.push_to is empty: push_every has nothing to push to`, runId: null }]
  for (const target of volume.pushTo) {
    if (signal.aborted) break
    const t = resolveTarget(init.store, config, target)
    if (t.kind === 'directory') {
      const destination = config.destinations.get(target)
      if (destination === undefined) continue
      out.push(await attemptTarget(target, async () => {
        const r = await pushToDirectory({ store: init.store, volume, destination, shallow: false, signal, configured: (n) => config.destinations.has(n), logger: init.logger.forComponent('push') })
        return { runId: r.runId, status: r.status, error: r.error }
      }))
    } else if (t.kind === 'peer' && t.node.revokedAtNs === null && t.node.enrolledAtNs !== null) {
      const peer = t.node
      out.push(await attemptTarget(target, async () => {
        const r = await pushToPeer({ store: init.store, volume, peer, host: init.host, signal, logger: init.logger.forComponent('push') })
        return { runId: r.runId, status: r.status, error: r.error }
      }))
    } else {
      out.push({ target, status: 'refused', error: t.kind === 'peer' ? `${target} is a revoked peer: remove it from push_to` : `${target} is neither a configured destination nor an enrolled peer`, runId: null })
    }
  }
  return out
}

async function verifyAll (init: ScheduledWorkInit, config: Config, volume: VolumeConfig, signal: AbortSignal): Promise<TargetOutcome[]> {
  const out: TargetOutcome[] = []
  for (const target of new Set([...volume.pushTo, ...volume.offloadRequires])) {
    if (signal.aborted) break
    const t = resolveTarget(init.store, config, target)
    if (t.kind === 'directory') {
      const destination = config.destinations.get(target)
      if (destination === undefined) continue
      out.push(await attemptTarget(target, async () => {
        const r = await verifyDirectory({ store: init.store, volume, destination, logger: init.logger.forComponent('verify') })
        return { runId: r.runId, status: r.status, error: r.error }
      }))
    }
    if (t.kind === 'peer' && t.node.revokedAtNs === null && t.node.enrolledAtNs !== null && volume.pushTo.includes(target)) {
      // the peer re-reads its own copy and signs a fresh assertion (a peer busy with another run is tried again shortly)
      const peer = t.node
      out.push(await attemptTarget(target, async () => {
        const r = await verifyPeer({ store: init.store, config, host: init.host, volume, peer, sample: 0, signal, logger: init.logger.forComponent('verify') })
        return { runId: r.runId, status: r.peerBusy ? 'busy' : r.status, error: r.error }
      }))
    }
    // a relayed directory (PEER/NAME) is verified by the peer that writes it, on its own schedule
  }
  if (out.length === 0) return [{ target: '(none)', status: 'success', error: null, runId: null }]
  return out
}
