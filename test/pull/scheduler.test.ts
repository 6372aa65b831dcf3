import { describe, expect, it, vi } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import type { PullReport } from '../../src/pull/pull.js'
import { pullScheduler } from '../../src/pull/scheduler.js'
import type { NodeRow } from '../../src/store/nodes.js'

function peer (name: string): NodeRow {
  return { id: name.length, nodeId: `id-${name}` as NodeRow['nodeId'], name, publicKey: new Uint8Array(32), isSelf: false, addrs: [], pinnedAddrs: [], lanAddrs: [], createdAtNs: 0, enrolledAtNs: 1, revokedAtNs: null, lastSeenNs: null }
}

function report (status: PullReport['status'], error: string | null = null): PullReport {
  return { runId: 1, volume: 'v', peer: 'p', status, error, fetched: 0, applied: 0, changed: 0, retracted: 0, dropped: 0, rewinds: [], rewound: 0, drops: [], assertionId: null }
}

describe('pull scheduler', () => {
  it('pulls every live peer for every volume, at most `concurrency` at a time', async () => {
    let inFlight = 0
    let maxInFlight = 0
    const seen: string[] = []
    const s = pullScheduler({ intervalMs: 1000, concurrency: 2, random: () => 0.5 })({
      livePeers: () => [peer('a'), peer('b'), peer('c')],
      volumes: () => ['photos', 'music'],
      pull: async (p, v) => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise(resolve => setTimeout(resolve, 5))
        inFlight--
        seen.push(`${p.name ?? ''}/${v}`)
        return report('success')
      },
      logger: silentLogger,
      clock: new ManualClock()
    })
    await s.round()
    expect(seen.sort()).toEqual(['a/music', 'a/photos', 'b/music', 'b/photos', 'c/music', 'c/photos'])
    expect(maxInFlight).toBe(2)
  })

  it('backs off a failing peer (doubling, capped at 8 intervals) and resets after a success', async () => {
    const clock = new ManualClock()
    const calls: number[] = []
    let fail = true
    const s = pullScheduler({ intervalMs: 1000, random: () => 0.5 })({
      livePeers: () => [peer('a')],
      volumes: () => ['photos'],
      pull: async () => { calls.push(clock.nowNs()); return report(fail ? 'failed' : 'success') },
      logger: silentLogger,
      clock
    })
    const roundAt = async (ms: number): Promise<number> => {
      clock.set(ms * 1e6)
      const before = calls.length
      await s.round()
      return calls.length - before
    }
    expect(await roundAt(0)).toBe(1) // fails: next try not before 2 s
    expect(await roundAt(1_500)).toBe(0)
    expect(await roundAt(2_100)).toBe(1) // fails again: not before +4 s
    expect(await roundAt(5_000)).toBe(0)
    expect(await roundAt(6_200)).toBe(1)
    fail = false
    expect(await roundAt(14_300)).toBe(1) // 8 s later (cap 8×), succeeds
    expect(await roundAt(14_400)).toBe(1) // no back-off after a success
  })

  it('asks a peer that does not declare a volume again only after a day', async () => {
    const clock = new ManualClock()
    let calls = 0
    const s = pullScheduler({ intervalMs: 1000, random: () => 0.5 })({
      livePeers: () => [peer('a')],
      volumes: () => ['photos'],
      pull: async () => { calls++; return report('refused', 'a answered UNKNOWN_VOLUME: no volume photos here') },
      logger: silentLogger,
      clock
    })
    await s.round()
    clock.advanceNs(3600e9)
    await s.round()
    expect(calls).toBe(1)
    clock.advanceNs(24 * 3600e9)
    await s.round()
    expect(calls).toBe(2)
  })

  it('waits out an interval longer than one timer holds (pull_every over 24.8 days) instead of pulling at once, again and again', async () => {
    vi.useFakeTimers()
    try {
      const day = 24 * 3600 * 1000
      let rounds = 0
      const s = pullScheduler({ intervalMs: 40 * day, random: () => 0.5 })({
        livePeers: () => [peer('a')],
        volumes: () => ['photos'],
        pull: async () => { rounds++; return report('success') },
        logger: silentLogger,
        clock: new ManualClock()
      })
      s.start()
      await vi.advanceTimersByTimeAsync(2000)
      expect(rounds).toBe(1)
      await vi.advanceTimersByTimeAsync(30 * day)
      expect(rounds).toBe(1)
      await vi.advanceTimersByTimeAsync(20 * day)
      expect(rounds).toBe(2)
      await s.stop()
    } finally {
      vi.useRealTimers()
    }
  })
})
