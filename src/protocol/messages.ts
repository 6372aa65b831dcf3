/**
 * The domain form of what crosses the wire. wire.ts converts to and from the generated
 * protobuf types and validates every field; nothing else sees generated types.
 */
import type { NodeId } from '../identity/node-id.js'
import type { VerifyMethod } from '../verify-method.js'

export interface AssertedComponent {
  /** A directory destination name or a node id. */
  destination: string
  originNode: NodeId
  originRun: number
  verifyMethod: VerifyMethod | null
  /** The signer's verification instant; null = unknown. */
  verifiedAtNs: number | null
}

export interface AssertedFreshness {
  destination: string
  originNode: NodeId
  originRun: number
}

export interface Assertion {
  signer: NodeId
  volume: string
  seq: number
  issuedAtNs: number
  /** The pusher's run id a receipt answers; null for a plain assertion. */
  receiptFor: number | null
  components: AssertedComponent[]
  freshness: AssertedFreshness[]
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
  READBACK_MISMATCH: 3
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
