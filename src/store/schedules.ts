/**
 * The live state of `cairn serve`'s schedules (migration 0012): per (volume, kind) when it
 * runs next, how often, and how the last attempt went. Written only by the serving node's
 * scheduler; read by `status`. Not evidence and not history — every attempt is a recorded run.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'

export type ScheduleKind = 'index' | 'rehash' | 'push' | 'verify'
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['index', 'rehash', 'push', 'verify']

/** How an attempt ended: a run status, or `busy` (another run held the volume's gate: it waited). */
export type AttemptStatus = 'success' | 'partial' | 'failed' | 'refused' | 'busy' | 'aborted'

export interface ScheduleRow {
  volumeId: number
  kind: ScheduleKind
  everyMs: number
  nextAtNs: number
  failures: number
  lastStartedAtNs: number | null
  lastEndedAtNs: number | null
  lastStatus: AttemptStatus | null
  lastError: string | null
  lastRunIds: number[]
  updatedAtNs: number
}

interface Raw {
  volume_id: number
  kind: ScheduleKind
  every_ms: number
  next_at_ns: number
  failures: number
  last_started_at_ns: number | null
  last_ended_at_ns: number | null
  last_status: AttemptStatus | null
  last_error: string | null
  last_run_ids: string
  updated_at_ns: number
}

function fromRaw (r: Raw): ScheduleRow {
  return {
    volumeId: r.volume_id,
    kind: r.kind,
    everyMs: r.every_ms,
    nextAtNs: r.next_at_ns,
    failures: r.failures,
    lastStartedAtNs: r.last_started_at_ns,
    lastEndedAtNs: r.last_ended_at_ns,
    lastStatus: r.last_status,
    lastError: r.last_error,
    lastRunIds: JSON.parse(r.last_run_ids) as number[],
    updatedAtNs: r.updated_at_ns
  }
}

export interface AttemptOutcome {
  status: AttemptStatus
  error: string | null
  runIds: number[]
  startedAtNs: number
  endedAtNs: number
  failures: number
  nextAtNs: number
}

export class ScheduleStore {
  constructor (private readonly db: Database.Database, private readonly clock: Clock) {}

  get (volumeId: number, kind: ScheduleKind): ScheduleRow | undefined {
    const r = this.db.prepare('SELECT * FROM schedules WHERE volume_id = ? AND kind = ?').get(volumeId, kind) as Raw | undefined
    return r === undefined ? undefined : fromRaw(r)
  }

  forVolume (volumeId: number): ScheduleRow[] {
    return (this.db.prepare('SELECT * FROM schedules WHERE volume_id = ? ORDER BY kind').all(volumeId) as Raw[]).map(fromRaw)
  }

  /**
   * The schedule as serve starts it: a new row due at `firstAtNs`, or the existing row with
   * its interval updated (a shorter interval brings the next run forward, never past now).
   */
  arm (volumeId: number, kind: ScheduleKind, everyMs: number, firstAtNs: number): ScheduleRow {
    const now = this.clock.nowNs()
    return this.db.transaction((): ScheduleRow => {
      const existing = this.get(volumeId, kind)
      if (existing === undefined) {
        this.db.prepare('INSERT INTO schedules (volume_id, kind, every_ms, next_at_ns, updated_at_ns) VALUES (?, ?, ?, ?, ?)')
          .run(volumeId, kind, everyMs, Math.max(0, Math.round(firstAtNs)), now)
      } else if (existing.everyMs !== everyMs) {
        const last = existing.lastEndedAtNs ?? existing.updatedAtNs
        const next = Math.min(existing.nextAtNs, Math.max(now, last + everyMs * 1e6))
        this.db.prepare('UPDATE schedules SET every_ms = ?, next_at_ns = ?, updated_at_ns = ? WHERE volume_id = ? AND kind = ?')
          .run(everyMs, Math.round(next), now, volumeId, kind)
      }
      return this.get(volumeId, kind) as ScheduleRow
    }).immediate()
  }

  /** Records an attempt's outcome and the next due time, in one transaction. */
  recordAttempt (volumeId: number, kind: ScheduleKind, o: AttemptOutcome): void {
    this.db.prepare(`UPDATE schedules SET next_at_ns = ?, failures = ?, last_started_at_ns = ?, last_ended_at_ns = ?, last_status = ?,
      last_error = ?, last_run_ids = ?, updated_at_ns = ? WHERE volume_id = ? AND kind = ?`)
      .run(Math.max(0, Math.round(o.nextAtNs)), o.failures, Math.round(o.startedAtNs), Math.round(o.endedAtNs), o.status, o.error,
        JSON.stringify(o.runIds), this.clock.nowNs(), volumeId, kind)
  }

  /** Drops the rows of schedules the config no longer has (serve start). */
  retainOnly (keep: Array<{ volumeId: number, kind: ScheduleKind }>): number {
    const wanted = new Set(keep.map(k => `${k.volumeId}/${k.kind}`))
    return this.db.transaction((): number => {
      let n = 0
      for (const r of this.db.prepare('SELECT volume_id, kind FROM schedules').all() as Array<{ volume_id: number, kind: string }>) {
        if (wanted.has(`${r.volume_id}/${r.kind}`)) continue
        n += this.db.prepare('DELETE FROM schedules WHERE volume_id = ? AND kind = ?').run(r.volume_id, r.kind).changes
      }
      return n
    }).immediate()
  }
}
