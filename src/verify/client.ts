/**
 * The network half of `cairn verify VOLUME --at PEER`: one `/cairn/verify/1.0.0` exchange. It
 * sends the request, then reads frames until the final one: each within
 * VERIFY_FRAME_DEADLINE_MS (the peer sends progress at least every VERIFY_PROGRESS_MS), the
 * whole exchange within VERIFY_MAX_MS, each frame within MAX_FRAME_BYTES, validated by wire.ts.
 * Returns the final reply exactly as decoded; the envelope in it is trusted by nothing here.
 */
import type { Libp2p } from '@libp2p/interface'
import { openPeerStream } from '../p2p/dial.js'
import { framed } from '../p2p/frames.js'
import { VERIFY_PROTOCOL } from '../protocol/ids.js'
import { MAX_FRAME_BYTES, VERIFY_FRAME_DEADLINE_MS, VERIFY_MAX_MS } from '../protocol/limits.js'
import type { VerifyReply } from '../protocol/messages.js'
import { decodeVerifyReply, encodeVerifyRequest } from '../protocol/wire.js'
import type { NodeRow } from '../store/nodes.js'

export interface VerifyExchangeInit {
  host: Libp2p
  peer: NodeRow
  volume: string
  sample: number
  onProgress?: (checked: number, bytes: number) => void
  signal?: AbortSignal
  frameDeadlineMs?: number
  maxMs?: number
}

export class VerifyTooLongError extends Error {
  override name = 'VerifyTooLongError'
}

function formatLimit (ms: number): string {
  return ms >= 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`
}

export async function requestVerify (init: VerifyExchangeInit): Promise<VerifyReply> {
  const frameMs = init.frameDeadlineMs ?? VERIFY_FRAME_DEADLINE_MS
  const whole = AbortSignal.timeout(init.maxMs ?? VERIFY_MAX_MS)
  const signal = init.signal === undefined ? whole : AbortSignal.any([whole, init.signal])
  const stream = await openPeerStream(init.host, init.peer, VERIFY_PROTOCOL, AbortSignal.any([signal, AbortSignal.timeout(frameMs)]))
  const onAbort = (): void => { stream.abort(signal.reason instanceof Error ? signal.reason : new Error('verify stopped')) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const io = framed(stream, MAX_FRAME_BYTES)
    await io.write(encodeVerifyRequest({ volume: init.volume, sample: init.sample }), frameMs)
    for (;;) {
      if (signal.aborted) throw whole.aborted ? new VerifyTooLongError(`the verify ran past ${formatLimit(init.maxMs ?? VERIFY_MAX_MS)} (verify a volume that large with --sample)`) : signal.reason
      const reply = decodeVerifyReply(await io.read('a verify reply', MAX_FRAME_BYTES, frameMs))
      if (reply.done) return reply
      init.onProgress?.(reply.checked, reply.bytesChecked)
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    await stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { stream.abort(new Error('closing')) })
  }
}
