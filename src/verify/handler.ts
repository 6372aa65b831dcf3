/**
 * Serves `/cairn/verify/1.0.0`: a node that pushes a volume here asks this node to re-read what
 * it holds of it and sign a fresh assertion (protocol/README.md). Within one frame deadline it
 * reads one bounded request and validates it at the edge (a live peer, a volume the two share —
 * src/fetch/shared-volume.ts —, a sample within MAX_VERIFY_SAMPLE). The re-read is a recorded
 * run of this node's own (src/verify/reread.ts) under its run gates: a volume busy with another
 * run answers BUSY, a volume root that is not the volume's disk REFUSED. While it re-reads, a
 * progress frame goes out at least every VERIFY_PROGRESS_MS; the whole re-read is cut at
 * VERIFY_MAX_MS, and stops when the requester goes away or the node stops. Then the assertion
 * is sealed from what this node holds after the re-read, and sent with the counts.
 *
 * Nothing the requester sends is written anywhere; the re-read writes only what this node
 * itself found on its own disk.
 */
import type { Connection, Stream } from '@libp2p/interface'
import type { Config } from '../config/types.js'
import { CairnError, InvalidMessageError, OversizeMessageError, RunConflictError } from '../errors.js'
import { sharesVolume } from '../fetch/shared-volume.js'
import type { NodeKey } from '../identity/node-key.js'
import type { Logger } from '../logger.js'
import { FrameTooLargeError, framed, type Framed } from '../p2p/frames.js'
import { MAX_VERIFY_REQUEST_BYTES, VERIFY_FRAME_DEADLINE_MS, VERIFY_MAX_MS, VERIFY_PROGRESS_MS } from '../protocol/limits.js'
import { Status, type StatusCode, type VerifyReply, type VerifyRequest } from '../protocol/messages.js'
import { decodeVerifyRequest, encodeVerifyReply } from '../protocol/wire.js'
import { sealLocalAssertion } from '../pull/local-assertion.js'
import type { Store } from '../store/store.js'
import { rereadForPeer, type RereadResult } from './reread.js'

export interface VerifyHandlerComponents {
  store: Store
  key: NodeKey
  config: () => Config
  logger: Logger
  /** Aborts re-reads in progress (the node is stopping). */
  signal?: AbortSignal
  frameDeadlineMs?: number
  progressMs?: number
  maxMs?: number
  /** The draw of a sampled re-read (uniform in [0, 1); default Math.random). */
  random?: () => number
}

function refusal (status: StatusCode, message: string): VerifyReply {
  return { done: true, status, message, checked: 0, bytesChecked: 0, mismatched: 0, missing: 0, problems: [], envelope: null, run: 0 }
}

