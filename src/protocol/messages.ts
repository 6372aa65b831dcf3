/**
 * The domain form of what crosses the wire. wire.ts converts to and from the generated
 * protobuf types and validates every field; nothing else sees generated types.
 */
import type { NodeId } from '../identity/node-id.js'
import type { VerifyMethod } from '../verify-method.js'

export interface AssertedComponent {
  /** A node id (custody) or a directory key `dir:<marker id>`. */
  destination: string
  /** For a directory: the node that owns its marker (always the signer for a claim it may make). */
  owner?: NodeId
  /** For a directory: its owner's label for it (display, and PEER/LABEL requirements). */
  label?: string
  originNode: NodeId
  originRun: number
  verifyMethod: VerifyMethod | null
  /** The oldest real read behind the claim; null = unknown. */
  verifiedAtNs: number | null
  /** Holes: versions (path, run) of the origin the claim does not cover. */
  exceptions: Array<{ path: string, run: number }>
  /** The lowest run covered; absent = 1 (from the first run). */
  floorRun?: number
}

/** A withdrawn claim: the signer no longer makes it (origin_run 0 on the wire). */
export interface Tombstone {
  destination: string
  originNode: NodeId
}

export interface Assertion {
  signer: NodeId
  volume: string
  /** The signer's sequence epoch: EPOCH_BYTES random bytes as lowercase hex (DESIGN invariant 9). */
  epoch: string
  /** The sequence counter within the epoch: 1..MAX_SEQUENCE_COUNTER, strictly increasing per volume. */
  counter: number
  issuedAtNs: number
  /** The pusher's run id a receipt answers; null for a plain assertion. */
  receiptFor: number | null
  /** The signer's whole set of claims for the volume. */
  components: AssertedComponent[]
  /** Claims explicitly withdrawn (absence withdraws them too). */
  tombstones: Tombstone[]
}

export interface EnvelopeParts {
  publicKey: Uint8Array
  payloadType: Uint8Array
  payload: Uint8Array
  signature: Uint8Array
}

/** Status codes shared by every response (uint32 on the wire). */
export const Status = {
  OK: 1,
  UNKNOWN_VOLUME: 2,
  INVALID_REQUEST: 3,
  TOO_LARGE: 4,
  BUSY: 5,
  INTERNAL: 6,
  REFUSED: 7,
  HASH_MISMATCH: 8,
  PARTIAL: 9
} as const
export type StatusCode = typeof Status[keyof typeof Status]

export function statusName (code: number): string {
  for (const [name, value] of Object.entries(Status)) if (value === code) return name
  return `UNKNOWN(${code})`
}

export interface DurabilityRequest {
  volume: string
}

export interface DurabilityResponse {
  status: StatusCode
  envelope: Uint8Array | null
  message: string
}

export interface PushOffer {
  volume: string
  pusherRun: number
  entries: number
  totalBytes: number
  origins: NodeId[]
}

export interface PlanEntry {
  path: string
  hash: Uint8Array
  size: number
  mtimeNs: number
  /** Index into PushOffer.origins. */
  originIndex: number
  originRun: number
  /**
   * The content this version replaced at the pusher's path (its newest earlier content
   * there), or null: lets the receiver tell a descendant of its own version from an unrelated one.
   */
  replaces?: Uint8Array | null
}

export interface PlanChunk {
  entries: PlanEntry[]
  last: boolean
}

export interface PlanReply {
  status: StatusCode
  need: number[]
  message: string
}

export const FailureReason = {
  HASH_MISMATCH: 1,
  WRITE_FAILED: 2,
  READBACK_MISMATCH: 3,
  /** Another path of the plan (or one the receiver holds) would be the same file here (case or Unicode folding). */
  PATH_COLLISION: 4,
  /**
   * The receiver kept its own file at the path (DESIGN invariant 25): it differs from what the
   * receiver indexed, its indexed version is newer than or unrelated to what this version
   * replaces, or another writer got the path first. Reported at every push until resolved.
   */
  CONFLICT: 5
} as const
export type FailureReasonCode = typeof FailureReason[keyof typeof FailureReason]

