/**
 * Accepting an assertion (DESIGN invariant 9), in two steps:
 *
 *  1. `verifyAssertion` — no writes. The signature verifies over the received bytes; the
 *     signer is an enrolled, non-revoked peer; it is the node the context expects (the peer on
 *     the other end of the authenticated connection, or the push target for a receipt); the
 *     volume and receipt_for match the request; the sequence is in the epoch pinned for the
 *     signer (another epoch is EpochChangedError: re-enroll it) and its counter is higher than
 *     the last one accepted from that signer for that volume (an identical re-send is a no-op).
 *  2. `recordAssertion` — one transaction: re-checks revocation and the watermark (so racing
 *     pulls and a revoke that lands mid-pull both win), creates rows for new origin nodes,
 *     stores the envelope when it changes the live vector, and replaces the signer's whole
 *     set of components (a lower or absent one is a retraction, never a refused rewind).
 */
import { AssertionContextError, EpochChangedError, PeerRevokedError, ReplayedAssertionError, SignerMismatchError, UnknownSignerError } from '../errors.js'
import type { NodeId } from '../identity/node-id.js'
import { openAssertion, type OpenedAssertion } from '../protocol/envelope.js'
import type { ScopedComponent } from '../evidence/scope.js'
import type { AssertedComponent } from '../protocol/messages.js'
import type { ComponentFilter } from '../protocol/wire.js'
import { isDirectoryKey } from '../store/destinations.js'
import type { Store } from '../store/store.js'
import { cappedVerifiedAt, type ClaimWrite, type ReplaceResult } from '../store/vector.js'

export interface AcceptContext {
  /** The node the assertion must be signed by. */
  expectedSigner: NodeId
  /** The volume that was asked for. */
  volume: string
  /** For a receipt, the pusher's run id it must answer; null for a pulled assertion. */
  receiptFor: number | null
  /** Drops components while decoding (the receiver's scope, src/evidence/scope.ts `scopeFilter`). */
  filter?: ComponentFilter<string>
}

export interface VerifiedAssertion {
  opened: OpenedAssertion
  signerRowId: number
  /** The same bytes as the last accepted assertion from this signer for this volume. */
  duplicate: boolean
}

export function verifyAssertion (store: Store, envelope: Uint8Array, ctx: AcceptContext): VerifiedAssertion {
  const opened = openAssertion(envelope, ctx.filter ?? null)
  const node = store.nodes.byNodeId(opened.signer)
  if (node === undefined || node.isSelf || node.enrolledAtNs === null) throw new UnknownSignerError(opened.signer)
  if (node.revokedAtNs !== null) throw new PeerRevokedError(node.nodeId, node.revokedAtNs, node.name)
  if (opened.signer !== ctx.expectedSigner) throw new SignerMismatchError(opened.signer, ctx.expectedSigner, node.name, store.nodes.byNodeId(ctx.expectedSigner)?.name ?? null)
  const a = opened.assertion
  if (a.volume !== ctx.volume) throw new AssertionContextError('volume', a.volume, ctx.volume)
  if (a.receiptFor !== ctx.receiptFor) throw new AssertionContextError('receipt_for', String(a.receiptFor), String(ctx.receiptFor))
  const seq = store.assertions.checkSeq(node.id, a.volume, a, opened.envelopeSha256)
  if (typeof seq === 'object') {
    if ('pinnedEpoch' in seq) throw new EpochChangedError(opened.signer, a.volume, seq.pinnedEpoch, a.epoch, node.name)
    throw new ReplayedAssertionError(opened.signer, a.volume, a.counter, seq.replayedAfter, node.name)
  }
  return { opened, signerRowId: node.id, duplicate: seq === 'duplicate' }
}

