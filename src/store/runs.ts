/**
 * Runs: every recorded operation, its gates and its terminal status.
 *
 * `begin` checks the run gates and inserts the run in one IMMEDIATE transaction, so two
 * processes can never both pass the same gate. `finish` is first-write-wins: the UPDATE only
 * matches a running row, and a trigger refuses any change to a finished one. Every transition
 * appends an insert-only run_events row.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { RunAlreadyFinishedError, RunConflictError, UnknownRunError } from '../errors.js'
import { runsConflict, type RunKind, type RunScope } from './run-gates.js'
import { judgeOwner, pidAlive, sameOwner, type OwnerState, type ProcessView, type RunOwner } from './run-owner.js'

export type RunStatus = 'running' | 'success' | 'failed' | 'partial' | 'refused' | 'aborted'
export type TerminalRunStatus = Exclude<RunStatus, 'running'>

export interface Run {
  id: number
  kind: RunKind
  volumeId: number | null
  volume: string | null
  destination: string | null
  peerNodeId: number | null
  peer: string | null
  status: RunStatus
  startedAtNs: number
  endedAtNs: number | null
  error: string | null
  fileCount: number
  byteCount: number
  detail: Record<string, unknown>
  ownerPid: number | null
  /** The owning process (pid with start time, boot, pid namespace and host); null without a recorded pid. */
  owner: RunOwner | null
}

export interface RunEvent {
  id: number
  runId: number
  transition: string
  atNs: number
  note: string | null
}

export interface BeginRunInit {
  kind: RunKind
  volumeId?: number | null
  destination?: string | null
  peerNodeId?: number | null
  detail?: Record<string, unknown>
}

export interface FinishRunInit {
  error?: string | null
  fileCount?: number
  byteCount?: number
  detail?: Record<string, unknown>
}

interface RunRow {
  id: number
  kind: RunKind
  volume_id: number | null
  volume: string | null
  destination: string | null
  peer_node_id: number | null
  peer: string | null
  status: RunStatus
  started_at_ns: number
  ended_at_ns: number | null
  error: string | null
  file_count: number
  byte_count: number
  detail: string
  owner_pid: number | null
  owner_start_ticks: number | null
  owner_boot_id: string | null
  owner_pid_ns: string | null
  owner_host: string | null
}

const SELECT_RUN = `
  SELECT r.id, r.kind, r.volume_id, v.name AS volume, r.destination, r.peer_node_id,
         coalesce(n.name, n.node_id) AS peer, r.status, r.started_at_ns, r.ended_at_ns, r.error,
         r.file_count, r.byte_count, r.detail, r.owner_pid,
         r.owner_start_ticks, r.owner_boot_id, r.owner_pid_ns, r.owner_host
  FROM runs r
  LEFT JOIN volumes v ON v.id = r.volume_id
  LEFT JOIN nodes n ON n.id = r.peer_node_id`

function toRun (row: RunRow): Run {
  return {
    id: row.id,
    kind: row.kind,
    volumeId: row.volume_id,
    volume: row.volume,
    destination: row.destination,
    peerNodeId: row.peer_node_id,
    peer: row.peer,
    status: row.status,
    startedAtNs: row.started_at_ns,
    endedAtNs: row.ended_at_ns,
    error: row.error,
    fileCount: row.file_count,
    byteCount: row.byte_count,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    ownerPid: row.owner_pid,
    owner: row.owner_pid === null
      ? null
      : { pid: row.owner_pid, startTicks: row.owner_start_ticks, bootId: row.owner_boot_id, pidNs: row.owner_pid_ns, host: row.owner_host }
  }
}

/** Whether a process id is alive on this machine (kill(pid, 0); no protection against pid reuse). */
export type ProcessProbe = (pid: number) => boolean

export const probeProcess: ProcessProbe = pidAlive

/** Whether a run's recorded owner is gone, as this process sees it (src/store/run-owner.ts). */
export type OwnerProbe = (owner: RunOwner, self: RunOwner) => OwnerState

export function ownerProbe (view: ProcessView): OwnerProbe {
  return (owner, self) => judgeOwner(owner, self, view)
}

export interface RunStoreInit {
  db: Database.Database
  clock: Clock
  logger: Logger
  /** The process recorded as owner of the runs this process begins. */
  owner: RunOwner
  probe: OwnerProbe
}

export class RunStore {
  readonly #db: Database.Database
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #owner: RunOwner
  readonly #probe: OwnerProbe

