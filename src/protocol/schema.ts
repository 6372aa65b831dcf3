/**
 * protocol/cairn.proto as data, for the canonical-encoding walk (canonical.ts): every field
 * with its number, .proto name and type, and the documented bound of each varint and repeated
 * field. test/protocol/canonical.test.ts keeps this in step with the .proto file: a field
 * added there and not here is refused as unknown by every decoder.
 */
import type { MessageSchema } from './canonical.js'
import {
  EPOCH_BYTES, MAX_COMPONENTS_PER_ASSERTION, MAX_EXCEPTIONS_PER_COMPONENT, MAX_HOLD_DIRECTORIES, MAX_HOLD_DURATION_MS, MAX_HOLD_ENTRIES, MAX_NAMES_PER_ASSERTION,
  MAX_PLAN_CHUNK_ENTRIES, MAX_PLAN_ENTRIES, MAX_PUSH_ORIGINS, MAX_SEQUENCE_COUNTER
} from './limits.js'
import { MAX_FETCH_ENTRIES } from './limits.js'
import { MAX_VERIFY_PROBLEMS, MAX_VERIFY_SAMPLE } from './limits.js'

export const ENVELOPE: MessageSchema = {
  name: 'Envelope',
  fields: [
    { no: 1, name: 'public_key', kind: 'bytes' },
    { no: 2, name: 'payload_type', kind: 'bytes' },
    { no: 3, name: 'payload', kind: 'bytes' },
    { no: 4, name: 'signature', kind: 'bytes' }
  ]
}

export const EXCEPTION: MessageSchema = {
  name: 'Exception',
  fields: [
    { no: 1, name: 'path', kind: 'string' },
    { no: 2, name: 'origin_run', kind: 'uint64' }
  ]
}

export const COMPONENT: MessageSchema = {
  name: 'Component',
  fields: [
    { no: 1, name: 'destination', kind: 'uint32', max: MAX_NAMES_PER_ASSERTION - 1 },
    { no: 2, name: 'origin_node', kind: 'uint32', max: MAX_NAMES_PER_ASSERTION - 1 },
    { no: 3, name: 'origin_run', kind: 'uint64' },
    { no: 4, name: 'verify_method', kind: 'uint32' },
    { no: 5, name: 'verified_at_ns', kind: 'fixed64' },
    { no: 6, name: 'exceptions', kind: 'message', repeated: true, maxCount: MAX_EXCEPTIONS_PER_COMPONENT, schema: EXCEPTION },
    { no: 7, name: 'floor_run', kind: 'uint64' },
    { no: 8, name: 'label', kind: 'uint32', max: MAX_NAMES_PER_ASSERTION },
    { no: 9, name: 'owner', kind: 'uint32', max: MAX_NAMES_PER_ASSERTION }
  ]
}

export const ASSERTION: MessageSchema = {
  name: 'Assertion',
  fields: [
    { no: 1, name: 'signer', kind: 'string' },
    { no: 2, name: 'volume', kind: 'string' },
    { no: 4, name: 'issued_at_ns', kind: 'fixed64' },
    { no: 5, name: 'receipt_for', kind: 'uint64' },
    { no: 6, name: 'names', kind: 'string', repeated: true, maxCount: MAX_NAMES_PER_ASSERTION },
    { no: 7, name: 'components', kind: 'message', repeated: true, maxCount: MAX_COMPONENTS_PER_ASSERTION, schema: COMPONENT },
    { no: 10, name: 'epoch', kind: 'bytes', exactBytes: EPOCH_BYTES },
    { no: 11, name: 'counter', kind: 'uint64', max: MAX_SEQUENCE_COUNTER }
  ]
}

export const DURABILITY_REQUEST: MessageSchema = {
  name: 'DurabilityRequest',
  fields: [{ no: 1, name: 'volume', kind: 'string' }]
}

export const DURABILITY_RESPONSE: MessageSchema = {
  name: 'DurabilityResponse',
  fields: [
    { no: 1, name: 'status', kind: 'uint32' },
    { no: 2, name: 'envelope', kind: 'bytes' },
    { no: 3, name: 'message', kind: 'string' }
  ]
}