/** Origin node ids in these entries that this node's database does not know yet. */
export function newOrigins (store: Store, components: AssertedComponent[]): Set<NodeId> {
  const out = new Set<NodeId>()
  const known = new Map<NodeId, boolean>()
  for (const c of components) {
    const id = c.originNode
    let isKnown = known.get(id)
    if (isKnown === undefined) {
      isKnown = store.nodes.byNodeId(id) !== undefined
      known.set(id, isKnown)
    }
    if (!isKnown) out.add(id)
  }
  return out
}

export interface RecordInit {
  volumeId: number
  runId: number
  /** The signer's components left after scoping (src/evidence/scope.ts), already validated. */
  components: ScopedComponent[]
}

export interface RecordResult {
  merge: ReplaceResult
  assertionId: number | null
  /** Directory claims scoping kept but the registry refused in the transaction (another owner won a race): dropped as third-party. */
  ownerRaceDrops: number
}

/**
 * Records a verified assertion as the signer's whole set for the volume (invariant 21): in one
 * transaction, re-checks revocation and the watermark, creates rows for new origin nodes,
 * stores the envelope when it changes the live vector, and replaces the signer's components.
 */
export function recordAssertion (store: Store, verified: VerifiedAssertion, init: RecordInit): RecordResult {
  const a = verified.opened.assertion
  const tx = store.db.transaction((): RecordResult => {
    const node = store.nodes.byRowId(verified.signerRowId)
    if (node === undefined || node.revokedAtNs !== null) throw new PeerRevokedError(verified.opened.signer, node?.revokedAtNs ?? 0, node?.name ?? null)
    if (verified.duplicate) {
      // An identical re-send of the last accepted assertion: nothing to do.
      return { merge: { applied: init.components.length, changed: 0, retracted: 0, notOwned: 0 }, assertionId: null, ownerRaceDrops: 0 }
    }
    store.assertions.advanceWatermark(verified.signerRowId, verified.opened.signer, a.volume, a, verified.opened.envelopeSha256)
    const originRow = new Map<string, number>()
    const rowOf = (id: NodeId): number => {
      let row = originRow.get(id)
      if (row === undefined) {
        row = store.nodes.ensureOrigin(id).id
        originRow.set(id, row)
      }
      return row
    }
    const now = store.clock.nowNs()
    // a directory claim registers its marker under the signer; a marker another node owns
    // (a race with another accept since scoping) is not the signer's to claim
    // notePeer once per run of equal (key, label): a repeat of the call just made changes nothing
    // and answers the same (a different label still goes through, so the last label wins)
    const noted = new Map<string, { label: string, kept: boolean }>()
    const isMine = (key: string, label: string): boolean => {
      const last = noted.get(key)
      if (last !== undefined && last.label === label) return last.kept
      const kept = store.destinations.notePeer(key, verified.signerRowId, label) === 'kept'
      noted.set(key, { label, kept })
      return kept
    }
    const claims: ClaimWrite[] = []
    for (const c of init.components) {
      if (isDirectoryKey(c.key) && !isMine(c.key, c.label ?? c.key)) continue
      claims.push({
        destination: c.key,
        originNodeId: rowOf(c.originNode),
        originRunId: c.originRun,
        verifyMethod: c.verifyMethod,
        verifiedAtNs: cappedVerifiedAt(c.verifiedAtNs, a.issuedAtNs, now),
        exceptions: c.exceptions,
        floorRunId: c.floorRun ?? 1
      })
    }
    // read once: the plan says whether anything changes (then the envelope is stored as proof)
    // and is then written as planned, in this transaction
    const plan = store.vector.planReplace(init.volumeId, verified.signerRowId, claims)
    const assertionId = plan.changes > 0
      ? store.assertions.insert({ signerNodeId: verified.signerRowId, volume: a.volume, seq: a, issuedAtNs: a.issuedAtNs, receiptFor: a.receiptFor, envelope: verified.opened.envelopeBytes, envelopeSha256: verified.opened.envelopeSha256 })
      : null
    const merge = store.vector.applyReplace(plan, assertionId, init.runId)
    return { merge, assertionId, ownerRaceDrops: init.components.length - claims.length }
  })
  return tx.immediate()
}
