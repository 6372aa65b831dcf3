/**
 * Crash injection (test/crash/): a named point at each store write and each filesystem commit
 * point. Off unless the environment asks for it, and then read once at start:
 *  - `CAIRN_CRASH_TRACE=FILE` appends one line per point reached (`<n> <label>`), synchronously,
 *    so a harness can list an operation's points by running it once;
 *  - `CAIRN_CRASH_AT=N` kills this process with SIGKILL when it reaches its N-th point (1-based),
 *    after writing that point's line to the trace: no cleanup, no finally, no exit handler runs;
 *  - `CAIRN_CRASH_MATCH=TEXT` counts only points whose label contains TEXT.
 * A point costs one integer comparison when injection is off.
 */
import { appendFileSync } from 'node:fs'

const env = process.env
const at = env.CAIRN_CRASH_AT === undefined ? 0 : Number(env.CAIRN_CRASH_AT)
const trace = env.CAIRN_CRASH_TRACE ?? ''
const match = env.CAIRN_CRASH_MATCH ?? ''
const active = (Number.isSafeInteger(at) && at > 0) || trace !== ''
let reached = 0

/** Whether injection is on (a caller may then instrument more, e.g. every store write). */
export function crashInjectionActive (): boolean {
  return active
}

/** Marks a crash point; `label` names the step about to happen or just done (e.g. `receive:link`). */
export function crashPoint (label: string): void {
  if (!active) return
  if (match !== '' && !label.includes(match)) return
  reached++
  if (trace !== '') appendFileSync(trace, `${reached} ${label}\n`)
  if (reached === at) process.kill(process.pid, 'SIGKILL')
}
