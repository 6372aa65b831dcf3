/**
 * Crash points at every store write (test/crash/), installed only when crash injection is on
 * (src/crash-point.ts), so an ordinary run pays nothing: every outermost transaction gets a
 * point just before it begins and just after it commits, and every write statement run outside
 * a transaction (autocommit) the same. The label names the method that opened the transaction
 * (`store:tx:RunStore.begin`, `store:committed:RunStore.begin`), read from the stack.
 */
import type Database from 'better-sqlite3'
import { crashPoint } from '../crash-point.js'

type Fn = (...args: unknown[]) => unknown

/**
 * Writes of live state that follow libp2p's connection events, not the operation: a peer's
 * last contact and a refused node's knock. They are single autocommit statements that nothing
 * durable reads, and their place in a run's sequence of writes depends on when a connection
 * opened, so as numbered crash points they would not be the same point from one run to the
 * next (CI met that). They are no crash points.
 */
const LIVE_STATE_WRITERS = ['NodeStore.recordSeen', 'PendingPeerStore.record']

/**
 * The function two frames up (above this one and the wrapper that called it): `Class.method`,
 * or the file's name for an anonymous caller. Works from dist/ and from a bundle alike.
 */
function callerLabel (): string {
  const line = (new Error().stack ?? '').split('\n')[3] ?? ''
  const named = /^\s*at (?:async )?([^\s(]+) \(/.exec(line)
  if (named?.[1] !== undefined && !named[1].startsWith('file:')) return named[1].replace(/^(?:Object|Function)\./, '').replace(/^#/, '')
  const file = /([^/:\s]+)\.[cm]?[jt]s:\d+:\d+\)?$/.exec(line)
  return file?.[1] ?? 'unknown'
}

function pointed (db: Database.Database, run: Fn, label: string): Fn {
  return function (this: unknown, ...args: unknown[]): unknown {
    if (db.inTransaction) return run.apply(this, args)
    crashPoint(`store:tx:${label}`)
    const result = run.apply(this, args)
    crashPoint(`store:committed:${label}`)
    return result
  }
}

export function instrumentStoreWrites (db: Database.Database): void {
  const transaction = db.transaction.bind(db)
  const prepare = db.prepare.bind(db)
  const wrapped = (fn: Fn): Fn => {
    const label = callerLabel()
    if (LIVE_STATE_WRITERS.includes(label)) return transaction(fn) as unknown as Fn
    const tx = transaction(fn) as unknown as Fn & Record<'deferred' | 'immediate' | 'exclusive', Fn>
    const w = pointed(db, tx, label) as Fn & Record<string, Fn>
    for (const variant of ['deferred', 'immediate', 'exclusive'] as const) w[variant] = pointed(db, tx[variant], label)
    return w
  }
  Object.assign(db, {
    transaction: wrapped,
    prepare: (source: string) => {
      const stmt = prepare(source)
      if (stmt.reader) return stmt
      const caller = callerLabel()
      if (LIVE_STATE_WRITERS.includes(caller)) return stmt
      const label = `${caller}:${/^\s*(\w+)/.exec(source)?.[1]?.toLowerCase() ?? 'sql'}`
      const run = stmt.run.bind(stmt) as Fn
      Object.assign(stmt, { run: pointed(db, run, label) })
      return stmt
    }
  })
}
