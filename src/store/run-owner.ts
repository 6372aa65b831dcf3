/**
 * Who owns a run, and whether that process is gone (DESIGN invariant 11: an orphaned run is
 * reaped, a live one never).
 *
 * A pid alone names a process only until it exits: the kernel reuses it, and a dead run whose
 * pid was reused would block its volume forever. So a run records its owner as
 *  - the pid, with the process's start time (field 22 of /proc/PID/stat, clock ticks since
 *    boot): the same pid with another start time is another process;
 *  - the boot id (/proc/sys/kernel/random/boot_id): any process of an earlier boot is gone;
 *  - the pid namespace (the inode behind /proc/self/ns/pid) and the host name: a process in
 *    another container sharing the home sees other pids (the same number may name another
 *    process, or the owner is invisible), so it can never judge the owner.
 *
 * The rule (`judgeOwner`): a run is orphaned only when its owner is seen to be gone —
 *  - an earlier boot of this same host (boot ids differ, host names equal): gone;
 *  - another boot and another host name (another machine on a shared home, or a renamed
 *    host): unseen, never reaped from here;
 *  - the same boot in another pid namespace, or (without namespace info) another host name:
 *    unseen, never reaped from here;
 *  - otherwise: /proc/PID/stat absent, a zombie, or another start time: gone; the same start
 *    time: alive. Without a recorded start time the pid's presence decides.
 *  - where /proc cannot be read (not Linux) only the pid is recorded and probed with
 *    kill(pid, 0), as before: there, a reused pid keeps a dead run blocking until that
 *    process exits; that is the safe side.
 * An unseen owner's run blocks until it finishes or is reaped by a process that can see it
 * (run the command in the same container or host).
 */
import { readFileSync, readlinkSync } from 'node:fs'
import { hostname } from 'node:os'

export interface RunOwner {
  pid: number
  /** Start time of the process in clock ticks since boot; null where /proc is unavailable. */
  startTicks: number | null
  bootId: string | null
  pidNs: string | null
  host: string | null
}

export type OwnerState = 'alive' | 'gone' | 'unseen'

/** What this process can see of another pid: absent, or its state letter and start time. */
export type PidStat = { state: 'absent' } | { state: 'present', letter: string, startTicks: number } | { state: 'unknown' }

/** How a caller sees processes (tests inject one). */
export interface ProcessView {
  /** /proc/PID/stat of a pid, or unknown where /proc cannot be read. */
  stat: (pid: number) => PidStat
  /** kill(pid, 0): whether a pid is alive (the fallback without /proc). */
  pidAlive: (pid: number) => boolean
}

/** Parses /proc/PID/stat: the comm field may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat (text: string): { letter: string, startTicks: number } | undefined {
  const close = text.lastIndexOf(')')
  if (close < 0) return undefined
  const fields = text.slice(close + 2).trim().split(' ')
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19]
  const letter = fields[0]
  const start = Number(fields[19])
  if (letter === undefined || letter === '' || !Number.isSafeInteger(start) || start < 0) return undefined
  return { letter, startTicks: start }
}

function readProcStat (pid: number): PidStat {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ESRCH') return procReadable() ? { state: 'absent' } : { state: 'unknown' }
    return { state: 'unknown' }
  }
  const parsed = parseProcStat(text)
  return parsed === undefined ? { state: 'unknown' } : { state: 'present', ...parsed }
}

let procOk: boolean | undefined
function procReadable (): boolean {
  if (procOk === undefined) {
    try {
      readFileSync('/proc/self/stat', 'utf8')
      procOk = true
    } catch {
      procOk = false
    }
  }
  return procOk
}

export function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export const systemProcessView: ProcessView = { stat: readProcStat, pidAlive }

function readTrimmed (path: string): string | null {
  try {
    const s = readFileSync(path, 'utf8').trim()
    return s === '' ? null : s.slice(0, 64)
  } catch {
    return null
  }
}

function pidNamespace (): string | null {
  try {
    // "pid:[4026531836]": the inode names the namespace for as long as the kernel runs
    const m = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))
    return m?.[1] ?? null
  } catch {
    return null
  }
}

/** This process as a run owner (`pid` overrides the pid, for tests and the simulator's ghost runs). */
export function currentOwner (pid: number = process.pid): RunOwner {
  const self = readProcStat(process.pid)
  const host = hostname()
  return {
    pid,
    // another pid than ours: we do not know its start time
    startTicks: pid === process.pid && self.state === 'present' ? self.startTicks : null,
    bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
    pidNs: pidNamespace(),
    host: host === '' ? null : host.slice(0, 255)
  }
}

export function sameOwner (a: RunOwner, b: RunOwner): boolean {
  return a.pid === b.pid && a.startTicks === b.startTicks && a.bootId === b.bootId && a.pidNs === b.pidNs && a.host === b.host
}

/** Whether `owner` (a run's recorded owner) is gone, as seen by `self` through `view`. */
export function judgeOwner (owner: RunOwner, self: RunOwner, view: ProcessView): OwnerState {
  const hostsDiffer = owner.host !== null && self.host !== null && owner.host !== self.host
  if (owner.bootId !== null && self.bootId !== null && owner.bootId !== self.bootId) {
    return hostsDiffer ? 'unseen' : 'gone'
  }
  const sameBoot = owner.bootId !== null && owner.bootId === self.bootId
  if (owner.pidNs !== null && self.pidNs !== null) {
    if (owner.pidNs !== self.pidNs) return 'unseen'
  } else if (hostsDiffer) {
    return 'unseen'
  }
  const st = view.stat(owner.pid)
  if (st.state === 'unknown') return view.pidAlive(owner.pid) ? 'alive' : 'gone'
  if (st.state === 'absent') return 'gone'
  if (st.letter === 'Z' || st.letter === 'X') return 'gone'
  // a start time means something only within the boot it was read in
  if (owner.startTicks !== null && sameBoot && st.startTicks !== owner.startTicks) return 'gone'
  return 'alive'
}
