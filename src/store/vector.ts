/**
 * The durability vector: per (volume, destination, origin node) the highest origin run whose
 * content is durable at the destination, with how it was verified and who asserted it.
 *
 * Every write goes through one core (`#apply`) that reads the current component, decides the
 * transition with the pure `decideWrite` table, and writes with an UPSERT whose WHERE clause
 * refuses a lower run; the `vector_monotone` trigger refuses it again unless a rewind is
 * running, and the history triggers append the written values in the same transaction.
 *
 * Entry points, one per provenance (never a boolean flag):
 *  - advanceLocal   — the single path for this node's pushes (source NULL)
 *  - reconfirmLocal — a verify pass re-confirming what it checked (source NULL)
 *  - upsertPulled / mergePulled — the only paths that stamp a peer as source
 *  - rewind / rewindPulled      — the only ways down
 *  - revokeSource / resetDestination — the only deletions; history stays
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import { PeerRevokedError, VectorRewindError } from '../errors.js'
import type { VerifyMethod } from '../verify-method.js'
import type { Hole } from '../evidence/claims.js'
import { decideWrite, type ComponentState, type Decision, type IncomingWrite } from './vector-transition.js'

export interface Component extends ComponentState {
  volumeId: number
  destination: string
  originNodeId: number
  runId: number
  updatedAtNs: number
  /** Holes the claim carries (DESIGN "A hole must not stall a whole origin"). */
  exceptions: Hole[]
  /** The lowest run the claim covers (1 = from the first). */
  floorRunId: number
}

/** A claim as the settle and replace paths write it. */
export interface ClaimWrite {
  destination: string
  originNodeId: number
  originRunId: number
  verifyMethod: string | null
  verifiedAtNs: number | null
  exceptions: Hole[]
  /** Absent = 1 (from the first run). */
  floorRunId?: number
}

export interface SettleResult {
  advanced: number
  retracted: number
  unchanged: number
}

export interface ReplaceResult {
  applied: number
  changed: number
  retracted: number
  /** Entries for a component another provenance owns (local evidence, another peer's). */
  notOwned: number
}

export interface HistoryRow extends ComponentState {
  id: number
  volumeId: number
  destination: string
  originNodeId: number
  runId: number
  atNs: number
}

export interface OriginRun {
  originNodeId: number
  originRunId: number
}

export interface AdvanceResult {
  applied: number
  unchanged: number
  /** Components lower than what is recorded: kept at the higher value. */
  skipped: number
}

export interface PulledComponent {
  destination: string
  originNodeId: number
  originRunId: number
  verifyMethod: VerifyMethod | null
  /** The asserting peer's own verification instant; 0 or null = unknown. */
  relayedVerifiedAtNs: number | null
}

export interface PulledWrite extends PulledComponent {
  volumeId: number
  sourceNodeId: number
  issuedAtNs: number
  assertionId: number | null
  runId: number
}

export interface PulledFreshness {
  destination: string
  originNodeId: number
  originRunId: number
}

export interface RefusedRewind {
  destination: string
  originNodeId: number
  current: number
  attempted: number
}

export interface MergeResult {
  /** Accepted entries: those that changed the live row plus re-confirmations that changed nothing. */
  applied: number
  /** Of `applied`, the entries that changed a live row (each appended one history row). */
  changed: number
  /** Lower than the recorded run and refused (or, with allowRewind, applied as rewinds). */
  rewinds: RefusedRewind[]
  /** With allowRewind: how many rewinds were applied. */
  rewound: number
  freshnessWritten: number
}

export interface RevokeCounts {
  components: number
  freshness: number
}

interface Raw {
  volume_id: number
  destination: string
  origin_node_id: number
  origin_run_id: number
  verify_method: string | null
  verified_at_ns: number | null
  source_node_id: number | null
  assertion_id: number | null
  run_id: number
  updated_at_ns: number
  exceptions: string
  floor_run: number
}

function toComponent (r: Raw): Component {
  return {
    volumeId: r.volume_id,
    destination: r.destination,
    originNodeId: r.origin_node_id,
    originRunId: r.origin_run_id,
    verifyMethod: r.verify_method,
    verifiedAtNs: r.verified_at_ns,
    sourceNodeId: r.source_node_id,
    assertionId: r.assertion_id,
    runId: r.run_id,
    updatedAtNs: r.updated_at_ns,
    exceptions: r.exceptions === undefined || r.exceptions === '[]' ? [] : JSON.parse(r.exceptions) as Hole[],
    floorRunId: r.floor_run ?? 1
  }
}

