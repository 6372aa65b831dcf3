/**
 * One computation of a route at a time, its answer reused for a short while: building the status
 * walks every file of every volume through the gate, synchronously, and any web page can make a
 * browser send requests to 127.0.0.1. Requests that arrive while a computation runs wait for it;
 * requests within `reuseMs` after it ended get its answer. A failure is not reused.
 */
import type { Clock } from '../clock.js'

export function sharedWork<T> (work: () => Promise<T>, clock: Clock, reuseMs: number): () => Promise<T> {
  let running: Promise<T> | undefined
  let last: { value: T, atNs: number } | undefined
  return async () => {
    if (last !== undefined && clock.nowNs() - last.atNs < reuseMs * 1e6) return last.value
    if (running !== undefined) return await running
    running = work()
    try {
      const value = await running
      last = { value, atNs: clock.nowNs() }
      return value
    } finally {
      running = undefined
    }
  }
}
