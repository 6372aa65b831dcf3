/**
 * Time is injected. Library code asks a Clock, never the global `Date`, so tests can drive it.
 *
 * Timestamps are integer nanoseconds since the Unix epoch held in a JS number. Above 2^53 a
 * double has a spacing of 256 ns at today's epoch, so values are exact integers with about
 * quarter-microsecond resolution, which is far finer than anything cairn decides on.
 */
export interface Clock {
  /** Integer nanoseconds since the epoch. */
  nowNs: () => number
}

export const NS_PER_MS = 1_000_000
export const NS_PER_SECOND = 1_000_000_000

export const systemClock: Clock = {
  nowNs: () => Date.now() * NS_PER_MS
}

/** A clock that only moves when told to; for tests and simulations. */
export class ManualClock implements Clock {
  #now: number

  constructor (startNs = 1_700_000_000 * NS_PER_SECOND) {
    this.#now = startNs
  }

  readonly nowNs = (): number => this.#now

  set (ns: number): void {
    this.#now = ns
  }

  advanceNs (ns: number): void {
    this.#now += ns
  }
}
