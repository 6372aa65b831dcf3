/**
 * One table per message: its fields (number, wire type, repeated), the rule each value must
 * follow (ranges, allowed values, count limits from src/protocol/limits.ts and the field rules
 * of protocol/README.md) and the message's cross-field rules. Edit a message here and the
 * reader, the writer, the mutators and the verdicts all follow.
 *
 * `canonical` is the per-message switch for the canonical-encoding rule (the bytes must equal
 * the re-encoding of the decoded message). It is on for every message: every decoder refuses
 * non-canonical input (src/protocol/canonical.ts, protocol/README.md "Canonical encoding").
 * With it off, the reference would compare only the semantic verdict (see wire-reader.ts).
 */
import {
  MAX_COMPONENTS_PER_ASSERTION, MAX_EXCEPTIONS_PER_ASSERTION, MAX_EXCEPTIONS_PER_COMPONENT, MAX_HOLD_DIRECTORIES, MAX_HOLD_DURATION_MS,
  MAX_HOLD_ENTRIES, MAX_NAMES_PER_ASSERTION, MAX_PLAN_CHUNK_ENTRIES, MAX_PLAN_ENTRIES, MAX_PUSH_ORIGINS, MAX_VOLUME_NAME_CHARS, EPOCH_BYTES, MAX_SEQUENCE_COUNTER
} from '../../../src/protocol/limits.js'
import { MAX_FETCH_ENTRIES, MAX_VERIFY_PROBLEMS, MAX_VERIFY_SAMPLE } from '../../../src/protocol/limits.js'
import type { Decoded, FieldSpec, FieldType, MessageSpec } from './wire-reader.js'
import { before2100, isDictionaryEntryRef, isDirKeyRef, isNameRef, isNodeIdRef, planPathProblem, saneTime, STATUS_CODES } from './rules.js'

/** What a decoder is told besides the bytes (the plan's origins and entries, a hold's requested count, a receiver's scope). */
export interface Ctx {
  originCount: number
  planEntries: number
  requested: number
  /** The receiver's scope for a scoped assertion decode (plain data, so a finding replays from its JSON). */
  scope?: ScopeSpec
}

/** A receiver's view of one signer and volume: what src/evidence/scope.ts's scopeFilter is built from. */
export interface ScopeSpec {
  /** The signer's node id as the receiver's registry has it. */
  signer: string
  /** The signer's peer name here (null: known but unnamed). */
  signerName: string | null
  pushTo: string[]
  offloadRequires: string[]
  /** Directory key -> 'self' or the registry row id of its owner (the signer's row is SIGNER_ROW). */
  owners: Record<string, 'self' | number>
  /** The assertion answers this node's push to the signer. */
  receipt: boolean
}

export const SIGNER_ROW = 7

export type Rule = (v: any, ctx: Ctx) => string | null

export interface RuleField extends FieldSpec {
  rule?: Rule
  message?: () => RuleMessage
}

export interface RuleMessage extends MessageSpec {
  fields: readonly RuleField[]
  cross?: (m: any, ctx: Ctx) => string | null
}

export interface TopMessage extends RuleMessage {
  canonical: boolean
}

function field (no: number, name: string, type: FieldType, more: Partial<RuleField> = {}): RuleField {
  return { no, name, type, ...more }
}

const range = (min: number, max: number): Rule => (v: number) => v >= min && v <= max ? null : `${v} is outside ${min}..${max}`
const nodeId: Rule = (v: string) => isNodeIdRef(v) ? null : 'not an ed25519 node id'
const volume: Rule = (v: string) => v.length <= MAX_VOLUME_NAME_CHARS && isNameRef(v) ? null : 'not a volume name'
const path: Rule = (v: string) => planPathProblem(v)
const bytes32: Rule = (v: Uint8Array) => v.length === 32 ? null : `${v.length} bytes, not 32`
const nonce: Rule = (v: Uint8Array) => v.length === 16 ? null : `${v.length} bytes, not 16`
const instant: Rule = (v: bigint) => saneTime(v) ? null : 'outside 2020..2100'
const instantOrZero: Rule = (v: bigint) => v === 0n || saneTime(v) ? null : 'outside 2020..2100 and not 0'
const status: Rule = (v: number) => STATUS_CODES.has(v) ? null : `unknown status ${v}`
const free: Rule = () => null

function strictlyIncreasing (xs: number[], below: number): string | null {
  let prev = -1
  for (const x of xs) {
    if (x <= prev || x >= below) return `${x} is not a strictly increasing index below ${below}`
    prev = x
  }
  return null
}

