/**
 * Length-prefixed framing over libp2p streams, with a size limit on every frame and a
 * deadline on every read and write. A frame over its limit is refused from its length prefix,
 * before its body is read.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import { CairnError } from '../errors.js'

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
  write: (data: Uint8Array, timeoutMs: number) => Promise<void>
  stream: Stream
}

function classify (err: unknown, what: string, limit: number, timeoutMs: number, signal: AbortSignal): CairnError {
  if (err instanceof CairnError) return err
  const name = err instanceof Error ? err.name : ''
  if (signal.aborted) return new StreamDeadlineError(what, timeoutMs)
  if (name === 'InvalidDataLengthError' || name === 'InvalidMessageLengthError') return new FrameTooLargeError(what, limit)
  if (name === 'InvalidDataLengthLengthError') return new FrameTooLargeError(what, limit)
  return new StreamClosedError(what, err)
}

/**
 * Wraps a stream. `maxFrameBytes` is the largest frame this stream may carry at all; it is
 * checked from the length prefix, before the body is read. A read may set a lower maximum,
 * checked once the frame is in.
 */
export function framed (stream: Stream, maxFrameBytes: number): Framed {
  const lp: LengthPrefixedStream<Stream> = lpStream(stream, { maxDataLength: maxFrameBytes })
  return {
    stream,
    read: async (what, maxBytes, timeoutMs) => {
      const signal = AbortSignal.timeout(timeoutMs)
      let frame: Uint8ArrayList
      try {
        frame = await lp.read({ signal })
      } catch (err) {
        throw classify(err, what, maxFrameBytes, timeoutMs, signal)
      }
      if (frame.byteLength > maxBytes) throw new FrameTooLargeError(what, maxBytes)
      return frame.subarray()
    },
    write: async (data, timeoutMs) => {
      const signal = AbortSignal.timeout(timeoutMs)
      try {
        await lp.write(data, { signal })
      } catch (err) {
        throw classify(err, 'a write', maxFrameBytes, timeoutMs, signal)
      }
    }
  }
}
