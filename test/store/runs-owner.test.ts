/**
 * Runs survive pid reuse (src/store/run-owner.ts): a run is orphaned only when the very
 * process that owns it — pid, start time, boot — is gone, and never by a process that cannot
 * see it (another pid namespace, another host).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { currentOwner, judgeOwner, parseProcStat, type PidStat, type ProcessView, type RunOwner } from '../../src/store/run-owner.js'
import { ownerProbe } from '../../src/store/runs.js'
import { openStore, type Store } from '../../src/store/store.js'
import { tempDir } from '../helpers/store.js'

const SELF: RunOwner = { pid: 100, startTicks: 5000, bootId: 'boot-a', pidNs: '4026531836', host: 'laptop' }

/** A process table: pid -> [state letter, start ticks]; `proc: false` is a system without /proc. */
function view (table: Record<number, [string, number]>, proc = true, killable: number[] = []): ProcessView {
  return {
    stat: (pid): PidStat => {
      if (!proc) return { state: 'unknown' }
      const e = table[pid]
      return e === undefined ? { state: 'absent' } : { state: 'present', letter: e[0], startTicks: e[1] }
    },
    pidAlive: (pid) => killable.includes(pid)
  }
}

describe('who owns a run', () => {
  const owner: RunOwner = { pid: 200, startTicks: 7000, bootId: 'boot-a', pidNs: '4026531836', host: 'laptop' }

  it('judges a run whose pid now names a process with another start time gone (pid reuse)', () => {
    expect(judgeOwner(owner, SELF, view({ 200: ['S', 9999] }))).toBe('gone')
  })

  it('judges a run whose process runs with the recorded start time alive', () => {
    expect(judgeOwner(owner, SELF, view({ 200: ['S', 7000] }))).toBe('alive')
    expect(judgeOwner(owner, SELF, view({ 200: ['D', 7000] }))).toBe('alive')
  })

  it('judges an exited or zombie owner gone', () => {
    expect(judgeOwner(owner, SELF, view({}))).toBe('gone')
    expect(judgeOwner(owner, SELF, view({ 200: ['Z', 7000] }))).toBe('gone')
  })

  it('judges an owner from an earlier boot of this host gone, even if its pid and start time appear again', () => {
    expect(judgeOwner({ ...owner, bootId: 'boot-old' }, SELF, view({ 200: ['S', 7000] }))).toBe('gone')
  })

  it('never judges an owner in another pid namespace, whatever its pid names here', () => {
    const container = { ...owner, pidNs: '4026532999', host: 'a1b2c3' }
    expect(judgeOwner(container, SELF, view({}))).toBe('unseen')
    expect(judgeOwner(container, SELF, view({ 200: ['S', 1] }))).toBe('unseen')
  })

  it('never judges an owner on another host (another boot, another name), nor, without namespace info, on another host name', () => {
    expect(judgeOwner({ ...owner, bootId: 'boot-b', host: 'desk' }, SELF, view({}))).toBe('unseen')
    expect(judgeOwner({ pid: 200, startTicks: null, bootId: null, pidNs: null, host: 'desk' }, { ...SELF, pidNs: null, bootId: null }, view({}, false))).toBe('unseen')
  })

  it('falls back to the pid probe where /proc cannot be read, and for runs recorded before start times were', () => {
    const noProc: RunOwner = { pid: 200, startTicks: null, bootId: null, pidNs: null, host: 'laptop' }
    expect(judgeOwner(noProc, { ...SELF, startTicks: null, bootId: null, pidNs: null }, view({}, false, [200]))).toBe('alive')
    expect(judgeOwner(noProc, { ...SELF, startTicks: null, bootId: null, pidNs: null }, view({}, false, []))).toBe('gone')
    const legacy: RunOwner = { pid: 200, startTicks: null, bootId: null, pidNs: null, host: null }
    expect(judgeOwner(legacy, SELF, view({ 200: ['S', 1] }))).toBe('alive')
    expect(judgeOwner(legacy, SELF, view({}))).toBe('gone')
  })

  it('reads the start time after the last parenthesis of /proc/PID/stat (a command name may hold both)', () => {
    const fields = ['S', ...Array.from({ length: 18 }, (_, i) => String(i + 4)), '123456', '0']
    expect(parseProcStat(`42 (a) b (c)) ${fields.join(' ')}`)).toEqual({ letter: 'S', startTicks: 123456 })
    expect(parseProcStat('garbage')).toBeUndefined()
  })

  it('records this process with its real start time, boot and namespace on Linux', () => {
    const me = currentOwner()
    expect(me.pid).toBe(process.pid)
    if (process.platform !== 'linux') return
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'))
    expect(me.startTicks).toBe(stat?.startTicks)
    expect(me.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim())
    expect(me.pidNs).toMatch(/^\d+$/)
  })
})

