/**
 * Stored assertions and sequences (DESIGN invariant 9: a sequence is `(epoch, counter)`).
 *
 *  - `assertions` keeps the exact envelope bytes that changed the live vector (insert-only),
 *    so every pulled component names the signed statement that proves it.
 *  - `sequence_watermarks` keeps, per (signer, volume), the signer's pinned epoch, the last
 *    accepted counter and the hash of its envelope: only a higher counter in the pinned epoch
 *    is accepted; an identical re-send is a no-op; another epoch is refused until the operator
 *    re-enrolls the signer, which resets its watermarks (`resetSigner`, an audited run).
 *  - `local_epoch` is this home's random epoch; `local_counters` its per-volume counter, which
 *    only grows (never from the clock) and refuses to pass MAX_SEQUENCE_COUNTER.
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import { EpochChangedError, ReplayedAssertionError, SequenceExhaustedError } from '../errors.js'
import { MAX_SEQUENCE_COUNTER } from '../protocol/limits.js'

export interface Sequence {
  epoch: string
  counter: number
}

export interface StoredAssertion {
  id: number
  signerNodeId: number
  volume: string
  /** null for an assertion stored before sequences had epochs (0008). */
  epoch: string | null
  counter: number
  issuedAtNs: number
  receiptFor: number | null
  envelope: Uint8Array
  receivedAtNs: number
}

export interface Watermark {
  /** null: migrated from a single-number sequence; the signer's next assertion pins it. */
  epoch: string | null
  counter: number
  envelopeSha256: Uint8Array
  acceptedAtNs: number
}

export type SeqCheck = 'fresh' | 'duplicate' | { replayedAfter: number } | { pinnedEpoch: string }

