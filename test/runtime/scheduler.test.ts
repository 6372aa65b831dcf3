import { describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { RunConflictError } from '../../src/errors.js'
import { parseConfig } from '../../src/config/load.js'
import { BACKOFF_BASE_MS, scheduledJobs, volumeScheduler, type JobResult, type ScheduledJob } from '../../src/runtime/scheduler.js'
import { memoryStore } from '../helpers/store.js'

const store = (): ReturnType<typeof memoryStore>['store'] => memoryStore({ clock: systemClock, path: ':memory:' }).store
/** 0 first (the first run comes at once), then 0.5 (no jitter). */
const noJitter = (): () => number => { let r = 0; return () => { const v = r; r = 0.5; return v } }

async function until (cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

const job = (kind: ScheduledJob['kind'], everyMs: number, volume = 'photos'): ScheduledJob => ({ volume, volumePath: `/srv/${volume}`, kind, everyMs })

describe('volume schedules', () => {
  it('arms a volume\'s first verify after its first index, whatever the draw (the start offset near 1, the jitter at its lowest)', async () => {
    const s = store()
    // first draw: the volume's start offset (0.99 of the spread); then the verify's jitter at 0.9×
    const draws = [0.99, 0]
    const sched = volumeScheduler({
      store: s, clock: systemClock, logger: s.logger, random: () => draws.shift() ?? 0.5, jobs: [job('index', 1000), job('verify', 1000)],
      run: async () => ({ status: 'success', error: null, runIds: [] })
    })
    sched.start()
    const rows = s.schedules.forVolume(s.volumes.get('photos')?.id ?? -1)
    await sched.stop()
    const at = (kind: string): number => rows.find(r => r.kind === kind)?.nextAtNs ?? 0
    expect(at('verify')).toBeGreaterThan(at('index'))
  })

  it('runs each configured job again on its interval and records every attempt', async () => {
    const s = store()
    const seen: string[] = []
    const sched = volumeScheduler({
      store: s, clock: systemClock, logger: s.logger, random: () => 0, jobs: [job('index', 30), job('push', 30)],
      run: async (j) => { seen.push(j.kind); return { status: 'success', error: null, runIds: [seen.length] } }
    })
    sched.start()
    await until(() => seen.filter(k => k === 'index').length >= 3 && seen.filter(k => k === 'push').length >= 3)
    await sched.stop()
    const rows = s.schedules.forVolume(s.volumes.get('photos')?.id ?? -1)
    expect(rows.map(r => r.kind).sort()).toEqual(['index', 'push'])
    for (const r of rows) {
      expect(r.lastStatus).toBe('success')
      expect(r.failures).toBe(0)
      expect(r.lastRunIds.length).toBe(1)
      // the next run is one interval (±10%) after the attempt ended
      expect(r.nextAtNs - (r.lastEndedAtNs ?? 0)).toBeGreaterThanOrEqual(27 * 1e6)
      expect(r.nextAtNs - (r.lastEndedAtNs ?? 0)).toBeLessThanOrEqual(33 * 1e6)
    }
  })

  it('runs one job of a volume at a time, so its own jobs never collide at the run gate', async () => {
    const s = store()
    let active = 0
    let most = 0
    let done = 0
    const sched = volumeScheduler({
      store: s, clock: systemClock, logger: s.logger, random: () => 0, concurrency: 4,
      jobs: [job('index', 10), job('push', 10), job('verify', 10), job('rehash', 10)],
      run: async () => {
        active++
        most = Math.max(most, active)
        await new Promise(resolve => setTimeout(resolve, 15))
        active--
        done++
        return { status: 'success', error: null, runIds: [] }
      }
    })
    sched.start()
    await until(() => done >= 8)
    await sched.stop()
    expect(most).toBe(1)
  })

  it('waits on a busy volume and tries again without counting a failure', async () => {
    const { store: s, logs } = memoryStore({ clock: systemClock, path: ':memory:' })
    let calls = 0
    const sched = volumeScheduler({
      store: s, clock: systemClock, logger: s.logger, random: () => 0, jobs: [job('push', 20)],
      run: async (): Promise<JobResult> => {
        calls++
        if (calls === 1) throw new RunConflictError('push', 'photos', { id: 7, kind: 'index', destination: null, startedAtNs: 0 })
        return { status: 'success', error: null, runIds: [9] }
      }
    })
    sched.start()
    const id = s.volumes.get('photos')?.id ?? -1
    await until(() => s.schedules.get(id, 'push')?.lastStatus === 'success')
    await sched.stop()
    expect(s.schedules.get(id, 'push')?.failures).toBe(0)
    expect(calls).toBeGreaterThanOrEqual(2)
    const ended = logs.records.filter(r => r.msg === 'scheduled run ended').map(r => [r.fields?.status, r.fields?.failures])
    expect(ended[0]).toEqual(['busy', 0])
    expect(ended[1]).toEqual(['success', 0])
  })

  it('backs off a failing job, doubling from the base and never past its interval', async () => {
    const s = store()
    let calls = 0
    const everyMs = 3600_000
    const sched = volumeScheduler({
      store: s, clock: systemClock, logger: s.logger, random: noJitter(), jobs: [job('push', everyMs)],
      run: async () => { calls++; return { status: 'failed', error: 'nas unreachable', runIds: [] } }
    })
    sched.start()
    await until(() => calls >= 1)
    const id = s.volumes.get('photos')?.id ?? -1
    await until(() => s.schedules.get(id, 'push')?.failures === 1)
    await sched.stop()
    const row = s.schedules.get(id, 'push')
    expect(row?.lastStatus).toBe('failed')
    expect(row?.lastError).toBe('nas unreachable')
    // random 0.5: no jitter; the first retry comes after the base delay, not after the hour
    expect((row?.nextAtNs ?? 0) - (row?.lastEndedAtNs ?? 0)).toBe(BACKOFF_BASE_MS * 1e6)
  })

  it('keeps the recorded next run across a restart instead of running everything at once', async () => {
    const s = store()
    let calls = 0
    const run = async (): Promise<JobResult> => { calls++; return { status: 'success', error: null, runIds: [] } }
    const first = volumeScheduler({ store: s, clock: systemClock, logger: s.logger, random: () => 0, jobs: [job('index', 3600_000)], run })
    first.start()
    await until(() => calls === 1)
    await first.idle()
    await first.stop()
    const id = s.volumes.get('photos')?.id ?? -1
    const next = s.schedules.get(id, 'index')?.nextAtNs
    const second = volumeScheduler({ store: s, clock: systemClock, logger: s.logger, random: () => 0, jobs: [job('index', 3600_000)], run })
    second.start()
    await new Promise(resolve => setTimeout(resolve, 50))
    await second.stop()
    expect(calls).toBe(1)
    expect(s.schedules.get(id, 'index')?.nextAtNs).toBe(next)
  })

  it('arms a verify and a re-hash one interval out, and drops schedules the config no longer has', () => {
    const s = store()
    const a = volumeScheduler({ store: s, clock: systemClock, logger: s.logger, random: () => 0.5, jobs: [job('verify', 60_000), job('index', 60_000)], run: async () => ({ status: 'success', error: null, runIds: [] }) })
    const before = systemClock.nowNs()
    a.start()
    void a.stop()
    const id = s.volumes.get('photos')?.id ?? -1
    expect((s.schedules.get(id, 'verify')?.nextAtNs ?? 0) - before).toBeGreaterThanOrEqual(60_000 * 1e6)
    const b = volumeScheduler({ store: s, clock: systemClock, logger: s.logger, jobs: [job('verify', 60_000)], run: async () => ({ status: 'success', error: null, runIds: [] }) })
    b.start()
    void b.stop()
    expect(s.schedules.forVolume(id).map(r => r.kind)).toEqual(['verify'])
  })

  it('stops: no job starts after stop, and stop waits for the one running', async () => {
    const s = store()
    let started = 0
    let finished = 0
    const sched = volumeScheduler({
      store: s, clock: systemClock, logger: s.logger, random: () => 0, jobs: [job('index', 5)],
      run: async () => { started++; await new Promise(resolve => setTimeout(resolve, 30)); finished++; return { status: 'success', error: null, runIds: [] } }
    })
    sched.start()
    await until(() => started === 1)
    await sched.stop()
    expect(finished).toBe(started)
    const after = started
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(started).toBe(after)
  })
})

describe('schedule config', () => {
  const parse = (vol: string): ReturnType<typeof parseConfig> => parseConfig(`name = "laptop"\n[volumes.photos]\npath = "/srv/photos"\n${vol}`, '/x/cairn.toml')

  it('reads index_every, push_every, verify_every and rehash_every; absent means never', () => {
    const c = parse('index_every = "1h"\npush_every = "30m"\nverify_every = "7d"\nrehash_every = "14d"\n')
    expect(c.volumes.get('photos')?.schedules).toEqual({ indexEveryMs: 3600_000, pushEveryMs: 1800_000, verifyEveryMs: 7 * 86400_000, rehashEveryMs: 14 * 86400_000 })
    expect(scheduledJobs(c.volumes.values()).map(j => j.kind)).toEqual(['index', 'rehash', 'push', 'verify'])
    expect(scheduledJobs(parse('').volumes.values()).map(j => j.kind)).toEqual(['rehash'])
  })

  it('defaults rehash_every to offload_max_evidence_age, else 30 days', () => {
    expect(parse('offload_max_evidence_age = "10d"\n').volumes.get('photos')?.schedules?.rehashEveryMs).toBe(10 * 86400_000)
    expect(parse('').volumes.get('photos')?.schedules?.rehashEveryMs).toBe(30 * 86400_000)
  })

  it('refuses a bad schedule duration, naming the key', () => {
    expect(() => parse('push_every = "soon"\n')).toThrow(/volumes\.photos\.push_every/)
  })
})