  constructor (init: RunStoreInit) {
    this.#db = init.db
    this.#clock = init.clock
    this.#logger = init.logger
    this.#owner = init.owner
    this.#probe = init.probe
  }

  /** The process recorded as owner of the runs this store begins. */
  get owner (): RunOwner {
    return this.#owner
  }

  /**
   * Why a running run's owner counts as gone (a reason to reap it), or undefined while it may
   * live: this process's own runs, a live owner, and an owner this process cannot see (another
   * pid namespace, another host) are never reaped.
   */
  #goneReason (run: Run): string | undefined {
    if (run.owner === null) return 'no owner process recorded'
    if (sameOwner(run.owner, this.#owner)) return undefined
    const state = this.#probe(run.owner, this.#owner)
    if (state !== 'gone') return undefined
    if (run.owner.bootId !== null && this.#owner.bootId !== null && run.owner.bootId !== this.#owner.bootId) return `owner process ${run.owner.pid} ran before a reboot`
    return `owner process ${run.owner.pid} is gone`
  }

  /**
   * Starts a run if no running run on the same volume excludes it. A running run whose owner
   * process is gone does not block: it is reaped as aborted in the same transaction.
   */
  begin (init: BeginRunInit): Run {
    const scope: RunScope = {
      kind: init.kind,
      volumeId: init.volumeId ?? null,
      destination: init.destination ?? null,
      peerNodeId: init.peerNodeId ?? null
    }
    const tx = this.#db.transaction((): number => {
      if (scope.volumeId !== null) {
        const running = this.#db.prepare(`${SELECT_RUN} WHERE r.status = 'running' AND r.volume_id = ? ORDER BY r.id`)
          .all(scope.volumeId) as RunRow[]
        for (const row of running) {
          const other = toRun(row)
          if (!runsConflict(scope, other)) continue
          const gone = other.owner === null ? undefined : this.#goneReason(other)
          if (gone !== undefined) {
            this.#abortOrphan(other, gone)
            continue
          }
          const unseen = other.owner !== null && !sameOwner(other.owner, this.#owner) && this.#probe(other.owner, this.#owner) === 'unseen'
          throw new RunConflictError(scope.kind, other.volume, {
            id: other.id,
            kind: other.kind,
            destination: other.destination,
            startedAtNs: other.startedAtNs,
            ...(unseen && other.owner !== null ? { unseenOwner: `process ${other.owner.pid} on host ${other.owner.host ?? '?'} (pid namespace ${other.owner.pidNs ?? '?'})` } : {})
          })
        }
      }
      const now = this.#clock.nowNs()
      const id = Number(this.#db.prepare(`
        INSERT INTO runs (kind, volume_id, destination, peer_node_id, status, started_at_ns, detail,
                          owner_pid, owner_start_ticks, owner_boot_id, owner_pid_ns, owner_host)
        VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`)
        .run(scope.kind, scope.volumeId, scope.destination, scope.peerNodeId, now, JSON.stringify(init.detail ?? {}),
          this.#owner.pid, this.#owner.startTicks, this.#owner.bootId, this.#owner.pidNs, this.#owner.host)
        .lastInsertRowid)
      this.#appendEvent(id, 'begin', now, null)
      return id
    })
    const id = tx.immediate()
    return this.get(id)
  }

  /**
   * Moves a running run to a terminal status. The first terminal write wins; a second one
   * throws RunAlreadyFinishedError and changes nothing.
   */
  finish (id: number, status: TerminalRunStatus, init: FinishRunInit = {}): Run {
    const tx = this.#db.transaction(() => {
      const now = this.#clock.nowNs()
      const current = this.#db.prepare('SELECT status, detail FROM runs WHERE id = ?').get(id) as { status: RunStatus, detail: string } | undefined
      if (current === undefined) throw new UnknownRunError(id)
      if (current.status !== 'running') throw new RunAlreadyFinishedError(id, current.status, status)
      const detail = { ...(JSON.parse(current.detail) as Record<string, unknown>), ...(init.detail ?? {}) }
      const changes = this.#db.prepare(`
        UPDATE runs SET status = ?, ended_at_ns = ?, error = ?,
               file_count = coalesce(?, file_count), byte_count = coalesce(?, byte_count), detail = ?
        WHERE id = ? AND status = 'running'`)
        .run(status, now, init.error ?? null, init.fileCount ?? null, init.byteCount ?? null, JSON.stringify(detail), id).changes
      if (changes !== 1) throw new RunAlreadyFinishedError(id, 'finished', status)
      this.#appendEvent(id, status, now, init.error ?? null)
    })
    tx.immediate()
    return this.get(id)
  }

  /** Appends a non-terminal event (an alarm, a note) to a run's log. */
  note (id: number, transition: string, note: string | null = null): void {
    this.#appendEvent(id, transition, this.#clock.nowNs(), note)
  }

  get (id: number): Run {
    const row = this.#db.prepare(`${SELECT_RUN} WHERE r.id = ?`).get(id) as RunRow | undefined
    if (row === undefined) throw new UnknownRunError(id)
    return toRun(row)
  }

  /** Whether any run of `kind` on the volume is running (however many others finished since). */
  isRunning (kind: RunKind, volumeId: number): boolean {
    return this.#db.prepare("SELECT 1 FROM runs WHERE kind = ? AND volume_id = ? AND status = 'running' LIMIT 1").get(kind, volumeId) !== undefined
  }

  list (filter: { volumeId?: number, limit?: number, kind?: RunKind } = {}): Run[] {
    const where: string[] = []
    const args: Array<number | string> = []
    if (filter.volumeId !== undefined) { where.push('r.volume_id = ?'); args.push(filter.volumeId) }
    if (filter.kind !== undefined) { where.push('r.kind = ?'); args.push(filter.kind) }
    const sql = `${SELECT_RUN} ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.id DESC LIMIT ?`
    return (this.#db.prepare(sql).all(...args, filter.limit ?? -1) as RunRow[]).map(toRun)
  }

  events (runId: number): RunEvent[] {
    return (this.#db.prepare('SELECT id, run_id, transition, at_ns, note FROM run_events WHERE run_id = ? ORDER BY id').all(runId) as Array<{ id: number, run_id: number, transition: string, at_ns: number, note: string | null }>)
      .map(r => ({ id: r.id, runId: r.run_id, transition: r.transition, atNs: r.at_ns, note: r.note }))
  }

  /** Whether this node ever committed a push of the volume from that peer (a receive run that ended success or partial): the fetch protocol's "the requester pushes this volume here". */
  hasReceivedFrom (volumeId: number, peerRowId: number): boolean {
    return this.#db.prepare("SELECT 1 FROM runs WHERE kind = 'receive' AND volume_id = ? AND peer_node_id = ? AND status IN ('success', 'partial') LIMIT 1").get(volumeId, peerRowId) !== undefined
  }

  /** The most recent successful run of a kind for a volume and destination. */
  lastSuccess (kind: RunKind, volumeId: number, destination: string): Run | undefined {
    const row = this.#db.prepare(`${SELECT_RUN} WHERE r.kind = ? AND r.volume_id = ? AND r.destination = ? AND r.status = 'success' ORDER BY r.id DESC LIMIT 1`)
      .get(kind, volumeId, destination) as RunRow | undefined
    return row === undefined ? undefined : toRun(row)
  }

  /**
   * Marks every running run whose owner process is gone (or has no recorded owner) as
   * aborted, with an event each. Runs owned by live processes are left alone. `serve` calls
   * this at start; `begin` reaps the blockers it meets.
   */
  reapOrphans (): Run[] {
    const tx = this.#db.transaction((): Run[] => {
      const running = (this.#db.prepare(`${SELECT_RUN} WHERE r.status = 'running' ORDER BY r.id`).all() as RunRow[]).map(toRun)
      const reaped: Run[] = []
      for (const run of running) {
        const gone = this.#goneReason(run)
        if (gone === undefined) continue
        this.#abortOrphan(run, gone)
        reaped.push(run)
      }
      return reaped
    })
    return tx.immediate().map(r => this.get(r.id))
  }

  #abortOrphan (run: Run, reason: string): void {
    const now = this.#clock.nowNs()
    this.#db.prepare("UPDATE runs SET status = 'aborted', ended_at_ns = ?, error = ? WHERE id = ? AND status = 'running'")
      .run(now, `aborted: ${reason}`, run.id)
    this.#appendEvent(run.id, 'aborted', now, reason)
    this.#logger.warn('reaped an orphaned run', { run: run.id, kind: run.kind, reason })
  }

  #appendEvent (runId: number, transition: string, atNs: number, note: string | null): void {
    this.#db.prepare('INSERT INTO run_events (run_id, transition, at_ns, note) VALUES (?, ?, ?, ?)').run(runId, transition, atNs, note)
  }
}