function sameClaim (c: Component, w: ClaimWrite, sourceNodeId: number | null): boolean {
  return c.originRunId === w.originRunId && c.verifyMethod === w.verifyMethod && c.verifiedAtNs === w.verifiedAtNs &&
    c.sourceNodeId === sourceNodeId && c.floorRunId === (w.floorRunId ?? 1) &&
    (c.exceptions.length === 0 && w.exceptions.length === 0 ? true : JSON.stringify(c.exceptions) === JSON.stringify(w.exceptions))
}

/** The exceptions column of a claim ('[]' without building a string per claim that has none). */
function exceptionsJson (exceptions: Hole[]): string {
  return exceptions.length === 0 ? '[]' : JSON.stringify(exceptions)
}


/**
 * A replace of one source's claims, read but not yet written (planReplace): `changes` is how
 * many writes applyReplace will make, so the caller knows before writing whether the
 * envelope must be stored as proof.
 */
export interface ReplacePlan {
  volumeId: number
  sourceNodeId: number
  claims: readonly ClaimWrite[]
  /** Per claim, the live row it meets (undefined: none); parallel arrays, no object per claim. */
  current: Array<Component | undefined>
  /** Per claim, 1 when the live row belongs to another provenance (left alone). */
  notOwned: Uint8Array
  /** The source's live rows the new set no longer carries (retracted to nothing). */
  removed: Component[]
  changes: number
}

/** verified_at of a pulled component: the peer's own instant, never later than now or the assertion. */
export function cappedVerifiedAt (relayedNs: number | null, issuedAtNs: number, nowNs: number): number | null {
  if (relayedNs === null || relayedNs <= 0) return null
  return Math.min(relayedNs, issuedAtNs, nowNs)
}

const COLUMNS = 'volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, source_node_id, assertion_id, run_id, updated_at_ns, exceptions, floor_run'

