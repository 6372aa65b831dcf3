/**
 * `cairn serve` records its pid and the addresses it actually listens on in
 * `<home>/serve.json`, so `cairn id` can print dialable addresses (port 0 in the config
 * becomes a real port) and a second `serve` on the same home is refused. `http_url` is where
 * its status page answers (absent: HTTP is off or could not bind).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { probeProcess, type ProcessProbe } from './store/runs.js'

export interface ServeState {
  pid: number
  addrs: string[]
  startedAtNs: number
  /** The status page's URL (docs/http.md); absent when HTTP is off. */
  httpUrl?: string
}

export function writeServeState (path: string, state: ServeState): void {
  const tmp = `${path}.${state.pid}.tmp`
  writeFileSync(tmp, JSON.stringify({ pid: state.pid, addrs: state.addrs, started_at_ns: state.startedAtNs, ...(state.httpUrl === undefined ? {} : { http_url: state.httpUrl }) }) + '\n', { mode: 0o644 })
  renameSync(tmp, path)
}

/** The state of a live serve process on this home, or undefined. */
export function readLiveServeState (path: string, isAlive: ProcessProbe = probeProcess): ServeState | undefined {
  let doc: { pid?: unknown, addrs?: unknown, started_at_ns?: unknown, http_url?: unknown }
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as typeof doc
  } catch {
    return undefined
  }
  if (typeof doc.pid !== 'number' || !Array.isArray(doc.addrs) || !isAlive(doc.pid)) return undefined
  return {
    pid: doc.pid,
    addrs: doc.addrs.filter((a): a is string => typeof a === 'string'),
    startedAtNs: typeof doc.started_at_ns === 'number' ? doc.started_at_ns : 0,
    ...(typeof doc.http_url === 'string' ? { httpUrl: doc.http_url } : {})
  }
}

export function removeServeState (path: string, pid: number): void {
  const live = readLiveServeState(path, () => true)
  if (live === undefined || live.pid === pid) rmSync(path, { force: true })
}
