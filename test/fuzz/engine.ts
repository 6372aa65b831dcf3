/**
 * Runs fuzz inputs: input `index` of run `seed` is generated from FuzzRng(seed, index) by the
 * decoder the weighted rotation (`schedule`) assigns to it, fed to the decoder, compared with the reference
 * verdict, and, when accepted, re-encoded and decoded again. Everything is bounded: a fixed
 * number of inputs, at most MAX_FINDINGS kept, a time budget per input.
 */
import { getHeapStatistics } from 'node:v8'
import { isDeepStrictEqual } from 'node:util'
import { describeOutcomes, generateFrames, referenceFrames, runFrames, sameOutcomes, type FrameScript } from './frames-target.js'
import { INVITE_TARGET } from './invite-target.js'
import { FuzzRng } from './prng.js'
import { SCOPED_TARGET } from './scoped-target.js'
import { SYNC_TARGETS, type Case, type SyncTarget } from './targets.js'
import type { ReferenceOptions } from './reference/verdict.js'

export const FRAMES = 'frames'
const ALL_SYNC: readonly SyncTarget[] = [...SYNC_TARGETS, SCOPED_TARGET, INVITE_TARGET]
export const TARGET_NAMES: readonly string[] = [...ALL_SYNC.map(t => t.name), FRAMES]
const BY_NAME = new Map<string, SyncTarget>(ALL_SYNC.map(t => [t.name, t]))

/**
 * Share of the inputs per decoder (of a run over several). Opening a signed envelope costs
 * about 2 ms (cairn's pure-JS ed25519 verify, then the reference's), and its framing and
 * payloads are fuzzed on their own by `envelope`, `assertion` and `hold`.
 */
export const WEIGHTS: Readonly<Record<string, number>> = { 'open-assertion': 1, 'open-hold': 1, frames: 3 }
const DEFAULT_WEIGHT = 4

/** Which decoder input `index` goes to: a fixed weighted rotation, so (seed, index, decoders) names an input. */
export function schedule (targets: readonly string[]): string[] {
  return targets.flatMap(t => new Array<string>(WEIGHTS[t] ?? DEFAULT_WEIGHT).fill(t))
}

/**
 * A decoder that spends more CPU than this on one input is a finding. CPU, not wall-clock time:
 * on a shared machine (load 10 on 2 cores) a 300 ms decode took 3.4 s of wall-clock time.
 * It is the process's CPU time (the worker thread and V8's GC helpers; the CLI's main thread
 * only waits), so it includes the garbage collection the input causes.
 */
export const SLOW_INPUT_MS = 2000
export const MAX_FINDINGS = 200

/** `scope`: a scoped assertion decode disagrees with the unscoped one (scoped-target.ts). */
export type FindingKind = 'crash' | 'verdict' | 'scope' | 'reencode' | 'slow' | 'hang' | 'reference-error'

export interface Finding {
  target: string
  seed: number
  index: number
  kind: FindingKind
  detail: string
  /** The input: bytes as hex (protobuf decoders), text (invites) or the frame script (frames, chunks as hex). */
  hex?: string
  text?: string
  ctx?: Case['ctx']
  frames?: { chunks: string[], end: string, maxFrameBytes: number, reads: FrameScript['reads'], timeoutMs: number }
}

/** maxMs: the most CPU one decode took (sync decoders), or the longest frame script in wall-clock time (frames). */
export interface TargetStats { inputs: number, accepted: number, refused: number, indeterminate: number, inconclusive: number, maxMs: number }

export interface FuzzStats {
  seed: number
  inputs: number
  elapsedMs: number
  peakHeapBytes: number
  findings: Finding[]
  findingCount: number
  targets: Record<string, TargetStats>
}

export interface FuzzOptions extends ReferenceOptions {
  seed: number
  inputs: number
  /** First index (a slice of a run). */
  start?: number
  targets?: readonly string[]
  onProgress?: (done: number, stats: FuzzStats) => void
  /** Called for every finding as it happens (past MAX_FINDINGS too). */
  onFinding?: (finding: Finding) => void
  progressEvery?: number
}