export class VectorStore {
  readonly #db: Database.Database
  readonly #clock: Clock
  readonly #stmts: {
    get: Database.Statement
    upsert: Database.Statement
    lower: Database.Statement
    writeClaim: Database.Statement
    retraction: Database.Statement
    removedHistory: Database.Statement
    remove: Database.Statement
    bySource: Database.Statement
    byDestination: Database.Statement
  }

  #listLocalStmt: Database.Statement | undefined

  /** Names for error messages; the store itself works on row ids. */
  readonly #describe: (volumeId: number, originNodeId: number) => { volume: string, origin: string }

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
    this.#stmts = {
      get: db.prepare(`SELECT ${COLUMNS} FROM vector WHERE volume_id = ? AND destination = ? AND origin_node_id = ?`),
      // Forward writes: the WHERE clause refuses a lower run in the statement itself.
      upsert: db.prepare(`
        INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, source_node_id, assertion_id, run_id, updated_at_ns)
        VALUES (@volumeId, @destination, @originNodeId, @originRunId, @verifyMethod, @verifiedAtNs, @sourceNodeId, @assertionId, @runId, @now)
        ON CONFLICT (volume_id, destination, origin_node_id) DO UPDATE SET
          origin_run_id = excluded.origin_run_id, verify_method = excluded.verify_method,
          verified_at_ns = excluded.verified_at_ns, source_node_id = excluded.source_node_id,
          assertion_id = excluded.assertion_id, run_id = excluded.run_id, updated_at_ns = excluded.updated_at_ns
        WHERE excluded.origin_run_id >= vector.origin_run_id`),
      // The explicit way down (the vector_monotone trigger checks that a rewind run is running).
      lower: db.prepare(`
        UPDATE vector SET origin_run_id = @originRunId, verify_method = @verifyMethod, verified_at_ns = @verifiedAtNs,
          source_node_id = @sourceNodeId, assertion_id = @assertionId, run_id = @runId, updated_at_ns = @now
        WHERE volume_id = @volumeId AND destination = @destination AND origin_node_id = @originNodeId
          AND origin_run_id > @originRunId`),
      writeClaim: db.prepare(`INSERT INTO vector (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, source_node_id, assertion_id, run_id, updated_at_ns, exceptions, floor_run)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                      ON CONFLICT (volume_id, destination, origin_node_id) DO UPDATE SET origin_run_id = excluded.origin_run_id,
                        verify_method = excluded.verify_method, verified_at_ns = excluded.verified_at_ns, source_node_id = excluded.source_node_id,
                        assertion_id = excluded.assertion_id, run_id = excluded.run_id, updated_at_ns = excluded.updated_at_ns, exceptions = excluded.exceptions,
                        floor_run = excluded.floor_run`),
      retraction: db.prepare(`INSERT INTO vector_retractions (volume_id, destination, origin_node_id, from_run, to_run, source_node_id, reason, run_id, at_ns)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      removedHistory: db.prepare(`INSERT INTO vector_history (volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns, source_node_id, assertion_id, run_id, at_ns, exceptions)
                      VALUES (?, ?, ?, 0, NULL, NULL, ?, NULL, ?, ?, '[]')`),
      remove: db.prepare('DELETE FROM vector WHERE volume_id = ? AND destination = ? AND origin_node_id = ?'),
      bySource: db.prepare(`SELECT ${COLUMNS} FROM vector WHERE volume_id = ? AND source_node_id = ?`),
      byDestination: db.prepare(`SELECT ${COLUMNS} FROM vector WHERE volume_id = ? AND destination = ?`)
    }
    const volumeName = db.prepare('SELECT name FROM volumes WHERE id = ?').pluck()
    const nodeLabel = db.prepare('SELECT coalesce(name, node_id) FROM nodes WHERE id = ?').pluck()
    this.#describe = (volumeId, originNodeId) => ({
      volume: (volumeName.get(volumeId) as string | undefined) ?? `#${volumeId}`,
      origin: (nodeLabel.get(originNodeId) as string | undefined) ?? `#${originNodeId}`
    })
  }

  get (volumeId: number, destination: string, originNodeId: number): Component | undefined {
    const row = this.#stmts.get.get(volumeId, destination, originNodeId) as Raw | undefined
    return row === undefined ? undefined : toComponent(row)
  }

  /** The live vector of a volume, ordered by destination and origin. */
  list (volumeId: number): Component[] {
    return (this.#db.prepare(`SELECT ${COLUMNS} FROM vector WHERE volume_id = ? ORDER BY destination, origin_node_id`).all(volumeId) as Raw[]).map(toComponent)
  }

  /** This node's own live components of a volume (source NULL), ordered like list. */
  listLocal (volumeId: number): Component[] {
    this.#listLocalStmt ??= this.#db.prepare(`SELECT ${COLUMNS} FROM vector WHERE volume_id = ? AND source_node_id IS NULL ORDER BY destination, origin_node_id`)
    return (this.#listLocalStmt.all(volumeId) as Raw[]).map(toComponent)
  }

  /** The live components of every volume (for the gate and status). */
  listAll (): Component[] {
    return (this.#db.prepare(`SELECT ${COLUMNS} FROM vector ORDER BY volume_id, destination, origin_node_id`).all() as Raw[]).map(toComponent)
  }

  /** The append-only history of a volume, oldest first. */
  history (volumeId: number): HistoryRow[] {
    const rows = this.#db.prepare(`SELECT id, volume_id, destination, origin_node_id, origin_run_id, verify_method, verified_at_ns,
      source_node_id, assertion_id, run_id, at_ns, coalesce(exceptions, '[]') AS exceptions, coalesce(floor_run, 1) AS floor_run FROM vector_history WHERE volume_id = ? ORDER BY id`).all(volumeId) as Array<Raw & { id: number, at_ns: number }>
    return rows.map(r => ({ ...toComponent({ ...r, updated_at_ns: r.at_ns }), id: r.id, atNs: r.at_ns }))
  }

  // ---- the core -------------------------------------------------------------------------

  /** Reads, decides and writes one component. Runs inside the caller's transaction. */
  #apply (volumeId: number, destination: string, originNodeId: number, runId: number, w: IncomingWrite): Decision {
    const current = this.get(volumeId, destination, originNodeId)
    const decision = decideWrite(current, w)
    if (decision.outcome !== 'applied') return decision
    const { originRunId, verifyMethod, verifiedAtNs, sourceNodeId, assertionId } = decision.next
    const params = { originRunId, verifyMethod, verifiedAtNs, sourceNodeId, assertionId, volumeId, destination, originNodeId, runId, now: this.#clock.nowNs() }
    const lowering = current !== undefined && decision.next.originRunId < current.originRunId
    const changes = lowering ? this.#stmts.lower.run(params).changes : this.#stmts.upsert.run(params).changes
    if (changes !== 1) {
      // decideWrite and the SQL guard disagree: a bug, never a silent success.
      throw new Error(`vector write for ${destination}/${originNodeId} was not applied by SQL (decided ${JSON.stringify(decision.next)})`)
    }
    return decision
  }

  #assertLiveSource (sourceNodeId: number): void {
    const row = this.#db.prepare('SELECT node_id, name, revoked_at_ns FROM nodes WHERE id = ?').get(sourceNodeId) as { node_id: string, name: string | null, revoked_at_ns: number | null } | undefined
    if (row === undefined) throw new Error(`unknown source node row ${sourceNodeId}`)
    if (row.revoked_at_ns !== null) throw new PeerRevokedError(row.node_id, row.revoked_at_ns, row.name)
  }

  // ---- claims: the settle and replace paths (DESIGN invariants 19, 21, 28) ----------------

  /** One claim write, inside the caller's transaction; a lower run records its retraction first. */
  #writeClaim (volumeId: number, current: Component | undefined, w: ClaimWrite, sourceNodeId: number | null, assertionId: number | null, runId: number, reason: string): 'advanced' | 'retracted' | 'unchanged' {
    if (current !== undefined && sameClaim(current, w, sourceNodeId)) return 'unchanged'
    const now = this.#clock.nowNs()
    const lowering = current !== undefined && w.originRunId < current.originRunId
    if (lowering) this.#recordRetraction(volumeId, current, w.originRunId, sourceNodeId, reason, runId, now)
    this.#stmts.writeClaim.run(volumeId, w.destination, w.originNodeId, w.originRunId, w.verifyMethod, w.verifiedAtNs, sourceNodeId, assertionId, runId, now, exceptionsJson(w.exceptions), w.floorRunId ?? 1)
    return lowering ? 'retracted' : 'advanced'
  }

  #recordRetraction (volumeId: number, current: Component, toRun: number, sourceNodeId: number | null, reason: string, runId: number, now: number): void {
    this.#stmts.retraction.run(volumeId, current.destination, current.originNodeId, current.originRunId, toRun, sourceNodeId, reason.slice(0, 256), runId, now)
  }

  /** Removes a component as a retraction to nothing (history row and retraction row). */
  #removeClaim (volumeId: number, current: Component, sourceNodeId: number | null, reason: string, runId: number): void {
    const now = this.#clock.nowNs()
    this.#recordRetraction(volumeId, current, 0, sourceNodeId, reason, runId, now)
    this.#stmts.removedHistory.run(volumeId, current.destination, current.originNodeId, sourceNodeId, runId, now)
    this.#stmts.remove.run(volumeId, current.destination, current.originNodeId)
  }

  /**
   * Makes this node's own claims for a volume exactly `claims` (computed by
   * src/evidence/claims.ts from everything present), in one transaction: higher values
   * advance, lower ones and claims no longer made are retracted with an audit row. Pulled
   * components are never touched here.
   */
  settleLocal (volumeId: number, claims: readonly ClaimWrite[], runId: number, reason: string): SettleResult {
    const tx = this.#db.transaction((): SettleResult => {
      const result: SettleResult = { advanced: 0, retracted: 0, unchanged: 0 }
      // every local claim of the volume not in `claims` is no longer made (a destination
      // reset or no longer placed at, or lowered below its first run). A pulled row under the
      // same key can only be a version-1 leftover keyed by a bare label: the local claim
      // reclaims it (invariant 4).
      const current = new Map<string, Component>()
      for (const c of this.list(volumeId)) if (c.sourceNodeId === null) current.set(`${c.destination}\u0000${c.originNodeId}`, c)
      for (const w of claims) {
        const key = `${w.destination}\u0000${w.originNodeId}`
        const cur = current.get(key) ?? this.get(volumeId, w.destination, w.originNodeId)
        current.delete(key)
        const o = this.#writeClaim(volumeId, cur, w, null, null, runId, reason)
        result[o === 'advanced' ? 'advanced' : o === 'retracted' ? 'retracted' : 'unchanged']++
      }
      for (const c of current.values()) {
        this.#removeClaim(volumeId, c, null, reason, runId)
        result.retracted++
      }
      return result
    })
    return tx.immediate()
  }

  /**
   * Replaces a peer's whole set of claims for a volume with the set of its latest accepted
   * assertion (invariant 21): inside the caller's transaction. A component the set no longer
   * carries, or carries lower, is retracted (audited, counted); a component owned by another
   * provenance (this node's own, another peer's) is left alone and counted as not owned.
   * `verifiedAtNs` of incoming claims must already be capped (cappedVerifiedAt).
   */
  replaceFromSource (volumeId: number, sourceNodeId: number, claims: readonly ClaimWrite[], assertionId: number | null, runId: number): ReplaceResult {
    return this.applyReplace(this.planReplace(volumeId, sourceNodeId, claims), assertionId, runId)
  }

  /** How many writes replaceFromSource would make (read-only). */
  previewReplace (volumeId: number, sourceNodeId: number, claims: readonly ClaimWrite[]): number {
    return this.planReplace(volumeId, sourceNodeId, claims).changes
  }

  /**
   * The read half of replaceFromSource (read-only, inside the caller's transaction): the live
   * rows at the claimed destinations are read once per destination, not once per claim, and
   * matched to the claims. A claim repeated for the same key meets what the earlier one will
   * have written, as it would written one after the other. Apply it with applyReplace in the
   * same transaction, before anything else writes the vector.
   */
  planReplace (volumeId: number, sourceNodeId: number, claims: readonly ClaimWrite[]): ReplacePlan {
    // destination -> origin row id -> live row (any provenance)
    const live = new Map<string, Map<number, Component>>()
    for (const w of claims) {
      if (live.has(w.destination)) continue
      const rows = new Map<number, Component>()
      for (const r of this.#stmts.byDestination.all(volumeId, w.destination) as Raw[]) rows.set(r.origin_node_id, toComponent(r))
      live.set(w.destination, rows)
    }
    // destination -> origin row id -> index of the last step for that key
    const claimed = new Map<string, Map<number, number>>()
    const current = new Array<Component | undefined>(claims.length)
    const notOwned = new Uint8Array(claims.length)
    let changes = 0
    for (let i = 0; i < claims.length; i++) {
      const w = claims[i] as ClaimWrite
      let byOrigin = claimed.get(w.destination)
      if (byOrigin === undefined) {
        byOrigin = new Map<number, number>()
        claimed.set(w.destination, byOrigin)
      }
      const earlier = byOrigin.get(w.originNodeId)
      const cur = earlier === undefined
        ? live.get(w.destination)?.get(w.originNodeId)
        : this.#afterClaim(volumeId, claims[earlier] as ClaimWrite, current[earlier], notOwned[earlier] === 1, sourceNodeId)
      byOrigin.set(w.originNodeId, i)
      current[i] = cur
      const theirs = cur !== undefined && cur.sourceNodeId !== sourceNodeId
      if (theirs) notOwned[i] = 1
      else if (cur === undefined || !sameClaim(cur, w, sourceNodeId)) changes++
    }
    const removed: Component[] = []
    for (const r of this.#stmts.bySource.all(volumeId, sourceNodeId) as Raw[]) {
      if (claimed.get(r.destination)?.has(r.origin_node_id) !== true) removed.push(toComponent(r))
    }
    return { volumeId, sourceNodeId, claims, current, notOwned, removed, changes: changes + removed.length }
  }

  /** The live row a planned claim leaves (for a key claimed twice). */
  #afterClaim (volumeId: number, w: ClaimWrite, cur: Component | undefined, theirs: boolean, sourceNodeId: number): Component | undefined {
    if (theirs || (cur !== undefined && sameClaim(cur, w, sourceNodeId))) return cur
    return {
      volumeId, destination: w.destination, originNodeId: w.originNodeId, originRunId: w.originRunId, verifyMethod: w.verifyMethod, verifiedAtNs: w.verifiedAtNs,
      sourceNodeId, assertionId: null, runId: 0, updatedAtNs: 0, exceptions: JSON.parse(exceptionsJson(w.exceptions)) as Hole[], floorRunId: w.floorRunId ?? 1
    }
  }

  /**
   * The write half of replaceFromSource, inside the caller's transaction (the one planReplace
   * read in): a component the set no longer carries, or carries lower, is retracted (audited,
   * counted); one owned by another provenance is left alone and counted as not owned.
   */
  applyReplace (plan: ReplacePlan, assertionId: number | null, runId: number): ReplaceResult {
    this.#assertLiveSource(plan.sourceNodeId)
    const result: ReplaceResult = { applied: 0, changed: 0, retracted: 0, notOwned: 0 }
    for (let i = 0; i < plan.claims.length; i++) {
      if (plan.notOwned[i] === 1) { result.notOwned++; continue }
      const o = this.#writeClaim(plan.volumeId, plan.current[i], plan.claims[i] as ClaimWrite, plan.sourceNodeId, assertionId, runId, 'lowered by its source')
      result.applied++
      if (o !== 'unchanged') result.changed++
      if (o === 'retracted') result.retracted++
    }
    for (const c of plan.removed) {
      this.#removeClaim(plan.volumeId, c, plan.sourceNodeId, 'no longer asserted by its source', runId)
      result.retracted++
    }
    return result
  }

  /** The audit record of retractions of a volume, oldest first. */
  retractions (volumeId: number): Array<{ destination: string, originNodeId: number, fromRun: number, toRun: number, sourceNodeId: number | null, reason: string, runId: number, atNs: number }> {
    return (this.#db.prepare('SELECT destination, origin_node_id, from_run, to_run, source_node_id, reason, run_id, at_ns FROM vector_retractions WHERE volume_id = ? ORDER BY id').all(volumeId) as Array<{ destination: string, origin_node_id: number, from_run: number, to_run: number, source_node_id: number | null, reason: string, run_id: number, at_ns: number }>)
      .map(r => ({ destination: r.destination, originNodeId: r.origin_node_id, fromRun: r.from_run, toRun: r.to_run, sourceNodeId: r.source_node_id, reason: r.reason, runId: r.run_id, atNs: r.at_ns }))
  }

  // ---- local evidence -------------------------------------------------------------------

  /**
   * The single path for every local push: component-wise max (a lower value is skipped, not an
   * error), source NULL, verified_at now. Also replaces this node's push freshness for the
   * destination with exactly these components (the push's snapshot).
   */
  advanceLocal (volumeId: number, destination: string, method: VerifyMethod, components: OriginRun[], runId: number): AdvanceResult {
    const tx = this.#db.transaction((): AdvanceResult => {
      const now = this.#clock.nowNs()
      const result: AdvanceResult = { applied: 0, unchanged: 0, skipped: 0 }
      for (const c of components) {
        const d = this.#apply(volumeId, destination, c.originNodeId, runId, {
          kind: 'local', originRunId: c.originRunId, verifyMethod: method, verifiedAtNs: now, sourceNodeId: null, assertionId: null
        })
        if (d.outcome === 'applied') result.applied++
        else if (d.outcome === 'skipped') result.skipped++
        else result.unchanged++
      }
      this.#db.prepare('DELETE FROM push_freshness WHERE volume_id = ? AND destination = ? AND source_node_id IS NULL').run(volumeId, destination)
      const insert = this.#db.prepare(`INSERT INTO push_freshness (volume_id, destination, origin_node_id, origin_run_id, source_node_id, run_id, updated_at_ns)
                                       VALUES (?, ?, ?, ?, NULL, ?, ?)`)
      for (const c of components) insert.run(volumeId, destination, c.originNodeId, c.originRunId, runId, now)
      return result
    })
    return tx.immediate()
  }

  /**
   * A verify pass re-confirms the local-method evidence it re-checked: each component at its
   * current run, with the given method, becomes local with instant now. Never advances.
   */
  reconfirmLocal (volumeId: number, destination: string, method: VerifyMethod, components: OriginRun[], runId: number): AdvanceResult {
    const tx = this.#db.transaction((): AdvanceResult => {
      const now = this.#clock.nowNs()
      const result: AdvanceResult = { applied: 0, unchanged: 0, skipped: 0 }
      for (const c of components) {
        const current = this.get(volumeId, destination, c.originNodeId)
        if (current === undefined || current.originRunId !== c.originRunId) { result.skipped++; continue }
        const d = this.#apply(volumeId, destination, c.originNodeId, runId, {
          kind: 'local', originRunId: c.originRunId, verifyMethod: method, verifiedAtNs: now, sourceNodeId: null, assertionId: null
        })
        if (d.outcome === 'applied') result.applied++
        else result.unchanged++
      }
      return result
    })
    return tx.immediate()
  }

  // ---- pulled evidence --------------------------------------------------------------------

  /**
   * The only single-component path that stamps a peer as source. verified_at is the peer's own
   * instant capped at min(now, issued_at); 0 or absent stores NULL. A lower run throws
   * VectorRewindError and writes nothing.
   */
  upsertPulled (w: PulledWrite): Decision {
    const tx = this.#db.transaction((): Decision => {
      this.#assertLiveSource(w.sourceNodeId)
      const d = this.#apply(w.volumeId, w.destination, w.originNodeId, w.runId, this.#pulledWrite(w, w.issuedAtNs, w.sourceNodeId, w.assertionId))
      if (d.outcome === 'refused') {
        const names = this.#describe(w.volumeId, w.originNodeId)
        throw new VectorRewindError(names.volume, w.destination, names.origin, d.current, d.attempted)
      }
      return d
    })
    return tx.immediate()
  }

  /**
   * Merges a verified, scoped assertion from one peer, all in one transaction: every component
   * through the same core as upsertPulled; lower runs are refused and reported (or, with
   * allowRewind, applied through rewindPulled's rule); the peer's pulled push freshness for the
   * volume is replaced by the assertion's. The source is re-checked inside the transaction, so a
   * revocation that lands while the pull was on the network still wins.
   */
  mergePulled (init: {
    volumeId: number
    sourceNodeId: number
    issuedAtNs: number
    assertionId: number | null
    runId: number
    components: PulledComponent[]
    freshness: PulledFreshness[] | undefined
    allowRewind: boolean
  }): MergeResult {
    const tx = this.#db.transaction((): MergeResult => {
      this.#assertLiveSource(init.sourceNodeId)
      const result: MergeResult = { applied: 0, changed: 0, rewinds: [], rewound: 0, freshnessWritten: 0 }
      for (const c of init.components) {
        const w = this.#pulledWrite(c, init.issuedAtNs, init.sourceNodeId, init.assertionId)
        const d = this.#apply(init.volumeId, c.destination, c.originNodeId, init.runId, w)
        if (d.outcome === 'refused') {
          result.rewinds.push({ destination: c.destination, originNodeId: c.originNodeId, current: d.current, attempted: d.attempted })
          if (init.allowRewind) {
            const r = this.#apply(init.volumeId, c.destination, c.originNodeId, init.runId, { ...w, kind: 'pulled-rewind' })
            if (r.outcome === 'applied') result.rewound++
          }
          continue
        }
        result.applied++
        if (d.outcome === 'applied') result.changed++
      }
      if (init.freshness !== undefined) {
        const now = this.#clock.nowNs()
        this.#db.prepare('DELETE FROM push_freshness WHERE volume_id = ? AND source_node_id = ?').run(init.volumeId, init.sourceNodeId)
        const insert = this.#db.prepare(`INSERT INTO push_freshness (volume_id, destination, origin_node_id, origin_run_id, source_node_id, run_id, updated_at_ns)
                                         VALUES (?, ?, ?, ?, ?, ?, ?)`)
        for (const f of init.freshness) {
          insert.run(init.volumeId, f.destination, f.originNodeId, f.originRunId, init.sourceNodeId, init.runId, now)
          result.freshnessWritten++
        }
      }
      return result
    })
    return tx.immediate()
  }

  /**
   * How many of these pulled components would change the live vector (read-only; a refused
   * rewind counts when allowRewind would apply it).
   */
  previewPulled (volumeId: number, sourceNodeId: number, issuedAtNs: number, components: PulledComponent[], allowRewind: boolean): number {
    let changes = 0
    for (const c of components) {
      const w = this.#pulledWrite(c, issuedAtNs, sourceNodeId, null)
      const current = this.get(volumeId, c.destination, c.originNodeId)
      const d = decideWrite(current, w)
      if (d.outcome === 'applied') changes++
      else if (d.outcome === 'refused' && allowRewind) changes++
    }
    return changes
  }

  /** Whether a peer's pulled freshness for a volume differs from these rows. */
  freshnessDiffers (volumeId: number, sourceNodeId: number, rows: PulledFreshness[]): boolean {
    const stored = this.#db.prepare('SELECT destination, origin_node_id, origin_run_id FROM push_freshness WHERE volume_id = ? AND source_node_id = ?')
      .all(volumeId, sourceNodeId) as Array<{ destination: string, origin_node_id: number, origin_run_id: number }>
    const key = (d: string, o: number, r: number): string => `${d}\u0000${o}\u0000${r}`
    const a = new Set(stored.map(r => key(r.destination, r.origin_node_id, r.origin_run_id)))
    const b = new Set(rows.map(r => key(r.destination, r.originNodeId, r.originRunId)))
    return a.size !== b.size || [...a].some(k => !b.has(k))
  }

  #pulledWrite (c: PulledComponent, issuedAtNs: number, sourceNodeId: number, assertionId: number | null): IncomingWrite {
    return {
      kind: 'pulled',
      originRunId: c.originRunId,
      verifyMethod: c.verifyMethod,
      verifiedAtNs: cappedVerifiedAt(c.relayedVerifiedAtNs, issuedAtNs, this.#clock.nowNs()),
      sourceNodeId,
      assertionId
    }
  }

  // ---- the ways down ------------------------------------------------------------------------

  /**
   * The operator's audited way down: lowers one component to `originRunId`, keeping its method,
   * instant and source. `runId` must be a running `rewind` run. Returns the previous run, or
   * undefined when there was nothing higher to lower.
   */
  rewind (volumeId: number, destination: string, originNodeId: number, originRunId: number, runId: number): { from: number, to: number } | undefined {
    const tx = this.#db.transaction(() => {
      const current = this.get(volumeId, destination, originNodeId)
      const d = this.#apply(volumeId, destination, originNodeId, runId, {
        kind: 'rewind', originRunId, verifyMethod: null, verifiedAtNs: null, sourceNodeId: null, assertionId: null
      })
      return d.outcome === 'applied' && current !== undefined ? { from: current.originRunId, to: originRunId } : undefined
    })
    return tx.immediate()
  }

  // ---- deletions ------------------------------------------------------------------------------

  /** Deletes the live components and pulled freshness a peer asserted. Inside the caller's transaction. */
  deleteFromSource (sourceNodeId: number): RevokeCounts {
    const components = this.#db.prepare('DELETE FROM vector WHERE source_node_id = ?').run(sourceNodeId).changes
    const freshness = this.#db.prepare('DELETE FROM push_freshness WHERE source_node_id = ?').run(sourceNodeId).changes
    return { components, freshness }
  }

  countForDestination (destination: string): RevokeCounts {
    const components = (this.#db.prepare('SELECT count(*) FROM vector WHERE destination = ?').pluck().get(destination) as number)
    const freshness = (this.#db.prepare('SELECT count(*) FROM push_freshness WHERE destination = ?').pluck().get(destination) as number)
    return { components, freshness }
  }

  /** Deletes every live component and freshness row for a destination. Inside the caller's transaction. */
  deleteForDestination (destination: string): RevokeCounts {
    const components = this.#db.prepare('DELETE FROM vector WHERE destination = ?').run(destination).changes
    const freshness = this.#db.prepare('DELETE FROM push_freshness WHERE destination = ?').run(destination).changes
    return { components, freshness }
  }

  // ---- push freshness ---------------------------------------------------------------------------

  listFreshness (volumeId: number): Array<PulledFreshness & { sourceNodeId: number | null, updatedAtNs: number }> {
    return (this.#db.prepare(`SELECT destination, origin_node_id, origin_run_id, source_node_id, updated_at_ns FROM push_freshness
                              WHERE volume_id = ? ORDER BY destination, origin_node_id, source_node_id`).all(volumeId) as Array<{ destination: string, origin_node_id: number, origin_run_id: number, source_node_id: number | null, updated_at_ns: number }>)
      .map(r => ({ destination: r.destination, originNodeId: r.origin_node_id, originRunId: r.origin_run_id, sourceNodeId: r.source_node_id, updatedAtNs: r.updated_at_ns }))
  }
}