export function verifyHandler (c: VerifyHandlerComponents): (stream: Stream, connection: Connection) => Promise<void> {
  const deadline = c.frameDeadlineMs ?? VERIFY_FRAME_DEADLINE_MS
  const progressMs = c.progressMs ?? VERIFY_PROGRESS_MS
  return async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    const io: Framed = framed(stream, MAX_VERIFY_REQUEST_BYTES)
    const finish = async (r: VerifyReply): Promise<void> => {
      await io.write(encodeVerifyReply(r), deadline)
      await stream.close({ signal: AbortSignal.timeout(deadline) })
    }
    try {
      const peer = c.store.nodes.byNodeId(peerId)
      if (peer === undefined || !c.store.nodes.isLivePeer(peerId)) {
        c.logger.warn('refused a verify request from a peer that is not live', { peer: peerId })
        await finish(refusal(Status.REFUSED, 'not an enrolled peer'))
        return
      }
      const peerName = peer.name ?? peerId
      let request: VerifyRequest
      try {
        request = decodeVerifyRequest(await io.read('a verify request', MAX_VERIFY_REQUEST_BYTES, deadline))
      } catch (err) {
        c.logger.info('refused an invalid verify request', { peer: peerName, code: err instanceof Error ? err.name : 'unknown', error: err instanceof Error ? err.message : String(err) })
        // as the fetch handler: over a limit, malformed, or (a stall, a closed stream) no answer at all
        if (err instanceof FrameTooLargeError || err instanceof OversizeMessageError) await finish(refusal(Status.TOO_LARGE, 'the request is over a limit'))
        else if (err instanceof InvalidMessageError) await finish(refusal(Status.INVALID_REQUEST, 'invalid request'))
        else stream.abort(err instanceof Error ? err : new Error(String(err)))
        return
      }
      const config = c.config()
      const sharing = sharesVolume(c.store, config, peer, request.volume)
      const volume = config.volumes.get(request.volume)
      if (!sharing.shared || volume === undefined) {
        c.logger.warn('refused a verify of a volume this node does not share with the peer', { peer: peerName, volume: request.volume, reason: sharing.shared ? 'unknown-volume' : sharing.reason })
        if (volume === undefined) await finish(refusal(Status.UNKNOWN_VOLUME, `no volume ${request.volume} here`))
        else await finish(refusal(Status.REFUSED, `volume ${request.volume} is not shared with you (neither node pushes it to the other)`))
        return
      }

      // the re-read stops at the overall limit, when the node stops, or when the requester is gone
      const gone = new AbortController()
      const signals = [AbortSignal.timeout(c.maxMs ?? VERIFY_MAX_MS), gone.signal, ...(c.signal === undefined ? [] : [c.signal])]
      const progress = { checked: 0, bytes: 0 }
      c.logger.info('re-reading a volume a peer asked to verify', { peer: peerName, volume: volume.name, sample: request.sample })
      const work = rereadForPeer({
        store: c.store,
        volume,
        sample: request.sample,
        requestedBy: { peerNodeId: peer.id, name: peerName },
        logger: c.logger,
        signal: AbortSignal.any(signals),
        ...(c.random === undefined ? {} : { random: c.random }),
        onProgress: (checked, bytes) => { progress.checked = checked; progress.bytes = bytes }
      }).then(r => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, err }))
      let outcome: Awaited<typeof work> | undefined
      while (outcome === undefined) {
        let timer: NodeJS.Timeout | undefined
        const tick = new Promise<undefined>(resolve => { timer = setTimeout(() => { resolve(undefined) }, progressMs) })
        outcome = await Promise.race([work, tick])
        clearTimeout(timer)
        if (outcome !== undefined) break
        try {
          await io.write(encodeVerifyReply({ done: false, status: 0, message: '', checked: progress.checked, bytesChecked: progress.bytes, mismatched: 0, missing: 0, problems: [], envelope: null, run: 0 }), deadline)
        } catch (err) {
          gone.abort(err)
          outcome = await work
          c.logger.warn('the peer went away during a verify; the re-read stopped', { peer: peerName, volume: volume.name, error: err instanceof Error ? err.message : String(err) })
          stream.abort(err instanceof Error ? err : new Error(String(err)))
          return
        }
      }
      if (!outcome.ok) {
        const err = outcome.err
        if (err instanceof RunConflictError) {
          c.logger.info('a verify request waits: the volume is busy', { peer: peerName, volume: volume.name, error: err.message })
          await finish(refusal(Status.BUSY, `${volume.name} is busy here (${err.blocking.kind} run ${err.blocking.id}); try again later`))
        } else if (err instanceof CairnError) {
          c.logger.warn('refused a verify: the volume cannot be re-read here', { peer: peerName, volume: volume.name, code: err.name, error: err.message })
          await finish(refusal(Status.REFUSED, `${volume.name} cannot be re-read here now (see its log)`))
        } else {
          c.logger.error('a verify re-read failed', { peer: peerName, volume: volume.name, error: err instanceof Error ? err.message : String(err) })
          await finish(refusal(Status.INTERNAL, 'internal error'))
        }
        return
      }
      const r: RereadResult = outcome.r
      if (r.status === 'aborted' || r.status === 'failed') {
        c.logger.warn('a verify re-read did not complete', { peer: peerName, volume: volume.name, run: r.runId, status: r.status, error: r.error })
        await finish(refusal(Status.INTERNAL, r.status === 'aborted' ? 'the re-read was cut short (the node is stopping, or it ran past the limit)' : 'the re-read did not complete (see its log)'))
        return
      }
      const envelope = sealLocalAssertion(c.store, c.key, volume.name, c.logger)
      const found = r.mismatched + r.missing
      const status = found > 0 || r.status === 'partial' ? Status.PARTIAL : Status.OK
      const message = found > 0
        ? `${r.missing} missing and ${r.mismatched} changed or damaged file(s); custody of them is retracted`
        : r.status === 'partial' ? `some files could not be read: ${r.error ?? ''}` : ''
      await finish({ done: true, status, message, checked: r.checked, bytesChecked: r.bytesChecked, mismatched: r.mismatched, missing: r.missing, problems: r.problems, envelope, run: r.runId })
      c.logger.info('answered a verify', { peer: peerName, volume: volume.name, run: r.runId, checked: r.checked, mismatched: r.mismatched, missing: r.missing, escalated: r.escalated })
    } catch (err) {
      c.logger.warn('verify request failed', { peer: peerId, error: err instanceof Error ? err.message : String(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
