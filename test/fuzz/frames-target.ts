/**
 * Length-prefixed framing (src/p2p/frames.ts) fed by an in-memory stream that delivers a byte
 * string in arbitrary chunks (one per macrotask, honouring pause/resume), then closes, errors
 * or stalls. The consumer reads a few frames with per-read limits; the reference computes each
 * read's outcome from the whole byte string:
 *
 *   a frame is an unsigned LEB128 length (at most 10 bytes; non-minimal prefixes allowed: a
 *   transport prefix, not a protobuf field) then that many bytes; a length above the read's
 *   limit (min of the framer's and the read's) or a prefix without a terminator in 10 bytes is
 *   FrameTooLargeError, decided from the prefix alone; a stream that ends first is
 *   StreamClosedError; one that stalls is StreamDeadlineError at the read's deadline.
 *
 * A read must settle by its deadline (plus slack): a read still pending after that is a hang.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameTooLargeError, framed, StreamClosedError, StreamDeadlineError } from '../../src/p2p/frames.js'
import type { FuzzRng } from './prng.js'

export type FrameEnd = 'close' | 'error' | 'stall'

export interface FrameScript {
  chunks: Uint8Array[]
  end: FrameEnd
  maxFrameBytes: number
  reads: Array<{ maxBytes: number, copy: boolean }>
  timeoutMs: number
}

export type ReadOutcome = { ok: Uint8Array } | { error: 'too-large' | 'closed' | 'deadline' }

/** Slack past a read's deadline before the read counts as hung (the machine is shared). */
export const HANG_SLACK_MS = 2000
const STALL_TIMEOUT_MS = 10
const OPEN_TIMEOUT_MS = 30_000

function uvarint (n: number): number[] {
  const out: number[] = []
  let v = n
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80) }
  out.push(v)
  return out
}