function errorText (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const e = err as Error & { field?: string, reason?: string }
  return e.field !== undefined ? `${e.name} ${e.field}: ${e.reason ?? ''}` : `${e.name}: ${e.message}`
}

function hex (b: Uint8Array): string { return Buffer.from(b).toString('hex') }

export function generateCase (target: string, seed: number, index: number): Case | FrameScript {
  const r = new FuzzRng(seed, index)
  if (target === FRAMES) return generateFrames(r)
  const t = BY_NAME.get(target)
  if (t === undefined) throw new Error(`unknown decoder ${target} (one of ${TARGET_NAMES.join(', ')})`)
  return t.generate(r)
}

interface Checked { cls: 'accepted' | 'refused' | 'indeterminate' | 'inconclusive', ms: number, finding?: { kind: FindingKind, detail: string } }

export function checkSync (t: SyncTarget, c: Case, opts: ReferenceOptions): Checked {
  let value: unknown
  let accepted = false
  let error: unknown
  const cpu0 = process.cpuUsage()
  try {
    value = t.decode(c)
    accepted = true
  } catch (err) {
    error = err
  }
  const cpu = process.cpuUsage(cpu0)
  const ms = (cpu.user + cpu.system) / 1000
  if (!accepted && !t.refusals.some(E => error instanceof E)) return { cls: 'refused', ms, finding: { kind: 'crash', detail: `threw ${errorText(error)}` } }
  const inconsistent = t.consistent?.(c) ?? null
  if (inconsistent !== null) return { cls: accepted ? 'accepted' : 'refused', ms, finding: { kind: 'scope', detail: inconsistent } }
  let ref
  try {
    ref = t.reference(c, opts)
  } catch (err) {
    return { cls: accepted ? 'accepted' : 'refused', ms, finding: { kind: 'reference-error', detail: `the reference threw ${errorText(err)}` } }
  }
  const cls = accepted ? 'accepted' : 'refused'
  if (ref.verdict !== 'indeterminate' && (ref.verdict === 'accept') !== accepted) {
    return { cls, ms, finding: { kind: 'verdict', detail: `decoder ${accepted ? 'accepted' : `refused (${errorText(error)})`}; reference ${ref.verdict === 'accept' ? 'accepts' : `refuses (${ref.reason})`}` } }
  }
  if (accepted) {
    try {
      const again = t.reencode(value, c)
      const c2: Case = typeof again === 'string' ? { ...c, text: again } : { ...c, bytes: again }
      const value2 = t.decode(c2)
      const cmp = t.comparable ?? ((v: unknown) => v)
      if (!isDeepStrictEqual(cmp(value), cmp(value2))) return { cls, ms, finding: { kind: 'reencode', detail: 're-encoded value decodes to a different value' } }
    } catch (err) {
      return { cls, ms, finding: { kind: 'reencode', detail: `re-encoded value is refused: ${errorText(err)}` } }
    }
  }
  if (ms > SLOW_INPUT_MS) return { cls, ms, finding: { kind: 'slow', detail: `decoding took ${Math.round(ms)} ms of CPU (budget ${SLOW_INPUT_MS} ms)` } }
  return { cls: ref.verdict === 'indeterminate' ? 'indeterminate' : cls, ms }
}

export async function checkFrames (s: FrameScript): Promise<Checked> {
  const t0 = performance.now()
  const run = await runFrames(s)
  const ms = performance.now() - t0
  if (run.crash !== undefined) return { cls: 'refused', ms, finding: { kind: 'crash', detail: run.crash } }
  if (run.hang !== undefined) return { cls: 'refused', ms, finding: { kind: 'hang', detail: run.hang } }
  const expected = referenceFrames(s)
  if (!sameOutcomes(run.outcomes, expected)) {
    if (run.inconclusive) return { cls: 'inconclusive', ms }
    return { cls: 'refused', ms, finding: { kind: 'verdict', detail: `reads gave [${describeOutcomes(run.outcomes)}], reference [${describeOutcomes(expected)}]` } }
  }
  const last = run.outcomes[run.outcomes.length - 1]
  return { cls: last === undefined || 'ok' in last ? 'accepted' : 'refused', ms }
}