function unique (xs: string[]): string | null {
  return new Set(xs).size === xs.length ? null : 'an entry twice'
}

// ---- signing -----------------------------------------------------------------------------------

export const ENVELOPE: TopMessage = {
  name: 'Envelope',
  canonical: true,
  fields: [field(1, 'public_key', 'bytes'), field(2, 'payload_type', 'bytes'), field(3, 'payload', 'bytes'), field(4, 'signature', 'bytes')]
}

// ---- assertion ---------------------------------------------------------------------------------

export const EXCEPTION: RuleMessage = {
  name: 'Exception',
  fields: [field(1, 'path', 'string', { rule: path }), field(2, 'origin_run', 'uint64', { rule: range(1, Number.MAX_SAFE_INTEGER) })]
}

export const COMPONENT: RuleMessage = {
  name: 'Component',
  fields: [
    field(1, 'destination', 'uint32'),
    field(2, 'origin_node', 'uint32'),
    field(3, 'origin_run', 'uint64'), // 0 = tombstone
    field(4, 'verify_method', 'uint32', { rule: range(0, 3) }),
    field(5, 'verified_at_ns', 'fixed64', { rule: instantOrZero }),
    field(6, 'exceptions', 'message', { repeated: true, maxCount: MAX_EXCEPTIONS_PER_COMPONENT, message: () => EXCEPTION }),
    field(7, 'floor_run', 'uint64'),
    field(8, 'label', 'uint32'),
    field(9, 'owner', 'uint32')
  ]
}

/** Cross-field rules of an assertion (protocol/README.md "Validation"). */
function assertionCross (m: any): string | null {
  const names = m.names as string[]
  const dup = unique(names)
  if (dup !== null) return `names: ${dup}`
  const pairs = new Set<string>()
  let exceptions = 0
  for (const [i, c] of (m.components as any[]).entries()) {
    const at = `components[${i}]`
    const dest = names[c.destination]
    if (dest === undefined) return `${at}.destination outside the dictionary`
    if (isNameRef(dest)) return `${at}.destination is a label`
    const origin = names[c.origin_node]
    if (origin === undefined || !isNodeIdRef(origin)) return `${at}.origin_node is not a node id in the dictionary`
    const pair = `${c.destination as number}/${c.origin_node as number}`
    if (pairs.has(pair)) return `${at}: a second component for one (destination, origin)`
    pairs.add(pair)
    if (c.origin_run === 0) {
      if (c.verify_method !== 0 || c.verified_at_ns !== 0n || c.exceptions.length > 0 || c.floor_run !== 0 || c.label !== 0 || c.owner !== 0) return `${at}: a tombstone carries something`
      continue
    }
    if (c.floor_run > c.origin_run) return `${at}.floor_run above origin_run`
    exceptions += c.exceptions.length
    if (exceptions > MAX_EXCEPTIONS_PER_ASSERTION) return 'more exceptions than MAX_EXCEPTIONS_PER_ASSERTION'
    for (const e of c.exceptions) if (e.origin_run > c.origin_run) return `${at}: an exception above origin_run`
    const directory = isDirKeyRef(dest)
    if (directory !== (c.label !== 0) || directory !== (c.owner !== 0)) return `${at}: label/owner must be set exactly for a directory`
    if (directory) {
      const label = names[c.label - 1]
      if (label === undefined || !isNameRef(label)) return `${at}.label is not a label in the dictionary`
      const owner = names[c.owner - 1]
      if (owner === undefined || !isNodeIdRef(owner)) return `${at}.owner is not a node id in the dictionary`
    }
  }
  return null
}

export const ASSERTION: TopMessage = {
  name: 'Assertion',
  canonical: true,
  fields: [
    field(1, 'signer', 'string', { rule: nodeId }),
    field(2, 'volume', 'string', { rule: volume }),
    field(4, 'issued_at_ns', 'fixed64', { rule: instant }),
    field(5, 'receipt_for', 'uint64'),
    field(6, 'names', 'string', { repeated: true, maxCount: MAX_NAMES_PER_ASSERTION, rule: (v: string) => isDictionaryEntryRef(v) ? null : 'not a node id, dir: key or label' }),
    field(7, 'components', 'message', { repeated: true, maxCount: MAX_COMPONENTS_PER_ASSERTION, message: () => COMPONENT }),
    // 3 was `seq` (reserved: an unknown field now); the sequence is (epoch, counter)
    field(10, 'epoch', 'bytes', { rule: (v: Uint8Array) => v.length === EPOCH_BYTES ? null : `${v.length} bytes, not ${EPOCH_BYTES}` }),
    field(11, 'counter', 'uint64', { rule: range(1, MAX_SEQUENCE_COUNTER) })
  ],
  cross: assertionCross
}