export interface FileFailure {
  entry: number
  reason: FailureReasonCode
}

export interface PushResult {
  status: StatusCode
  receipt: Uint8Array | null
  failures: FileFailure[]
  message: string
  filesWritten: number
  bytesWritten: number
}

// ---- /cairn/hold/1.0.0 (DESIGN invariant 29) -----------------------------------------------

/** Bytes of a hold request's nonce, echoed in the signed Hold. */
export const HOLD_NONCE_BYTES = 16

export interface HoldEntry {
  path: string
  hash: Uint8Array
}

export interface HoldRequest {
  volume: string
  durationMs: number
  nonce: Uint8Array
  entries: HoldEntry[]
  /** Directories (the holder's names) each held entry must be placed at, read back; none = []. */
  placedAt?: string[]
}

/** Why a holder refused one entry (uint32 on the wire). */
export const HoldRefusalReason = {
  /** The holder is offloading the file itself. */
  OFFLOADING: 1,
  /** The holder has no present copy with that hash. */
  NOT_PRESENT: 2,
  /** The holder's file on disk differs from what it indexed (edited or deleted since). */
  CHANGED: 3,
  /** The holder has no current read-back placement of it at a directory the request names. */
  NOT_PLACED: 4
} as const
export type HoldRefusalReasonCode = typeof HoldRefusalReason[keyof typeof HoldRefusalReason]

export interface HoldRefusal {
  entry: number
  reason: HoldRefusalReasonCode
}

export interface HoldResponse {
  status: StatusCode
  envelope: Uint8Array | null
  refused: HoldRefusal[]
  message: string
}

/** The holder's signed promise; it covers the request's entries minus the refused ones. */
export interface Hold {
  signer: NodeId
  /** The requester the promise is made to. */
  holder: NodeId
  volume: string
  issuedAtNs: number
  expiresAtNs: number
  nonce: Uint8Array
  granted: number
  grantedSha256: Uint8Array
}

// ---- /cairn/fetch/1.0.0 --------------------------------------------------------------------

export interface FetchEntry {
  path: string
  hash: Uint8Array
}

export interface FetchRequest {
  volume: string
  /** The server's own name of a directory destination it writes; '' = the server's copy of the volume. */
  directory: string
  entries: FetchEntry[]
}

export interface FetchResponse {
  status: StatusCode
  message: string
}

/** Whether the server sends a requested file (uint32 on the wire). */
export const FetchFileStatus = {
  /** `size` bytes follow. */
  FOUND: 1,
  /** The server holds no file at that path with that hash (or may not say more). */
  NOT_FOUND: 2
} as const
export type FetchFileStatusCode = typeof FetchFileStatus[keyof typeof FetchFileStatus]

export interface FetchFile {
  entry: number
  status: FetchFileStatusCode
  size: number
}

// ---- /cairn/verify/1.0.0 -------------------------------------------------------------------

export interface VerifyRequest {
  volume: string
  /** 0: re-read every file; else this many files drawn at random, weighted by bytes. */
  sample: number
}

/** What a verify found wrong with one file (uint32 on the wire). */
export const VerifyProblemKind = {
  MISMATCHED: 1,
  MISSING: 2
} as const
export type VerifyProblemKindCode = typeof VerifyProblemKind[keyof typeof VerifyProblemKind]

export interface VerifyProblem {
  path: string
  kind: VerifyProblemKindCode
}

/** A progress frame (`done` false: only the counts) or the final answer. */
export interface VerifyReply {
  done: boolean
  /** 0 in a progress frame. */
  status: StatusCode | 0
  message: string
  checked: number
  bytesChecked: number
  mismatched: number
  missing: number
  problems: VerifyProblem[]
  /** The fresh signed assertion, in a final OK or PARTIAL. */
  envelope: Uint8Array | null
  /** The peer's run that re-read the files (final OK or PARTIAL), else 0. */
  run: number
}
