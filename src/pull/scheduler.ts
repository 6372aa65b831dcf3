/**
 * The scheduled pulls of `cairn serve`: every `pull_every` (±10% jitter) each enrolled, live
 * peer is pulled for every volume this node declares, at most `concurrency` pulls at a time.
 * A peer that fails is retried later and later (doubling, at most 8× the interval); a peer that
 * does not declare a volume is asked again only after 24 hours. Each pull is a `pull` run.
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { NodeRow } from '../store/nodes.js'
import type { PullReport } from './pull.js'

/** The longest delay one timer holds (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface PullSchedulerInit {
  intervalMs: number
  concurrency?: number
  /** Random in [0, 1); injectable for tests. */
  random?: () => number
}

export interface PullSchedulerComponents {
  livePeers: () => NodeRow[]
  volumes: () => string[]
  pull: (peer: NodeRow, volume: string, signal: AbortSignal) => Promise<PullReport>
  logger: Logger
  clock: Clock
}

export interface PullScheduler {
  start: () => void
  stop: () => Promise<void>
  /** Runs one round now (tests, and the first round at start). */
  round: () => Promise<void>
}

const UNKNOWN_VOLUME_RETRY_MS = 24 * 3600_000

export function pullScheduler (init: PullSchedulerInit): (c: PullSchedulerComponents) => PullScheduler {
  return (c) => {
    const random = init.random ?? Math.random
    const concurrency = init.concurrency ?? 2
    const failures = new Map<string, number>()
    const notBefore = new Map<string, number>()
    let timer: NodeJS.Timeout | undefined
    let running: Promise<void> | undefined
    let stopped = false
    const abort = new AbortController()
    const nowMs = (): number => c.clock.nowNs() / 1e6

    const jitter = (ms: number): number => Math.round(ms * (0.9 + 0.2 * random()))

    const pullOne = async (peer: NodeRow, volume: string): Promise<void> => {
      const key = `${peer.nodeId}/${volume}`
      const wait = notBefore.get(key)
      if (wait !== undefined && wait > nowMs()) return
      try {
        const report = await c.pull(peer, volume, abort.signal)
        if (report.status === 'failed') {
          const n = (failures.get(peer.nodeId) ?? 0) + 1
          failures.set(peer.nodeId, n)
          notBefore.set(key, nowMs() + jitter(init.intervalMs * Math.min(2 ** n, 8)))
        } else {
          failures.delete(peer.nodeId)
          if (report.status === 'refused' && report.error?.includes('UNKNOWN_VOLUME') === true) {
            notBefore.set(key, nowMs() + UNKNOWN_VOLUME_RETRY_MS)
          } else {
            notBefore.delete(key)
          }
        }
      } catch (err) {
        // a run gate refusal (another pull of this pair is running) or an internal error
        c.logger.info('scheduled pull did not run', { peer: peer.name ?? peer.nodeId, volume, error: err instanceof Error ? err.message : String(err) })
      }
    }

    const round = async (): Promise<void> => {
      const jobs: Array<[NodeRow, string]> = []
      for (const peer of c.livePeers()) for (const volume of c.volumes()) jobs.push([peer, volume])
      let next = 0
      const worker = async (): Promise<void> => {
        while (!stopped && next < jobs.length) {
          const job = jobs[next++]
          if (job !== undefined) await pullOne(job[0], job[1])
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker))
    }

    const schedule = (delayMs: number): void => {
      if (stopped) return
      // a timer holds at most MAX_TIMER_MS (about 24.8 days; Node fires a longer one at once):
      // a longer interval waits in steps
      if (delayMs > MAX_TIMER_MS) {
        timer = setTimeout(() => { schedule(delayMs - MAX_TIMER_MS) }, MAX_TIMER_MS)
        return
      }
      timer = setTimeout(() => {
        if (stopped) return
        running = round().catch((err: unknown) => {
          c.logger.error('pull round failed', { error: err instanceof Error ? err.message : String(err) })
        }).finally(() => {
          running = undefined
          schedule(jitter(init.intervalMs))
        })
      }, delayMs)
    }

    return {
      start: () => {
        stopped = false
        // the first round soon after start, jittered so a fleet started together spreads out
        schedule(Math.round(Math.min(init.intervalMs, 2000) * random()))
      },
      stop: async () => {
        stopped = true
        if (timer !== undefined) clearTimeout(timer)
        abort.abort(new Error('the node is stopping'))
        await running
      },
      round
    }
  }
}