// ---- durability ------------------------------------------------------------------------------

export const DURABILITY_REQUEST: TopMessage = { name: 'DurabilityRequest', canonical: true, fields: [field(1, 'volume', 'string', { rule: volume })] }

export const DURABILITY_RESPONSE: TopMessage = {
  name: 'DurabilityResponse',
  canonical: true,
  fields: [field(1, 'status', 'uint32', { rule: status }), field(2, 'envelope', 'bytes'), field(3, 'message', 'string', { rule: free })]
}

// ---- push ----------------------------------------------------------------------------------------

export const PUSH_OFFER: TopMessage = {
  name: 'PushOffer',
  canonical: true,
  fields: [
    field(1, 'volume', 'string', { rule: volume }),
    field(2, 'pusher_run', 'uint64', { rule: range(1, Number.MAX_SAFE_INTEGER) }),
    field(3, 'entries', 'uint32', { rule: range(0, MAX_PLAN_ENTRIES) }),
    field(4, 'total_bytes', 'uint64'),
    field(5, 'origins', 'string', { repeated: true, maxCount: MAX_PUSH_ORIGINS, rule: nodeId })
  ]
}

export const PLAN_ENTRY: RuleMessage = {
  name: 'PlanEntry',
  fields: [
    field(1, 'path', 'string', { rule: path }),
    field(2, 'hash', 'bytes', { rule: bytes32 }),
    field(3, 'size', 'uint64'),
    // a file's mtime may predate 2020 (or be 0): only the upper end is checked
    field(4, 'mtime_ns', 'fixed64', { rule: (v: bigint) => before2100(v) ? null : 'after 2100' }),
    field(5, 'origin_node', 'uint32', { rule: (v: number, ctx) => v < ctx.originCount ? null : 'outside the offer\'s origins' }),
    field(6, 'origin_run', 'uint64', { rule: range(1, Number.MAX_SAFE_INTEGER) }),
    // SHA-256 of the version this one replaced at the pusher, or empty (none)
    field(7, 'replaces', 'bytes', { rule: (v: Uint8Array) => v.length === 0 || v.length === 32 ? null : `${v.length} bytes, not 0 or 32` })
  ]
}

export const PLAN_CHUNK: TopMessage = {
  name: 'PlanChunk',
  canonical: true,
  fields: [field(1, 'entries', 'message', { repeated: true, maxCount: MAX_PLAN_CHUNK_ENTRIES, message: () => PLAN_ENTRY }), field(2, 'last', 'bool')]
}

export const PLAN_REPLY: TopMessage = {
  name: 'PlanReply',
  canonical: true,
  fields: [field(1, 'status', 'uint32', { rule: status }), field(2, 'need', 'uint32', { repeated: true, maxCount: MAX_PLAN_ENTRIES }), field(3, 'message', 'string')],
  cross: (m, ctx) => strictlyIncreasing(m.need, ctx.planEntries)
}

export const FILE_FAILURE: RuleMessage = {
  name: 'FileFailure',
  fields: [field(1, 'entry', 'uint32', { rule: (v: number, ctx) => v < ctx.planEntries ? null : 'not a plan entry' }), field(2, 'reason', 'uint32', { rule: range(1, 5) })]
}

export const PUSH_RESULT: TopMessage = {
  name: 'PushResult',
  canonical: true,
  fields: [
    field(1, 'status', 'uint32', { rule: status }),
    field(2, 'receipt', 'bytes'),
    field(3, 'failures', 'message', { repeated: true, maxCount: MAX_PLAN_ENTRIES, message: () => FILE_FAILURE }),
    field(4, 'message', 'string'),
    field(5, 'files_written', 'uint32', { rule: range(0, MAX_PLAN_ENTRIES) }),
    field(6, 'bytes_written', 'uint64')
  ]
}

// ---- hold ----------------------------------------------------------------------------------------

export const HOLD_ENTRY: RuleMessage = { name: 'HoldEntry', fields: [field(1, 'path', 'string', { rule: path }), field(2, 'hash', 'bytes', { rule: bytes32 })] }

