/**
 * Length-prefixed (unsigned varint) framing over a libp2p stream, with a size limit on every
 * frame (checked from the length prefix, before the body is read), a deadline on every read and
 * write, and real back-pressure in both directions:
 *
 *  - reading: above READ_HIGH_WATER_BYTES of unread bytes the stream is paused, so yamux stops
 *    granting the sender window; it resumes below READ_LOW_WATER_BYTES. (`lpStream` from
 *    @libp2p/utils buffers without pausing and aborts the stream at 4 MiB, which a fast pusher
 *    reaches whenever the receiver's disk is slower than the network.)
 *  - writing: a write returns only once the stream's unsent bytes are below
 *    WRITE_HIGH_WATER_BYTES. Waiting for one `drain` is not enough: yamux emits it on every
 *    window update, however small, so a writer of 1 MiB frames would outrun 256 KiB updates
 *    and grow the send buffer without bound.
 */
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { CairnError } from '../errors.js'
import { uvarint } from '../protocol/varint.js'

export const READ_HIGH_WATER_BYTES = 4 * 1024 * 1024
export const READ_LOW_WATER_BYTES = 1024 * 1024
/** A write returns once the stream holds at most this many unsent bytes. */
export const WRITE_HIGH_WATER_BYTES = 2 * 1024 * 1024
const MAX_VARINT_BYTES = 10

export class StreamDeadlineError extends CairnError {
  override name = 'StreamDeadlineError' as const
  constructor (readonly what: string, readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`)
  }
}

export class FrameTooLargeError extends CairnError {
  override name = 'FrameTooLargeError' as const
  constructor (readonly what: string, readonly limit: number) {
    super(`${what} is larger than the limit of ${limit} bytes`)
  }
}

export class StreamClosedError extends CairnError {
  override name = 'StreamClosedError' as const
  constructor (readonly what: string, cause?: unknown) {
    super(`the stream ended while waiting for ${what}`, { cause })
  }
}

export interface Framed {
  read: (what: string, maxBytes: number, timeoutMs: number) => Promise<Uint8Array>
  /** Like read, but returns the frame as views into the received chunks (no copy). */
  readChunks: (what: string, maxBytes: number, timeoutMs: number) => Promise<Uint8Array[]>
  write: (data: Uint8Array, timeoutMs: number) => Promise<void>
  stream: Stream
}

/** Decodes a varint at the start of `buf`: [value, bytes used], undefined if incomplete, -1 if malformed. */
function readVarint (buf: Uint8ArrayList): [number, number] | undefined | -1 {
  let value = 0
  let scale = 1
  for (let i = 0; i < Math.min(buf.byteLength, MAX_VARINT_BYTES); i++) {
    const b = buf.get(i)
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return [value, i + 1]
    scale *= 0x80
  }
  return buf.byteLength >= MAX_VARINT_BYTES ? -1 : undefined
}

export function framed (stream: Stream, maxFrameBytes: number): Framed {
  const buffer = new Uint8ArrayList()
  let ended = false
  let endError: unknown
  let wake: (() => void) | undefined

  const notify = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  const pauseIfHigh = (): void => {
    if (buffer.byteLength > READ_HIGH_WATER_BYTES && stream.readStatus === 'readable') {
      try { stream.pause() } catch {}
    }
  }
  stream.addEventListener('message', (evt) => {
    buffer.append(evt.data)
    // Deferred: a message can be dispatched from inside resume(), and yamux marks the stream
    // un-paused after that dispatch returns; pausing synchronously here would be undone.
    if (buffer.byteLength > READ_HIGH_WATER_BYTES) queueMicrotask(pauseIfHigh)
    notify()
  })
  stream.addEventListener('remoteCloseWrite', () => { ended = true; notify() })
  stream.addEventListener('close', (evt) => { ended = true; endError = evt.error; notify() })

  const resumeIfLow = (): void => {
    if (stream.readStatus === 'paused' && buffer.byteLength < READ_LOW_WATER_BYTES) {
      try { stream.resume() } catch {}
    }
  }

  const waitForData = async (signal: AbortSignal): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { wake = undefined; reject(signal.reason) }
      if (signal.aborted) { onAbort(); return }
      wake = () => { signal.removeEventListener('abort', onAbort); resolve() }
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  const readFrame = async (what: string, maxBytes: number, timeoutMs: number): Promise<Uint8ArrayList> => {
    const limit = Math.min(maxBytes, maxFrameBytes)
    const signal = AbortSignal.timeout(timeoutMs)
    for (;;) {
      const header = readVarint(buffer)
      if (header === -1) throw new FrameTooLargeError(what, limit)
      if (header !== undefined) {
        const [length, used] = header
        if (length > limit) throw new FrameTooLargeError(what, limit)
        if (buffer.byteLength >= used + length) {
          const frame = buffer.sublist(used, used + length)
          buffer.consume(used + length)
          resumeIfLow()
          return frame
        }
      }
      if (ended) throw new StreamClosedError(what, endError)
      // a frame larger than the high-water mark must still be able to arrive in full
      if (stream.readStatus === 'paused') { try { stream.resume() } catch {} }
      try {
        await waitForData(signal)
      } catch {
        throw new StreamDeadlineError(what, timeoutMs)
      }
    }
  }

  return {
    stream,
    read: async (what, maxBytes, timeoutMs) => (await readFrame(what, maxBytes, timeoutMs)).subarray(),
    readChunks: async (what, maxBytes, timeoutMs) => [...(await readFrame(what, maxBytes, timeoutMs))],
    write: async (data, timeoutMs) => {
      const signal = AbortSignal.timeout(timeoutMs)
      try {
        stream.send(new Uint8ArrayList(uvarint(data.byteLength), data))
      } catch (err) {
        throw new StreamClosedError('a write', err)
      }
      while (stream.writeBufferLength > WRITE_HIGH_WATER_BYTES) {
        if (stream.writeStatus !== 'writable') throw new StreamClosedError('a write')
        if (signal.aborted) throw new StreamDeadlineError('a write to drain', timeoutMs)
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer)
            for (const e of ['drain', 'idle', 'close'] as const) stream.removeEventListener(e, done)
            signal.removeEventListener('abort', done)
            resolve()
          }
          // events cover every change; the timer only guards against a missed one
          const timer = setTimeout(done, 100)
          for (const e of ['drain', 'idle', 'close'] as const) stream.addEventListener(e, done)
          signal.addEventListener('abort', done)
        })
      }
    }
  }
}