function record (target: string, seed: number, index: number, input: Case | FrameScript, f: { kind: FindingKind, detail: string }): Finding {
  if ('chunks' in input) {
    return { target, seed, index, ...f, frames: { chunks: input.chunks.map(hex), end: input.end, maxFrameBytes: input.maxFrameBytes, reads: input.reads, timeoutMs: input.timeoutMs } }
  }
  return { target, seed, index, ...f, ...(input.text !== undefined ? { text: input.text } : { hex: hex(input.bytes) }), ctx: input.ctx }
}

/** Checks one input; returns the finding, if any, and what happened. */
export async function checkOne (target: string, seed: number, index: number, opts: ReferenceOptions): Promise<{ checked: Checked, finding?: Finding }> {
  const input = generateCase(target, seed, index)
  const checked = 'chunks' in input ? await checkFrames(input) : checkSync(BY_NAME.get(target) as SyncTarget, input, opts)
  return { checked, ...(checked.finding !== undefined ? { finding: record(target, seed, index, input, checked.finding) } : {}) }
}

export async function runFuzz (opts: FuzzOptions): Promise<FuzzStats> {
  const targets = opts.targets ?? TARGET_NAMES
  for (const t of targets) if (!TARGET_NAMES.includes(t)) throw new Error(`unknown decoder ${t} (one of ${TARGET_NAMES.join(', ')})`)
  const stats: FuzzStats = { seed: opts.seed, inputs: 0, elapsedMs: 0, peakHeapBytes: 0, findings: [], findingCount: 0, targets: {} }
  for (const t of targets) stats.targets[t] = { inputs: 0, accepted: 0, refused: 0, indeterminate: 0, inconclusive: 0, maxMs: 0 }
  const slots = schedule(targets)
  const start = opts.start ?? 0
  const t0 = performance.now()
  const every = opts.progressEvery ?? 10_000
  for (let i = start; i < start + opts.inputs; i++) {
    const target = slots[i % slots.length] as string
    const { checked, finding } = await checkOne(target, opts.seed, i, opts)
    const s = stats.targets[target] as TargetStats
    s.inputs++
    s[checked.cls]++
    if (checked.ms > s.maxMs) s.maxMs = checked.ms
    stats.inputs++
    if (finding !== undefined) {
      stats.findingCount++
      if (stats.findings.length < MAX_FINDINGS) stats.findings.push(finding)
      opts.onFinding?.(finding)
    }
    if ((i & 63) === 0 || checked.ms > 20) {
      const used = getHeapStatistics().used_heap_size
      if (used > stats.peakHeapBytes) stats.peakHeapBytes = used
    }
    if (opts.onProgress !== undefined && stats.inputs % every === 0) {
      stats.elapsedMs = performance.now() - t0
      opts.onProgress(stats.inputs, stats)
    }
  }
  stats.elapsedMs = performance.now() - t0
  return stats
}

/** Checks a recorded finding again from its stored input (not from seed + index, which follow the generators). */
export async function replayFinding (f: Finding, opts: ReferenceOptions): Promise<Finding | undefined> {
  let input: Case | FrameScript
  if (f.frames !== undefined) {
    input = { ...f.frames, end: f.frames.end as FrameScript['end'], chunks: f.frames.chunks.map(h => Buffer.from(h, 'hex')) }
  } else {
    input = { target: f.target, bytes: Buffer.from(f.hex ?? '', 'hex'), ctx: f.ctx ?? { originCount: 0, planEntries: 0, requested: 0 }, ...(f.text !== undefined ? { text: f.text } : {}) }
  }
  const t = BY_NAME.get(f.target)
  if (t === undefined && f.target !== FRAMES) throw new Error(`unknown decoder ${f.target}`)
  const checked = 'chunks' in input ? await checkFrames(input) : checkSync(t as SyncTarget, input, opts)
  return checked.finding === undefined ? undefined : record(f.target, f.seed, f.index, input, checked.finding)
}