export const HOLD_REQUEST: TopMessage = {
  name: 'HoldRequest',
  canonical: true,
  fields: [
    field(1, 'volume', 'string', { rule: volume }),
    field(2, 'duration_ms', 'uint64', { rule: range(1, MAX_HOLD_DURATION_MS) }),
    field(3, 'nonce', 'bytes', { rule: nonce }),
    field(4, 'entries', 'message', { repeated: true, maxCount: MAX_HOLD_ENTRIES, message: () => HOLD_ENTRY }),
    field(5, 'placed_at', 'string', { repeated: true, maxCount: MAX_HOLD_DIRECTORIES, rule: (v: string) => isDirKeyRef(v) ? null : 'not a dir: key' })
  ],
  cross: (m) => m.entries.length === 0 ? 'no entries' : unique(m.entries.map((e: any) => e.path)) ?? unique(m.placed_at)
}

export const HOLD_REFUSAL: RuleMessage = { name: 'HoldRefusal', fields: [field(1, 'entry', 'uint32'), field(2, 'reason', 'uint32', { rule: range(1, 4) })] }

export const HOLD_RESPONSE: TopMessage = {
  name: 'HoldResponse',
  canonical: true,
  fields: [
    field(1, 'status', 'uint32', { rule: status }),
    field(2, 'envelope', 'bytes'),
    field(3, 'refused', 'message', { repeated: true, maxCount: MAX_HOLD_ENTRIES, message: () => HOLD_REFUSAL }),
    field(4, 'message', 'string')
  ],
  cross: (m, ctx) => strictlyIncreasing(m.refused.map((r: any) => r.entry), ctx.requested)
}

export const HOLD: TopMessage = {
  name: 'Hold',
  canonical: true,
  fields: [
    field(1, 'signer', 'string', { rule: nodeId }),
    field(2, 'holder', 'string', { rule: nodeId }),
    field(3, 'volume', 'string', { rule: volume }),
    field(4, 'issued_at_ns', 'fixed64', { rule: instant }),
    field(5, 'expires_at_ns', 'fixed64', { rule: instant }),
    field(6, 'nonce', 'bytes', { rule: nonce }),
    field(7, 'granted', 'uint32', { rule: range(1, MAX_HOLD_ENTRIES) }),
    field(8, 'granted_sha256', 'bytes', { rule: bytes32 })
  ],
  cross: (m) => Number(m.expires_at_ns) > Number(m.issued_at_ns) ? null : 'expires_at_ns not after issued_at_ns (as doubles)'
}

// ---- fetch -------------------------------------------------------------------------------------

export const FETCH_ENTRY: RuleMessage = { name: 'FetchEntry', fields: [field(1, 'path', 'string', { rule: path }), field(2, 'hash', 'bytes', { rule: bytes32 })] }

export const FETCH_REQUEST: TopMessage = {
  name: 'FetchRequest',
  canonical: true,
  fields: [
    field(1, 'volume', 'string', { rule: volume }),
    field(2, 'directory', 'string', { rule: (v: string) => v === '' || isNameRef(v) ? null : 'not a directory name' }),
    field(3, 'entries', 'message', { repeated: true, maxCount: MAX_FETCH_ENTRIES, message: () => FETCH_ENTRY })
  ],
  cross: (m) => m.entries.length === 0 ? 'no entries' : unique(m.entries.map((e: any) => e.path))
}

export const FETCH_RESPONSE: TopMessage = {
  name: 'FetchResponse',
  canonical: true,
  fields: [field(1, 'status', 'uint32', { rule: status }), field(2, 'message', 'string')]
}

export const FETCH_FILE: TopMessage = {
  name: 'FetchFile',
  canonical: true,
  fields: [
    field(1, 'entry', 'uint32', { rule: range(0, MAX_FETCH_ENTRIES - 1) }),
    field(2, 'status', 'uint32', { rule: range(1, 2) }),
    field(3, 'size', 'uint64')
  ],
  cross: (m, ctx) => m.entry !== ctx.requested ? 'not the entry expected next' : m.status === 2 && Number(m.size) !== 0 ? 'a NOT_FOUND file with bytes' : null
}

// ---- verify ------------------------------------------------------------------------------------
// From protocol/README.md "/cairn/verify/1.0.0": the edge checks of a request and the "Field
// rules" paragraph of a reply, restated here (not from wire.ts).

export const VERIFY_REQUEST: TopMessage = {
  name: 'VerifyRequest',
  canonical: true,
  // "a volume name, `sample` from 0 to MAX_VERIFY_SAMPLE (else INVALID_REQUEST)"; the frame's
  // MAX_VERIFY_REQUEST_BYTES is the framer's limit (a canonical request is at most ~70 bytes)
  fields: [field(1, 'volume', 'string', { rule: volume }), field(2, 'sample', 'uint32', { rule: range(0, MAX_VERIFY_SAMPLE) })]
}

