/**
 * Serves `/cairn/durability/1.0.0`: reads one bounded request within the deadline, and answers
 * with a freshly sealed assertion of this node's own evidence for the volume — or a status: a
 * volume this node does not declare is UNKNOWN_VOLUME, a malformed request INVALID_REQUEST.
 * Nothing a peer sends here is written anywhere; failures are logged, never echoed.
 */
import type { Connection, Stream } from '@libp2p/interface'
import type { Config } from '../config/types.js'
import { CairnError } from '../errors.js'
import type { NodeKey } from '../identity/node-key.js'
import type { Logger } from '../logger.js'
import { MAX_DURABILITY_REQUEST_BYTES } from '../protocol/ids.js'
import { DURABILITY_DEADLINE_MS } from '../protocol/limits.js'
import { Status, type DurabilityResponse } from '../protocol/messages.js'
import { decodeDurabilityRequest, encodeDurabilityResponse } from '../protocol/wire.js'
import { sealLocalAssertion } from '../pull/local-assertion.js'
import type { Store } from '../store/store.js'
import { framed } from './frames.js'

export interface DurabilityHandlerComponents {
  store: Store
  key: NodeKey
  config: () => Config
  logger: Logger
  deadlineMs?: number
}

export function durabilityHandler (c: DurabilityHandlerComponents): (stream: Stream, connection: Connection) => Promise<void> {
  const deadline = c.deadlineMs ?? DURABILITY_DEADLINE_MS
  return async (stream, connection) => {
    const peer = connection.remotePeer.toString()
    const io = framed(stream, MAX_DURABILITY_REQUEST_BYTES)
    const respond = async (r: DurabilityResponse): Promise<void> => {
      await io.write(encodeDurabilityResponse(r), deadline)
      await stream.close({ signal: AbortSignal.timeout(deadline) })
    }
    try {
      if (!c.store.nodes.isLivePeer(peer)) {
        c.logger.warn('refused a durability request from a peer that is no longer live', { peer })
        await respond({ status: Status.REFUSED, envelope: null, message: 'not an enrolled peer' })
        return
      }
      let volume: string
      try {
        volume = decodeDurabilityRequest(await io.read('a durability request', MAX_DURABILITY_REQUEST_BYTES, deadline)).volume
      } catch (err) {
        c.logger.info('refused an invalid durability request', { peer, error: err instanceof Error ? err.message : String(err), code: err instanceof Error ? err.name : 'unknown' })
        if (err instanceof CairnError && err.name === 'InvalidMessageError') {
          await respond({ status: Status.INVALID_REQUEST, envelope: null, message: 'invalid request' })
        } else {
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
        return
      }
      if (!c.config().volumes.has(volume)) {
        c.logger.debug('durability request for a volume this node does not declare', { peer, volume })
        await respond({ status: Status.UNKNOWN_VOLUME, envelope: null, message: `no volume ${volume} here` })
        return
      }
      let envelope: Uint8Array
      try {
        envelope = sealLocalAssertion(c.store, c.key, volume, c.logger)
      } catch (err) {
        c.logger.error('could not seal an assertion', { peer, volume, error: err instanceof Error ? err.message : String(err) })
        await respond({ status: Status.INTERNAL, envelope: null, message: 'internal error' })
        return
      }
      await respond({ status: Status.OK, envelope, message: '' })
      c.logger.debug('served a durability assertion', { peer, volume, bytes: envelope.length })
    } catch (err) {
      c.logger.warn('durability request failed', { peer, error: err instanceof Error ? err.message : String(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