describe('orphaned runs and pid reuse', () => {
  function openAs (path: string, owner: RunOwner, v: ProcessView): Store {
    return openStore({ path, clock: new ManualClock(), logger: silentLogger, owner, probeOwner: ownerProbe(v) })
  }

  it('reaps a run whose pid was reused by a live process with another start time, at begin and at startup', () => {
    const path = join(tempDir(), 'cairn.db')
    const dead: RunOwner = { ...SELF, pid: 300, startTicks: 1000 }
    // pid 300 is alive again, as another process (it started later)
    const table = view({ 100: ['S', 5000], 300: ['S', 8000] })
    const a = openAs(path, dead, table)
    const vol = a.volumes.ensure('photos', '/data/photos')
    const stale = a.runs.begin({ kind: 'offload', volumeId: vol.id })
    const stale2 = a.runs.begin({ kind: 'pull' })
    a.close()
    const b = openAs(path, SELF, table)
    expect(b.runs.begin({ kind: 'index', volumeId: vol.id }).status).toBe('running')
    expect(b.runs.get(stale.id)).toMatchObject({ status: 'aborted', error: 'aborted: owner process 300 is gone' })
    expect(b.runs.reapOrphans().map(r => r.id)).toEqual([stale2.id])
    b.close()
  })

  it('never reaps a run its live owner still runs, nor one owned by a process in another namespace', () => {
    const path = join(tempDir(), 'cairn.db')
    const live: RunOwner = { ...SELF, pid: 300, startTicks: 1000 }
    const container: RunOwner = { ...SELF, pid: 300, startTicks: 1, pidNs: '4026532999', host: 'a1b2c3' }
    const table = view({ 100: ['S', 5000], 300: ['S', 1000] })
    const a = openAs(path, live, table)
    const vol = a.volumes.ensure('photos', '/data/photos')
    const other = a.volumes.ensure('music', '/data/music')
    const running = a.runs.begin({ kind: 'offload', volumeId: vol.id })
    a.close()
    const c = openAs(path, container, table)
    const contained = c.runs.begin({ kind: 'offload', volumeId: other.id })
    c.close()
    const b = openAs(path, SELF, table)
    expect(b.runs.reapOrphans()).toEqual([])
    expect(() => b.runs.begin({ kind: 'index', volumeId: vol.id })).toThrow(expect.objectContaining({ name: 'RunConflictError' }))
    expect(() => b.runs.begin({ kind: 'index', volumeId: other.id })).toThrow(expect.objectContaining({
      name: 'RunConflictError', blocking: expect.objectContaining({ id: contained.id, unseenOwner: 'process 300 on host a1b2c3 (pid namespace 4026532999)' })
    }))
    expect(b.runs.get(running.id).status).toBe('running')
    expect(b.runs.get(contained.id)).toMatchObject({ status: 'running', owner: container })
    b.close()
  })

  it('never reaps a run of this very process through the real /proc, and reaps one whose recorded start time this pid does not have', () => {
    const path = join(tempDir(), 'cairn.db')
    const me = currentOwner()
    const a = openStore({ path, clock: new ManualClock(), logger: silentLogger })
    const vol = a.volumes.ensure('photos', '/data/photos')
    const mine = a.runs.begin({ kind: 'offload', volumeId: vol.id })
    expect(a.runs.get(mine.id).owner).toEqual(me)
    // this pid, as it was named by a process that started one tick earlier: a reused pid
    const earlier = openStore({ path, clock: new ManualClock(), logger: silentLogger, owner: { ...me, startTicks: (me.startTicks ?? 1) - 1 } })
    const reused = earlier.runs.begin({ kind: 'pull' })
    earlier.close()
    // another process (the simulator's ghost pid, never alive) judges both through /proc
    const ghost = openStore({ path, clock: new ManualClock(), logger: silentLogger, pid: 4_194_305 })
    const reaped = ghost.runs.reapOrphans().map(r => r.id)
    if (me.startTicks !== null) expect(reaped).toEqual([reused.id])
    expect(ghost.runs.get(mine.id).status).toBe('running')
    ghost.close()
    a.close()
  })

  it('keeps a run\'s owner immutable in SQL', () => {
    const path = join(tempDir(), 'cairn.db')
    const a = openAs(path, SELF, view({}))
    const run = a.runs.begin({ kind: 'pull' })
    expect(() => a.db.prepare('UPDATE runs SET owner_start_ticks = 1 WHERE id = ?').run(run.id)).toThrow(/immutable/)
    a.close()
  })
})
