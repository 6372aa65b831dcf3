/**
 * Stored assertions and sequence numbers.
 *
 *  - `assertions` keeps the exact envelope bytes that changed the live vector (insert-only),
 *    so every pulled component names the signed statement that proves it.
 *  - `assertion_watermarks` keeps, per (signer, volume), the last accepted sequence and the
 *    hash of its envelope: only a higher sequence is accepted; an identical re-send is a no-op.
 *  - `local_seqs` is this node's own per-volume sequence. It starts from the clock in
 *    microseconds and then only grows, so a node rebuilt from scratch continues above what its
 *    peers accepted before (as long as its clock is not behind).
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import { ReplayedAssertionError } from '../errors.js'

export interface StoredAssertion {
  id: number
  signerNodeId: number
  volume: string
  seq: number
  issuedAtNs: number
  receiptFor: number | null
  envelope: Uint8Array
  receivedAtNs: number
}

export interface Watermark {
  seq: number
  envelopeSha256: Uint8Array
  acceptedAtNs: number
}

export type SeqCheck = 'fresh' | 'duplicate' | { replayedAfter: number }

export class AssertionStore {
  readonly #db: Database.Database
  readonly #clock: Clock

  constructor (db: Database.Database, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  watermark (signerNodeId: number, volume: string): Watermark | undefined {
    const row = this.#db.prepare('SELECT seq, envelope_sha256, accepted_at_ns FROM assertion_watermarks WHERE signer_node_id = ? AND volume = ?')
      .get(signerNodeId, volume) as { seq: number, envelope_sha256: Buffer, accepted_at_ns: number } | undefined
    return row === undefined ? undefined : { seq: row.seq, envelopeSha256: new Uint8Array(row.envelope_sha256), acceptedAtNs: row.accepted_at_ns }
  }

  /** Compares a sequence with the watermark without writing. */
  checkSeq (signerNodeId: number, volume: string, seq: number, envelopeSha256: Uint8Array): SeqCheck {
    const w = this.watermark(signerNodeId, volume)
    if (w === undefined || seq > w.seq) return 'fresh'
    if (seq === w.seq && Buffer.from(envelopeSha256).equals(w.envelopeSha256)) return 'duplicate'
    return { replayedAfter: w.seq }
  }

  /**
   * Moves the watermark to `seq` inside the caller's transaction; the UPDATE only matches a
   * lower watermark, so two racing pulls cannot both accept the same sequence.
   */
  advanceWatermark (signerNodeId: number, signer: string, volume: string, seq: number, envelopeSha256: Uint8Array): void {
    const changes = this.#db.prepare(`
      INSERT INTO assertion_watermarks (signer_node_id, volume, seq, envelope_sha256, accepted_at_ns) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (signer_node_id, volume) DO UPDATE SET seq = excluded.seq, envelope_sha256 = excluded.envelope_sha256,
        accepted_at_ns = excluded.accepted_at_ns
      WHERE excluded.seq > assertion_watermarks.seq`)
      .run(signerNodeId, volume, seq, envelopeSha256, this.#clock.nowNs()).changes
    if (changes !== 1) {
      throw new ReplayedAssertionError(signer, volume, seq, this.watermark(signerNodeId, volume)?.seq ?? 0)
    }
  }

  /** Stores an envelope that changed the live vector (inside the caller's transaction). */
  insert (init: { signerNodeId: number, volume: string, seq: number, issuedAtNs: number, receiptFor: number | null, envelope: Uint8Array, envelopeSha256: Uint8Array }): number {
    return Number(this.#db.prepare(`INSERT INTO assertions (signer_node_id, volume, seq, issued_at_ns, receipt_for, envelope, envelope_sha256, received_at_ns)
                                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(init.signerNodeId, init.volume, init.seq, init.issuedAtNs, init.receiptFor, init.envelope, init.envelopeSha256, this.#clock.nowNs()).lastInsertRowid)
  }

  get (id: number): StoredAssertion | undefined {
    const row = this.#db.prepare('SELECT id, signer_node_id, volume, seq, issued_at_ns, receipt_for, envelope, received_at_ns FROM assertions WHERE id = ?').get(id) as
      { id: number, signer_node_id: number, volume: string, seq: number, issued_at_ns: number, receipt_for: number | null, envelope: Buffer, received_at_ns: number } | undefined
    if (row === undefined) return undefined
    return { id: row.id, signerNodeId: row.signer_node_id, volume: row.volume, seq: row.seq, issuedAtNs: row.issued_at_ns, receiptFor: row.receipt_for, envelope: new Uint8Array(row.envelope), receivedAtNs: row.received_at_ns }
  }

  count (): number {
    return this.#db.prepare('SELECT count(*) FROM assertions').pluck().get() as number
  }

  /** The next sequence for this node's own assertion about a volume; persisted before use. */
  nextLocalSeq (volume: string): number {
    const tx = this.#db.transaction((): number => {
      const last = (this.#db.prepare('SELECT seq FROM local_seqs WHERE volume = ?').pluck().get(volume) as number | undefined) ?? 0
      const seq = Math.max(last + 1, Math.floor(this.#clock.nowNs() / 1000))
      this.#db.prepare('INSERT INTO local_seqs (volume, seq) VALUES (?, ?) ON CONFLICT (volume) DO UPDATE SET seq = excluded.seq').run(volume, seq)
      return seq
    })
    return tx.immediate()
  }
}
