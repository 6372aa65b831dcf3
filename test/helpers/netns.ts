/**
 * Network namespaces for tests that need real multicast (loopback has none here): two
 * namespaces joined by a veth pair on 10.231.0.0/24, each with `lo` up and a multicast route
 * on its veth end, plus isolated namespaces (loopback only, or nothing up). Needs root and iproute2's `ip`; where
 * either is missing `vethPair` says why instead. Names carry this process's pid, so a run that
 * crashed leaves namespaces the next run recognises as stale and deletes.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export interface NetnsEnd {
  ns: string
  ip: string
}

export interface VethPair {
  a: NetnsEnd
  b: NetnsEnd
  /**
   * A namespace with no route to any multicast group: only `lo` up (sends go out on lo), or
   * with `loUp = false` nothing up at all (every send fails with ENETUNREACH).
   */
  isolated: (loUp?: boolean) => string
  /** Deletes every namespace this pair made (their veth ends go with them). Idempotent. */
  cleanup: () => void
}

const PREFIX = 'cairnt'

function ip (args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 })
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Deletes namespaces of earlier runs whose process is gone (at most a few dozen). */
function deleteStale (): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? ''
  for (const line of listed.split('\n').slice(0, 64)) {
    const name = line.split(' ')[0] ?? ''
    const m = new RegExp(`^${PREFIX}(\\d+)x`).exec(name)
    if (m === null || alive(Number(m[1]))) continue
    spawnSync('ip', ['netns', 'del', name], { timeout: 10_000 })
  }
}

/** Why namespaces cannot be made here, or undefined when they can (probably). */
function unavailable (): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)'
  const probe = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: 10_000 })
  if (probe.error !== undefined || probe.status !== 0) return 'no `ip` command (install iproute2)'
  return undefined
}

/** Two namespaces joined by a veth pair, or the reason they cannot be made. */
export function vethPair (): VethPair | { reason: string } {
  const reason = unavailable()
  if (reason !== undefined) return { reason }
  deleteStale()
  const id = `${PREFIX}${process.pid}x${randomBytes(1).toString('hex')}`
  const made: string[] = []
  // veth names (at most 15 characters) are made in this namespace, then moved
  const va = `v${randomBytes(4).toString('hex')}`
  const vb = `v${randomBytes(4).toString('hex')}`
  const cleanup = (): void => {
    for (const ns of made.splice(0)) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 })
    // only left here if making the pair failed before both ends moved
    spawnSync('ip', ['link', 'del', va], { stdio: 'ignore', timeout: 10_000 })
  }
  const newNs = (ns: string, loUp = true): string => {
    ip(['netns', 'add', ns])
    made.push(ns)
    if (loUp) ip(['-n', ns, 'link', 'set', 'lo', 'up'])
    return ns
  }
  try {
    const a = { ns: newNs(`${id}a`), ip: '10.231.0.1' }
    const b = { ns: newNs(`${id}b`), ip: '10.231.0.2' }
    ip(['link', 'add', va, 'type', 'veth', 'peer', 'name', vb])
    for (const [end, dev] of [[a, va], [b, vb]] as const) {
      ip(['link', 'set', dev, 'netns', end.ns])
      ip(['-n', end.ns, 'addr', 'add', `${end.ip}/24`, 'dev', dev])
      ip(['-n', end.ns, 'link', 'set', dev, 'up'])
      ip(['-n', end.ns, 'route', 'add', '224.0.0.0/4', 'dev', dev])
    }
    let extra = 0
    return { a, b, cleanup, isolated: (loUp = true) => newNs(`${id}i${extra++}`, loUp) }
  } catch (err) {
    cleanup()
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim()
    return { reason: `could not make network namespaces: ${stderr !== undefined && stderr !== '' ? stderr : (err as Error).message}` }
  }
}
