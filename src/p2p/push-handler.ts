/** Serves `/cairn/push/1.0.0` (see src/push/receive.ts for what it does). */
import type { Connection, Stream } from '@libp2p/interface'
import { MAX_FRAME_BYTES } from '../protocol/limits.js'
import { receivePush, type ReceiveComponents } from '../push/receive.js'
import { framed } from './frames.js'

export function pushHandler (c: ReceiveComponents): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const peer = connection.remotePeer.toString()
    try {
      await receivePush(c, framed(stream, MAX_FRAME_BYTES), peer)
      await stream.close({ signal: AbortSignal.timeout(5000) }).catch(() => {})
    } catch (err) {
      c.logger.warn('push stream failed', { peer, error: err instanceof Error ? err.message : String(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
