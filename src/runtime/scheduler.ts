/**
 * The volume schedules of `cairn serve` (docs/schedules.md): per volume an index, a full
 * re-hash, a push to every push_to target and a verify of every target, each every N (±10%
 * jitter), each attempt an ordinary recorded run. A volume runs one scheduled job at a time;
 * a job whose run gate is held by another run (a receive, a CLI push, an offload) waits and
 * tries again shortly, without counting as a failure; a failed job backs off (doubling from
 * BACKOFF_BASE_MS, never longer than its interval). The next due time of each job is kept in
 * the store, so `status` can show it and a restarted serve keeps its cadence.
 */
import type { Clock } from '../clock.js'
import { RunConflictError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { AttemptStatus, ScheduleKind } from '../store/schedules.js'
import type { Store } from '../store/store.js'

/** The longest delay one timer holds (2^31 - 1 ms); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** A busy volume is tried again after this long (or its interval, if shorter). */
export const BUSY_RETRY_MS = 15_000
/** The first retry after a failure; each further failure doubles it, up to the job's interval. */
export const BACKOFF_BASE_MS = 60_000
/** Index and push first run within this long of serve starting (spread so a fleet started together does not all run at once). */
export const FIRST_RUN_SPREAD_MS = 5_000

export interface ScheduledJob {
  volume: string
  volumePath: string
  kind: ScheduleKind
  everyMs: number
}

export interface JobResult {
  status: AttemptStatus
  error: string | null
  runIds: number[]
}

export interface SchedulerComponents {
  store: Store
  clock: Clock
  logger: Logger
  jobs: ScheduledJob[]
  run: (job: ScheduledJob, signal: AbortSignal) => Promise<JobResult>
  /** Jobs running at once, over all volumes (one per volume at most). */
  concurrency?: number
  /** Random in [0, 1); injectable for tests. */
  random?: () => number
}

export interface VolumeScheduler {
  start: () => void
  stop: () => Promise<void>
  /** The jobs that are armed (a volume whose row could not be made is left out, with a log line). */
  armed: () => ScheduledJob[]
  /** Resolves once no job is running and none is due (tests). */
  idle: () => Promise<void>
}

const KIND_ORDER: Record<ScheduleKind, number> = { rehash: 0, index: 1, push: 2, verify: 3 }

interface Armed extends ScheduledJob {
  volumeId: number
  nextAtNs: number
  failures: number
  running: boolean
}

export function volumeScheduler (c: SchedulerComponents): VolumeScheduler {
  const random = c.random ?? Math.random
  const concurrency = c.concurrency ?? 2
  const jitter = (ms: number): number => Math.round(ms * (0.9 + 0.2 * random()))
  const abort = new AbortController()
  const running = new Set<Promise<void>>()
  const busyVolumes = new Set<string>()
  let armed: Armed[] = []
  let timer: NodeJS.Timeout | undefined
  let stopped = true

  const arm = (): void => {
    const now = c.clock.nowNs()
    // one start offset per volume: its index comes first, its push right after (kind order)
    const offsets = new Map<string, number>()
    const keep: Array<{ volumeId: number, kind: ScheduleKind }> = []
    armed = []
    for (const job of c.jobs) {
      let volumeId: number
      try {
        volumeId = c.store.volumes.ensure(job.volume, job.volumePath).id
      } catch (err) {
        c.logger.warn('a scheduled job cannot run: its volume does not match the store', { volume: job.volume, kind: job.kind, error: err instanceof Error ? err.message : String(err) })
        continue
      }
      // index and push start soon (the node should start working); a verify or a re-hash is
      // expensive and a first index just read everything: they wait one interval
      const soon = job.kind === 'index' || job.kind === 'push'
      let offset = offsets.get(job.volume)
      if (offset === undefined) offsets.set(job.volume, offset = random())
      // (after the volume's own start offset, so a first verify never comes before the first index)
      const start = offset * Math.min(job.everyMs, FIRST_RUN_SPREAD_MS)
      const first = now + (soon ? start : start + jitter(job.everyMs)) * 1e6
      const row = c.store.schedules.arm(volumeId, job.kind, job.everyMs, first)
      keep.push({ volumeId, kind: job.kind })
      armed.push({ ...job, volumeId, nextAtNs: row.nextAtNs, failures: row.failures, running: false })
    }
    const dropped = c.store.schedules.retainOnly(keep)
    if (dropped > 0) c.logger.info('dropped schedules the config no longer has', { dropped })
  }

  const attempt = async (job: Armed): Promise<void> => {
    const startedAtNs = c.clock.nowNs()
    let result: JobResult
    try {
      result = await c.run(job, abort.signal)
    } catch (err) {
      result = err instanceof RunConflictError
        ? { status: 'busy', error: err.message, runIds: [] }
        : { status: 'failed', error: err instanceof Error ? err.message : String(err), runIds: [] }
    }
    const endedAtNs = c.clock.nowNs()
    let delayMs: number
    if (result.status === 'busy') {
      delayMs = jitter(Math.min(job.everyMs, BUSY_RETRY_MS))
    } else if (result.status === 'failed' || result.status === 'refused') {
      job.failures++
      delayMs = jitter(Math.min(job.everyMs, BACKOFF_BASE_MS * 2 ** Math.min(job.failures - 1, 30)))
    } else {
      job.failures = 0
      delayMs = jitter(job.everyMs)
    }
    job.nextAtNs = endedAtNs + delayMs * 1e6
    const log = result.status === 'failed' || result.status === 'refused' ? c.logger.warn.bind(c.logger) : c.logger.info.bind(c.logger)
    log('scheduled run ended', { volume: job.volume, kind: job.kind, status: result.status, runs: result.runIds, error: result.error, failures: job.failures, next_in_ms: delayMs })
    try {
      c.store.schedules.recordAttempt(job.volumeId, job.kind, { ...result, startedAtNs, endedAtNs, failures: job.failures, nextAtNs: job.nextAtNs })
      // a full re-hash is an index: the quick index waits one interval after it
      if (job.kind === 'rehash' && (result.status === 'success' || result.status === 'partial')) {
        const index = armed.find(a => a.volume === job.volume && a.kind === 'index')
        if (index !== undefined && !index.running) {
          index.nextAtNs = Math.max(index.nextAtNs, endedAtNs + jitter(index.everyMs) * 1e6)
          const row = c.store.schedules.get(index.volumeId, 'index')
          if (row !== undefined) c.store.schedules.recordAttempt(index.volumeId, 'index', { status: row.lastStatus ?? 'success', error: row.lastError, runIds: row.lastRunIds, startedAtNs: row.lastStartedAtNs ?? startedAtNs, endedAtNs: row.lastEndedAtNs ?? endedAtNs, failures: row.failures, nextAtNs: index.nextAtNs })
        }
      }
    } catch (err) {
      c.logger.error('could not record a scheduled attempt', { volume: job.volume, kind: job.kind, error: err instanceof Error ? err.message : String(err) })
    }
  }

  const tick = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (stopped) return
    const now = c.clock.nowNs()
    // the most overdue first; of one volume's due jobs, what finds changes before what sends
    // them (a rehash before the quick index it makes redundant, an index before a push)
    const due = armed.filter(j => !j.running && j.nextAtNs <= now && !busyVolumes.has(j.volume))
      .sort((a, b) => a.volume === b.volume ? KIND_ORDER[a.kind] - KIND_ORDER[b.kind] : a.nextAtNs - b.nextAtNs)
    for (const job of due) {
      if (running.size >= concurrency) break
      if (busyVolumes.has(job.volume)) continue
      job.running = true
      busyVolumes.add(job.volume)
      const p: Promise<void> = attempt(job).finally(() => {
        job.running = false
        busyVolumes.delete(job.volume)
        running.delete(p)
        tick()
      })
      running.add(p)
    }
    const waiting = armed.filter(j => !j.running && !busyVolumes.has(j.volume))
    if (waiting.length === 0 || running.size >= concurrency) return
    const next = Math.min(...waiting.map(j => j.nextAtNs))
    const delayMs = Math.max(0, Math.min(MAX_TIMER_MS, Math.ceil((next - c.clock.nowNs()) / 1e6)))
    timer = setTimeout(tick, delayMs)
  }

  return {
    start: () => {
      if (!stopped) return
      stopped = false
      arm()
      if (armed.length > 0) c.logger.info('volume schedules armed', { jobs: armed.map(j => ({ volume: j.volume, kind: j.kind, every_ms: j.everyMs, next_at_ns: j.nextAtNs })) })
      tick()
    },
    stop: async () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      abort.abort(new Error('the node is stopping'))
      await Promise.allSettled([...running])
    },
    armed: () => armed.map(({ volume, volumePath, kind, everyMs }) => ({ volume, volumePath, kind, everyMs })),
    idle: async () => {
      for (let i = 0; i < 10_000 && running.size > 0; i++) await Promise.allSettled([...running])
    }
  }
}

/** The jobs a config asks for: every configured schedule of every volume (rehash always has one). */
export function scheduledJobs (volumes: Iterable<{ name: string, path: string, schedules?: { indexEveryMs?: number, pushEveryMs?: number, verifyEveryMs?: number, rehashEveryMs: number } }>): ScheduledJob[] {
  const jobs: ScheduledJob[] = []
  for (const v of volumes) {
    const s = v.schedules
    if (s === undefined) continue
    const add = (kind: ScheduleKind, everyMs: number | undefined): void => { if (everyMs !== undefined) jobs.push({ volume: v.name, volumePath: v.path, kind, everyMs }) }
    add('index', s.indexEveryMs)
    add('rehash', s.rehashEveryMs)
    add('push', s.pushEveryMs)
    add('verify', s.verifyEveryMs)
  }
  return jobs
}