export const PUSH_OFFER: MessageSchema = {
  name: 'PushOffer',
  fields: [
    { no: 1, name: 'volume', kind: 'string' },
    { no: 2, name: 'pusher_run', kind: 'uint64' },
    { no: 3, name: 'entries', kind: 'uint32', max: MAX_PLAN_ENTRIES },
    { no: 4, name: 'total_bytes', kind: 'uint64' },
    { no: 5, name: 'origins', kind: 'string', repeated: true, maxCount: MAX_PUSH_ORIGINS }
  ]
}

export const PLAN_ENTRY: MessageSchema = {
  name: 'PlanEntry',
  fields: [
    { no: 1, name: 'path', kind: 'string' },
    { no: 2, name: 'hash', kind: 'bytes' },
    { no: 3, name: 'size', kind: 'uint64' },
    { no: 4, name: 'mtime_ns', kind: 'fixed64' },
    { no: 5, name: 'origin_node', kind: 'uint32', max: MAX_PUSH_ORIGINS - 1 },
    { no: 6, name: 'origin_run', kind: 'uint64' },
    { no: 7, name: 'replaces', kind: 'bytes' }
  ]
}

export const PLAN_CHUNK: MessageSchema = {
  name: 'PlanChunk',
  fields: [
    { no: 1, name: 'entries', kind: 'message', repeated: true, maxCount: MAX_PLAN_CHUNK_ENTRIES, schema: PLAN_ENTRY },
    { no: 2, name: 'last', kind: 'bool' }
  ]
}

export const PLAN_REPLY: MessageSchema = {
  name: 'PlanReply',
  fields: [
    { no: 1, name: 'status', kind: 'uint32' },
    { no: 2, name: 'need', kind: 'uint32', repeated: true, maxCount: MAX_PLAN_ENTRIES, max: MAX_PLAN_ENTRIES - 1 },
    { no: 3, name: 'message', kind: 'string' }
  ]
}

export const FILE_FAILURE: MessageSchema = {
  name: 'FileFailure',
  fields: [
    { no: 1, name: 'entry', kind: 'uint32', max: MAX_PLAN_ENTRIES - 1 },
    { no: 2, name: 'reason', kind: 'uint32' }
  ]
}

export const PUSH_RESULT: MessageSchema = {
  name: 'PushResult',
  fields: [
    { no: 1, name: 'status', kind: 'uint32' },
    { no: 2, name: 'receipt', kind: 'bytes' },
    { no: 3, name: 'failures', kind: 'message', repeated: true, maxCount: MAX_PLAN_ENTRIES, schema: FILE_FAILURE },
    { no: 4, name: 'message', kind: 'string' },
    { no: 5, name: 'files_written', kind: 'uint32', max: MAX_PLAN_ENTRIES },
    { no: 6, name: 'bytes_written', kind: 'uint64' }
  ]
}

export const HOLD_ENTRY: MessageSchema = {
  name: 'HoldEntry',
  fields: [
    { no: 1, name: 'path', kind: 'string' },
    { no: 2, name: 'hash', kind: 'bytes' }
  ]
}

export const HOLD_REQUEST: MessageSchema = {
  name: 'HoldRequest',
  fields: [
    { no: 1, name: 'volume', kind: 'string' },
    { no: 2, name: 'duration_ms', kind: 'uint64', max: MAX_HOLD_DURATION_MS },
    { no: 3, name: 'nonce', kind: 'bytes' },
    { no: 4, name: 'entries', kind: 'message', repeated: true, maxCount: MAX_HOLD_ENTRIES, schema: HOLD_ENTRY },
    { no: 5, name: 'placed_at', kind: 'string', repeated: true, maxCount: MAX_HOLD_DIRECTORIES }
  ]
}

export const HOLD_REFUSAL: MessageSchema = {
  name: 'HoldRefusal',
  fields: [
    { no: 1, name: 'entry', kind: 'uint32', max: MAX_HOLD_ENTRIES - 1 },
    { no: 2, name: 'reason', kind: 'uint32' }
  ]
}

export const HOLD_RESPONSE: MessageSchema = {
  name: 'HoldResponse',
  fields: [
    { no: 1, name: 'status', kind: 'uint32' },
    { no: 2, name: 'envelope', kind: 'bytes' },
    { no: 3, name: 'refused', kind: 'message', repeated: true, maxCount: MAX_HOLD_ENTRIES, schema: HOLD_REFUSAL },
    { no: 4, name: 'message', kind: 'string' }
  ]
}