export class AssertionStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  watermark (signerNodeId: number, volume: string): Watermark | undefined {
    const row = this.#db.prepare('SELECT epoch, counter, envelope_sha256, accepted_at_ns FROM sequence_watermarks WHERE signer_node_id = ? AND volume = ?')
      .get(signerNodeId, volume) as { epoch: string | null, counter: number, envelope_sha256: Buffer, accepted_at_ns: number } | undefined
    return row === undefined ? undefined : { epoch: row.epoch, counter: row.counter, envelopeSha256: new Uint8Array(row.envelope_sha256), acceptedAtNs: row.accepted_at_ns }
  }

  /** The epoch this node pinned for a signer (from any volume), if any. */
  pinnedEpoch (signerNodeId: number): string | undefined {
    return (this.#db.prepare('SELECT epoch FROM sequence_watermarks WHERE signer_node_id = ? AND epoch IS NOT NULL LIMIT 1').pluck().get(signerNodeId) as string | undefined) ?? undefined
  }

  /** Compares a sequence with the signer's watermarks without writing. */
  checkSeq (signerNodeId: number, volume: string, seq: Sequence, envelopeSha256: Uint8Array): SeqCheck {
    const pinned = this.pinnedEpoch(signerNodeId)
    if (pinned !== undefined && pinned !== seq.epoch) return { pinnedEpoch: pinned }
    const w = this.watermark(signerNodeId, volume)
    if (w === undefined || seq.counter > w.counter) return 'fresh'
    if (seq.counter === w.counter && w.epoch === seq.epoch && Buffer.from(envelopeSha256).equals(w.envelopeSha256)) return 'duplicate'
    return { replayedAfter: w.counter }
  }

  /**
   * Moves the watermark to `seq` inside the caller's transaction. The UPDATE only matches a
   * lower counter in the same (or a not yet pinned) epoch, so two racing pulls cannot both
   * accept the same sequence, and an epoch is never silently replaced.
   */
  advanceWatermark (signerNodeId: number, signer: string, volume: string, seq: Sequence, envelopeSha256: Uint8Array): void {
    const pinned = this.pinnedEpoch(signerNodeId)
    if (pinned !== undefined && pinned !== seq.epoch) throw new EpochChangedError(signer, volume, pinned, seq.epoch, this.#signerName(signerNodeId))
    const changes = this.#db.prepare(`
      INSERT INTO sequence_watermarks (signer_node_id, volume, epoch, counter, envelope_sha256, accepted_at_ns) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (signer_node_id, volume) DO UPDATE SET epoch = excluded.epoch, counter = excluded.counter,
        envelope_sha256 = excluded.envelope_sha256, accepted_at_ns = excluded.accepted_at_ns
      WHERE excluded.counter > sequence_watermarks.counter AND (sequence_watermarks.epoch IS NULL OR sequence_watermarks.epoch = excluded.epoch)`)
      .run(signerNodeId, volume, seq.epoch, seq.counter, envelopeSha256, this.#clock.nowNs()).changes
    if (changes !== 1) {
      throw new ReplayedAssertionError(signer, volume, seq.counter, this.watermark(signerNodeId, volume)?.counter ?? 0, this.#signerName(signerNodeId))
    }
  }

  /** The local name of a signer's node row, for the errors that refuse it. */
  #signerName (signerNodeId: number): string | null {
    const row = this.#db.prepare('SELECT name FROM nodes WHERE id = ?').get(signerNodeId) as { name: string | null } | undefined
    return row?.name ?? null
  }

  /**
   * Forgets every watermark of a signer, inside the caller's transaction and inside `runId`
   * (a running run): records the audited reset row the SQL trigger requires, then deletes.
   * Only re-enrollment calls it (src/store/revocation.ts `reEnrollSigner`).
   */
  resetSigner (signerNodeId: number, runId: number): number {
    const count = this.#db.prepare('SELECT count(*) FROM sequence_watermarks WHERE signer_node_id = ?').pluck().get(signerNodeId) as number
    this.#db.prepare('INSERT INTO sequence_resets (signer_node_id, run_id, watermarks_cleared, at_ns) VALUES (?, ?, ?, ?)').run(signerNodeId, runId, count, this.#clock.nowNs())
    this.#db.prepare('DELETE FROM sequence_watermarks WHERE signer_node_id = ?').run(signerNodeId)
    return count
  }

  /** Stores an envelope that changed the live vector (inside the caller's transaction). */
  insert (init: { signerNodeId: number, volume: string, seq: Sequence, issuedAtNs: number, receiptFor: number | null, envelope: Uint8Array, envelopeSha256: Uint8Array }): number {
    // `seq` is this node's arrival number per (signer, volume): counters restart in a new epoch
    return Number(this.#db.prepare(`INSERT INTO assertions (signer_node_id, volume, seq, epoch, counter, issued_at_ns, receipt_for, envelope, envelope_sha256, received_at_ns)
                                    VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM assertions WHERE signer_node_id = ? AND volume = ?), ?, ?, ?, ?, ?, ?, ?)`)
      .run(init.signerNodeId, init.volume, init.signerNodeId, init.volume, init.seq.epoch, init.seq.counter, init.issuedAtNs, init.receiptFor, init.envelope, init.envelopeSha256, this.#clock.nowNs()).lastInsertRowid)
  }

  get (id: number): StoredAssertion | undefined {
    const row = this.#db.prepare('SELECT id, signer_node_id, volume, seq, epoch, counter, issued_at_ns, receipt_for, envelope, received_at_ns FROM assertions WHERE id = ?').get(id) as
      { id: number, signer_node_id: number, volume: string, seq: number, epoch: string | null, counter: number | null, issued_at_ns: number, receipt_for: number | null, envelope: Buffer, received_at_ns: number } | undefined
    if (row === undefined) return undefined
    return { id: row.id, signerNodeId: row.signer_node_id, volume: row.volume, epoch: row.epoch, counter: row.counter ?? row.seq, issuedAtNs: row.issued_at_ns, receiptFor: row.receipt_for, envelope: new Uint8Array(row.envelope), receivedAtNs: row.received_at_ns }
  }

  count (): number {
    return this.#db.prepare('SELECT count(*) FROM assertions').pluck().get() as number
  }

  /** This home's sequence epoch (random, written by migration 0008, never changed). */
  localEpoch (): string {
    return this.#db.prepare('SELECT epoch FROM local_epoch WHERE id = 1').pluck().get() as string
  }

  /**
   * The next sequence for this node's own assertion about a volume; the counter is persisted
   * before use and only grows, by one, whatever the clock says. At MAX_SEQUENCE_COUNTER it
   * refuses (SequenceExhaustedError) rather than wrap.
   */
  nextLocalSeq (volume: string): Sequence {
    const tx = this.#db.transaction((): Sequence => {
      const last = (this.#db.prepare('SELECT counter FROM local_counters WHERE volume = ?').pluck().get(volume) as number | undefined) ?? 0
      if (last >= MAX_SEQUENCE_COUNTER) throw new SequenceExhaustedError(volume, last)
      const counter = last + 1
      this.#db.prepare('INSERT INTO local_counters (volume, counter) VALUES (?, ?) ON CONFLICT (volume) DO UPDATE SET counter = excluded.counter').run(volume, counter)
      return { epoch: this.localEpoch(), counter }
    })
    return tx.immediate()
  }
}