/** Problem kinds: 1 MISMATCHED (present with other content), 2 MISSING (no longer present). */
export const VERIFY_PROBLEM: RuleMessage = {
  name: 'VerifyProblem',
  fields: [field(1, 'path', 'string', { rule: path }), field(2, 'kind', 'uint32', { rule: range(1, 2) })]
}

/** The statuses that answer a verify with a fresh assertion (the others are refusals). */
const VERIFY_ANSWERS = new Set([1 /* OK */, 9 /* PARTIAL */])

/**
 * "a progress frame has status 0 and nothing but `checked` and `bytes_checked`; a final frame has
 * a known status, an envelope and a run ≥ 1 exactly when the status is OK or PARTIAL, no more
 * problems than `mismatched + missing`, plan-rule paths and known kinds" (paths and kinds: the
 * VerifyProblem table; at most MAX_VERIFY_PROBLEMS: the count limit).
 */
function verifyReplyCross (m: any): string | null {
  if (m.done !== true) {
    if (m.status !== 0) return 'a progress frame with a status'
    if (m.message !== '') return 'a progress frame with a message'
    if (m.mismatched !== 0 || m.missing !== 0) return 'a progress frame with final counts'
    if (m.problems.length > 0) return 'a progress frame with problems'
    if (m.envelope.length > 0) return 'a progress frame with an envelope'
    if (m.run !== 0) return 'a progress frame with a run'
    return null
  }
  if (!STATUS_CODES.has(m.status)) return `a final frame with unknown status ${m.status as number}`
  const answered = VERIFY_ANSWERS.has(m.status)
  if (answered !== (m.envelope.length > 0)) return answered ? 'an answer without an envelope' : 'a refusal with an envelope'
  if (answered !== (m.run >= 1)) return answered ? 'an answer without a run' : 'a refusal with a run'
  // mismatched + missing as exact integers (each may be up to 2^53 - 1)
  if (BigInt(m.problems.length) > BigInt(m.mismatched) + BigInt(m.missing)) return 'more problems than mismatched + missing'
  if (m.status === 1 && (BigInt(m.mismatched) !== 0n || BigInt(m.missing) !== 0n)) return 'an OK that found files missing or mismatched'
  return null
}

export const VERIFY_REPLY: TopMessage = {
  name: 'VerifyReply',
  canonical: true,
  fields: [
    field(1, 'done', 'bool'),
    field(2, 'status', 'uint32'),
    field(3, 'message', 'string', { rule: free }), // cut at MAX_STATUS_MESSAGE_CHARS, never refused
    field(4, 'checked', 'uint64'),
    field(5, 'bytes_checked', 'uint64'),
    field(6, 'mismatched', 'uint64'),
    field(7, 'missing', 'uint64'),
    field(8, 'problems', 'message', { repeated: true, maxCount: MAX_VERIFY_PROBLEMS, message: () => VERIFY_PROBLEM }),
    field(9, 'envelope', 'bytes'),
    field(10, 'run', 'uint64')
  ],
  cross: verifyReplyCross
}

export const TOP_MESSAGES: readonly TopMessage[] = [ENVELOPE, ASSERTION, DURABILITY_REQUEST, DURABILITY_RESPONSE, PUSH_OFFER, PLAN_CHUNK, PLAN_REPLY, PUSH_RESULT, HOLD_REQUEST, HOLD_RESPONSE, HOLD, FETCH_REQUEST, FETCH_RESPONSE, FETCH_FILE, VERIFY_REQUEST, VERIFY_REPLY]

/** Runs every field rule, count limit and cross rule of `spec` over a decoded value; null = accepted. */
export function checkRules (d: Decoded, spec: RuleMessage, ctx: Ctx): string | null {
  for (const f of spec.fields) {
    const v = d[f.name]
    const values = f.repeated === true ? v as unknown[] : [v]
    if (f.maxCount !== undefined && values.length > f.maxCount) return `${spec.name}.${f.name}: more than ${f.maxCount}`
    for (const x of values) {
      if (f.type === 'message') {
        const problem = checkRules(x as Decoded, (f.message as () => RuleMessage)(), ctx)
        if (problem !== null) return problem
      } else if (f.rule !== undefined) {
        const problem = f.rule(x, ctx)
        if (problem !== null) return `${spec.name}.${f.name}: ${problem}`
      }
    }
  }
  return spec.cross?.(d, ctx) ?? null
}