export function generateFrames (r: FuzzRng): FrameScript {
  const maxFrameBytes = r.pick([0, 1, 16, 127, 128, 1000, 16_384, 1024 * 1024])
  const parts: Uint8Array[] = []
  const nFrames = r.int(0, 4)
  // frames of about 1 MiB only now and then (they cost milliseconds); otherwise limits up to 16 KiB
  const big = r.chance(0.002)
  const atLimit = maxFrameBytes <= 16_384 || big
  for (let i = 0; i < nFrames; i++) {
    const len = big
      ? r.int(1024 * 1024 - 2, 1024 * 1024 + 1)
      : r.pick([0, 1, 2, atLimit ? maxFrameBytes : 3, atLimit ? maxFrameBytes + 1 : 4, atLimit ? Math.max(0, maxFrameBytes - 1) : 5, r.int(0, Math.min(maxFrameBytes + 2, 300))])
    const prefix = r.chance(0.9) ? uvarint(len) : r.pick([
      () => { const b = uvarint(len); b[b.length - 1] = (b[b.length - 1] as number) | 0x80; return [...b, 0] },
      () => new Array<number>(10).fill(0x80),
      () => [...new Array<number>(9).fill(0xff), 0x01],
      () => [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
      () => uvarint(2 ** 32 + len)
    ])()
    parts.push(Uint8Array.from(prefix))
    parts.push(len > 4096 ? new Uint8Array(len).fill(i + 1) : r.bytes(len))
  }
  let all: Uint8Array = Buffer.concat(parts)
  if (r.chance(0.3) && all.length > 0) all = all.subarray(0, r.int(0, all.length - 1)) // truncated
  if (r.chance(0.05)) all = r.bytes(r.int(0, 40))
  const end: FrameEnd = r.chance(0.05) ? 'stall' : r.chance(0.2) ? 'error' : 'close'
  // arbitrary chunkings: single bytes, splits inside the prefix, one big chunk
  const chunks: Uint8Array[] = []
  const maxChunks = end === 'stall' ? 8 : 64
  let pos = 0
  const mode = r.int(0, 3)
  while (pos < all.length) {
    const left = all.length - pos
    const n = chunks.length >= maxChunks - 1 ? left : mode === 0 ? 1 : mode === 1 ? r.int(1, 4) : mode === 2 ? r.int(1, 64 * 1024) : left
    chunks.push(all.subarray(pos, pos + Math.min(n, left)))
    pos += Math.min(n, left)
  }
  if (r.chance(0.1)) chunks.splice(r.int(0, chunks.length), 0, new Uint8Array(0))
  const reads = Array.from({ length: r.int(1, nFrames + 1) }, () => ({ maxBytes: r.chance(0.7) ? maxFrameBytes : r.pick([0, 1, 16, 1000, 2 * 1024 * 1024]), copy: r.chance(0.5) }))
  return { chunks, end, maxFrameBytes, reads, timeoutMs: end === 'stall' ? STALL_TIMEOUT_MS : OPEN_TIMEOUT_MS }
}

/** The expected outcome of each read, from the whole byte string. Stops at the first error. */
export function referenceFrames (s: FrameScript): ReadOutcome[] {
  const all = Buffer.concat(s.chunks)
  const waiting: ReadOutcome = { error: s.end === 'stall' ? 'deadline' : 'closed' }
  const out: ReadOutcome[] = []
  let pos = 0
  for (const read of s.reads) {
    const limit = Math.min(read.maxBytes, s.maxFrameBytes)
    let length = -1
    let used = 0
    let scale = 1
    let value = 0
    for (let i = 0; i < 10 && pos + i < all.length; i++) {
      const b = all[pos + i] as number
      value += (b & 0x7f) * scale
      scale *= 128
      if (b < 0x80) { length = value; used = i + 1; break }
    }
    if (length === -1) {
      out.push(all.length - pos >= 10 ? { error: 'too-large' } : waiting)
      return out
    }
    if (length > limit) { out.push({ error: 'too-large' }); return out }
    if (pos + used + length > all.length) { out.push(waiting); return out }
    out.push({ ok: all.subarray(pos + used, pos + used + length) })
    pos += used + length
  }
  return out
}

/** A libp2p Stream's reading side, in memory. */
class ScriptedStream extends EventTarget {
  readStatus: 'readable' | 'paused' | 'closed' = 'readable'
  writeStatus = 'writable'
  writeBufferLength = 0
  deliveredAllAt = -1
  #next = 0
  #timer: NodeJS.Immediate | undefined

  constructor (readonly script: FrameScript) {
    super()
    this.#schedule()
  }

  pause (): void { this.readStatus = 'paused' }
  resume (): void { if (this.readStatus === 'paused') { this.readStatus = 'readable'; this.#schedule() } }
  send (): boolean { return true }

  #schedule (): void {
    if (this.#timer !== undefined) return
    this.#timer = setImmediate(() => { this.#timer = undefined; this.#step() })
  }

  #step (): void {
    if (this.readStatus !== 'readable') return
    const chunk = this.script.chunks[this.#next]
    if (chunk !== undefined) {
      this.#next++
      const evt = new Event('message') as Event & { data: Uint8Array | Uint8ArrayList }
      evt.data = this.#next % 2 === 0 ? new Uint8ArrayList(chunk) : chunk
      this.dispatchEvent(evt)
      this.#schedule()
      return
    }
    if (this.deliveredAllAt >= 0) return
    this.deliveredAllAt = performance.now()
    if (this.script.end === 'close') this.dispatchEvent(new Event('remoteCloseWrite'))
    if (this.script.end === 'error') {
      const evt = new Event('close') as Event & { error?: Error }
      evt.error = new Error('reset by the fuzzer')
      this.readStatus = 'closed'
      this.dispatchEvent(evt)
    }
  }

  stop (): void { if (this.#timer !== undefined) clearImmediate(this.#timer); this.readStatus = 'closed' }
}

export interface FramesRun {
  outcomes: ReadOutcome[]
  /** A read that failed some other way (a crash). */
  crash?: string
  hang?: string
  /** A deadline hit before the fake stream had delivered everything: timing, not a verdict. */
  inconclusive: boolean
}

export async function runFrames (s: FrameScript): Promise<FramesRun> {
  const stream = new ScriptedStream(s)
  const f = framed(stream as never, s.maxFrameBytes)
  const outcomes: ReadOutcome[] = []
  let inconclusive = false
  try {
    for (const read of s.reads) {
      const started = performance.now()
      let watchdog: NodeJS.Timeout | undefined
      const hang = new Promise<'hang'>(resolve => {
        const check = (): void => {
          const now = performance.now()
          const deadline = s.end === 'stall' ? started + s.timeoutMs : (stream.deliveredAllAt < 0 ? Infinity : stream.deliveredAllAt)
          if (now > deadline + HANG_SLACK_MS) resolve('hang')
          else watchdog = setTimeout(check, 100)
        }
        watchdog = setTimeout(check, 100)
      })
      const p = read.copy
        ? f.read('fuzz frame', read.maxBytes, s.timeoutMs)
        : f.readChunks('fuzz frame', read.maxBytes, s.timeoutMs).then(cs => Buffer.concat(cs))
      let result: Uint8Array | 'hang'
      try {
        result = await Promise.race([p, hang])
      } catch (err) {
        clearTimeout(watchdog)
        if (err instanceof FrameTooLargeError) outcomes.push({ error: 'too-large' })
        else if (err instanceof StreamClosedError) outcomes.push({ error: 'closed' })
        else if (err instanceof StreamDeadlineError) {
          outcomes.push({ error: 'deadline' })
          if (stream.deliveredAllAt < 0) inconclusive = true
        } else return { outcomes, crash: err instanceof Error ? `${err.name}: ${err.message}` : String(err), inconclusive }
        return { outcomes, inconclusive }
      }
      clearTimeout(watchdog)
      if (result === 'hang') return { outcomes, hang: `read ${outcomes.length} still pending ${Math.round(performance.now() - started)} ms after it started`, inconclusive }
      outcomes.push({ ok: result })
    }
    return { outcomes, inconclusive }
  } finally {
    stream.stop()
  }
}

export function sameOutcomes (a: ReadOutcome[], b: ReadOutcome[]): boolean {
  if (a.length !== b.length) return false
  return a.every((x, i) => {
    const y = b[i] as ReadOutcome
    if ('ok' in x) return 'ok' in y && Buffer.from(x.ok).equals(Buffer.from(y.ok))
    return 'error' in y && x.error === y.error
  })
}

export function describeOutcomes (xs: ReadOutcome[]): string {
  return xs.map(x => 'ok' in x ? `frame(${x.ok.length})` : x.error).join(', ')
}