export const HOLD: MessageSchema = {
  name: 'Hold',
  fields: [
    { no: 1, name: 'signer', kind: 'string' },
    { no: 2, name: 'holder', kind: 'string' },
    { no: 3, name: 'volume', kind: 'string' },
    { no: 4, name: 'issued_at_ns', kind: 'fixed64' },
    { no: 5, name: 'expires_at_ns', kind: 'fixed64' },
    { no: 6, name: 'nonce', kind: 'bytes' },
    { no: 7, name: 'granted', kind: 'uint32', max: MAX_HOLD_ENTRIES },
    { no: 8, name: 'granted_sha256', kind: 'bytes' }
  ]
}

// ---- /cairn/fetch/1.0.0 ----

export const FETCH_ENTRY: MessageSchema = {
  name: 'FetchEntry',
  fields: [
    { no: 1, name: 'path', kind: 'string' },
    { no: 2, name: 'hash', kind: 'bytes' }
  ]
}

export const FETCH_REQUEST: MessageSchema = {
  name: 'FetchRequest',
  fields: [
    { no: 1, name: 'volume', kind: 'string' },
    { no: 2, name: 'directory', kind: 'string' },
    { no: 3, name: 'entries', kind: 'message', repeated: true, maxCount: MAX_FETCH_ENTRIES, schema: FETCH_ENTRY }
  ]
}

export const FETCH_RESPONSE: MessageSchema = {
  name: 'FetchResponse',
  fields: [
    { no: 1, name: 'status', kind: 'uint32' },
    { no: 2, name: 'message', kind: 'string' }
  ]
}

export const FETCH_FILE: MessageSchema = {
  name: 'FetchFile',
  fields: [
    { no: 1, name: 'entry', kind: 'uint32', max: MAX_FETCH_ENTRIES - 1 },
    { no: 2, name: 'status', kind: 'uint32' },
    { no: 3, name: 'size', kind: 'uint64' }
  ]
}

/** The messages of /cairn/fetch/1.0.0. */
export const FETCH_SCHEMAS: readonly MessageSchema[] = [FETCH_REQUEST, FETCH_ENTRY, FETCH_RESPONSE, FETCH_FILE]

// ---- /cairn/verify/1.0.0 ----

export const VERIFY_REQUEST: MessageSchema = {
  name: 'VerifyRequest',
  fields: [
    { no: 1, name: 'volume', kind: 'string' },
    { no: 2, name: 'sample', kind: 'uint32', max: MAX_VERIFY_SAMPLE }
  ]
}

export const VERIFY_PROBLEM: MessageSchema = {
  name: 'VerifyProblem',
  fields: [
    { no: 1, name: 'path', kind: 'string' },
    { no: 2, name: 'kind', kind: 'uint32' }
  ]
}

export const VERIFY_REPLY: MessageSchema = {
  name: 'VerifyReply',
  fields: [
    { no: 1, name: 'done', kind: 'bool' },
    { no: 2, name: 'status', kind: 'uint32' },
    { no: 3, name: 'message', kind: 'string' },
    { no: 4, name: 'checked', kind: 'uint64' },
    { no: 5, name: 'bytes_checked', kind: 'uint64' },
    { no: 6, name: 'mismatched', kind: 'uint64' },
    { no: 7, name: 'missing', kind: 'uint64' },
    { no: 8, name: 'problems', kind: 'message', repeated: true, maxCount: MAX_VERIFY_PROBLEMS, schema: VERIFY_PROBLEM },
    { no: 9, name: 'envelope', kind: 'bytes' },
    { no: 10, name: 'run', kind: 'uint64' }
  ]
}

/** The messages of /cairn/verify/1.0.0. */
export const VERIFY_SCHEMAS: readonly MessageSchema[] = [VERIFY_REQUEST, VERIFY_PROBLEM, VERIFY_REPLY]

/** Every message of protocol/cairn.proto, by its .proto name. */
export const SCHEMAS: readonly MessageSchema[] = [
  ENVELOPE, ASSERTION, COMPONENT, EXCEPTION, DURABILITY_REQUEST, DURABILITY_RESPONSE, PUSH_OFFER, PLAN_ENTRY, PLAN_CHUNK, PLAN_REPLY,
  FILE_FAILURE, PUSH_RESULT, HOLD_REQUEST, HOLD_ENTRY, HOLD_RESPONSE, HOLD_REFUSAL, HOLD,
  ...FETCH_SCHEMAS, ...VERIFY_SCHEMAS
]
