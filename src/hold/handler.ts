/**
 * Serves `/cairn/hold/1.0.0` (DESIGN invariant 29): a peer about to offload its own copy of
 * files asks this node to keep them. Within the deadline it reads one bounded request and
 * validates it at the edge (a live peer, a declared volume, the entry count, the push plan's
 * path rules, a bounded duration); for every entry it checks that the live files row is
 * present with that hash and that the file on disk still has the indexed size and mtime (one
 * lstat: a file deleted or edited since the last index is refused); then `grant` records the
 * holds in one transaction — refusing files this node is offloading itself — and the answer
 * carries a signed Hold over exactly the granted entries. A bad request gets a status, a log
 * line, and writes nothing; internal errors are never echoed.
 */
import { join } from 'node:path'
import type { Connection, Stream } from '@libp2p/interface'
import type { Config } from '../config/types.js'
import { CairnError, InvalidMessageError, OversizeMessageError } from '../errors.js'
import type { NodeKey } from '../identity/node-key.js'
import type { NodeId } from '../identity/node-id.js'
import type { Logger } from '../logger.js'
import { FrameTooLargeError, framed } from '../p2p/frames.js'
import { sealHold } from '../protocol/hold-envelope.js'
import { HOLD_DEADLINE_MS, MAX_HOLD_REQUEST_BYTES } from '../protocol/limits.js'
import { HoldRefusalReason, Status, type HoldEntry, type HoldRefusal, type HoldRequest, type HoldResponse } from '../protocol/messages.js'
import { decodeHoldRequest, encodeHoldResponse, holdEntriesDigest } from '../protocol/wire.js'
import { checkDestinationIdentity } from '../push/destination-marker.js'
import { volumeIdentityRefusal } from '../push/volume-marker.js'
import { nodeDirectoryFs, type DirectoryFs } from '../push/directory-fs.js'
import type { Store } from '../store/store.js'
import { SHA256_READBACK } from '../verify-method.js'

export interface HoldHandlerComponents {
  store: Store
  key: NodeKey
  config: () => Config
  logger: Logger
  /** Filesystem for the disk check (tests inject changes). */
  fs?: DirectoryFs
  deadlineMs?: number
}

/** Every `placed_at` key is a live local directory of this node whose marker checks out now. */
async function checkPlacedAt (c: HoldHandlerComponents, fs: DirectoryFs, keys: readonly string[]): Promise<true | string> {
  const config = c.config()
  const self = c.store.nodes.self().id
  for (const key of keys) {
    const row = c.store.destinations.byKey(key)
    if (row === undefined || row.ownerRowId !== self || row.forgottenAtNs !== null || row.localName === null) return `${key} is not a directory this node writes`
    const dest = config.destinations.get(row.localName)
    if (dest === undefined) return `${row.localName} is no longer configured`
    try {
      await checkDestinationIdentity(c.store, fs, dest.name, dest.path)
    } catch (err) {
      if (err instanceof CairnError) return err.message
      throw err
    }
  }
  return true
}

export function holdHandler (c: HoldHandlerComponents): (stream: Stream, connection: Connection) => Promise<void> {
  const deadline = c.deadlineMs ?? HOLD_DEADLINE_MS
  const fs = c.fs ?? nodeDirectoryFs
  return async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    const io = framed(stream, MAX_HOLD_REQUEST_BYTES)
    const respond = async (r: HoldResponse): Promise<void> => {
      await io.write(encodeHoldResponse(r), deadline)
      await stream.close({ signal: AbortSignal.timeout(deadline) })
    }
    const refuse = async (status: HoldResponse['status'], message: string): Promise<void> => {
      await respond({ status, envelope: null, refused: [], message })
    }
    try {
      const peer = c.store.nodes.byNodeId(peerId)
      if (peer === undefined || !c.store.nodes.isLivePeer(peerId)) {
        c.logger.warn('refused a hold request from a peer that is not live', { peer: peerId })
        await refuse(Status.REFUSED, 'not an enrolled peer')
        return
      }
      let request: HoldRequest
      try {
        request = decodeHoldRequest(await io.read('a hold request', MAX_HOLD_REQUEST_BYTES, deadline))
      } catch (err) {
        const code = err instanceof Error ? err.name : 'unknown'
        c.logger.info('refused an invalid hold request', { peer: peerId, code, error: err instanceof Error ? err.message : String(err) })
        if (err instanceof FrameTooLargeError || err instanceof OversizeMessageError || (err instanceof InvalidMessageError && /more elements than the limit/.test(err.reason))) {
          await refuse(Status.TOO_LARGE, 'the request is over a limit')
        } else if (err instanceof InvalidMessageError) {
          await refuse(Status.INVALID_REQUEST, 'invalid request')
        } else {
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
        return
      }
      const volume = c.config().volumes.get(request.volume)
      if (volume === undefined) {
        c.logger.debug('hold request for a volume this node does not declare', { peer: peerId, volume: request.volume })
        await refuse(Status.UNKNOWN_VOLUME, `no volume ${request.volume} here`)
        return
      }

      // a promise to keep files is worth only what the volume's own disk holds: a volume root
      // whose marker is missing or changed (unmounted, swapped) holds nothing for anyone
      const identity = await volumeIdentityRefusal(c.store, fs, volume.name, volume.path)
      if (identity !== undefined) {
        c.logger.warn('refused a hold: the volume root is not this volume\'s disk', { peer: peerId, volume: volume.name, error: identity.name, reason: identity.message })
        await refuse(Status.REFUSED, 'the volume directory here is not the volume\'s disk (see its log)')
        return
      }

      // a directory the peer relies on through this node must be, right now, the directory this
      // node's placements are about: its live marker, read and checked (an unmounted or swapped
      // disk, or a directory another node took over, holds nothing for anyone)
      const placedOk = await checkPlacedAt(c, fs, request.placedAt ?? [])
      if (placedOk !== true) c.logger.info('refusing every entry of a hold: a directory it names is not verifiable here', { peer: peerId, reason: placedOk })

      // the disk check, before the transaction: a file edited or deleted since the index is refused
      const volumeId = c.store.volumes.get(volume.name)?.id
      const refused: HoldRefusal[] = []
      const candidates: HoldEntry[] = []
      const indexOf = new Map<string, number>()
      // rows this node itself no longer claims — found damaged and not yet moved aside, being
      // replaced by a receive, unreadable at the last re-hash, or a local edit a receive kept —
      // are not held for anyone: custody has a hole there, whatever a peer's older copy of it says
      const unclaimed = volumeId === undefined ? new Set<number>() : new Set([...c.store.conflicts.replacingIds(volumeId), ...c.store.conflicts.forVolume(volumeId).flatMap(k => k.localFileId === null ? [] : [k.localFileId])])
      for (let i = 0; i < request.entries.length; i++) {
        const e = request.entries[i] as HoldEntry
        const row = volumeId === undefined ? undefined : c.store.holds.presentFile(volumeId, e.path)
        if (row === undefined || !row.hash.equals(e.hash)) {
          refused.push({ entry: i, reason: HoldRefusalReason.NOT_PRESENT })
          continue
        }
        if (unclaimed.has(row.fileId)) {
          refused.push({ entry: i, reason: HoldRefusalReason.CHANGED })
          continue
        }
        const info = await fs.lstat(join(volume.path, e.path))
        if (info?.kind !== 'file' || info.size !== row.size || info.mtimeNs !== row.mtimeNs) {
          refused.push({ entry: i, reason: HoldRefusalReason.CHANGED })
          continue
        }
        // relied on through this node: placed and read back at every named directory, now
        if (volumeId !== undefined && (placedOk !== true || !request.placedAt?.every(d => {
          const p = c.store.placements.one(d, volumeId, e.path)
          return p !== undefined && p.contentId === row.contentId && p.verifyMethod === SHA256_READBACK
        }))) {
          refused.push({ entry: i, reason: HoldRefusalReason.NOT_PLACED })
          continue
        }
        candidates.push(e)
        indexOf.set(e.path, i)
      }

      // a push being received may replace files its plan saw unheld: hold nothing until it ends
      // (checked with no await before the grant; receives run in this process)
      if (volumeId !== undefined && c.store.runs.isRunning('receive', volumeId)) {
        c.logger.info('refused a hold while a push is being received', { peer: peerId, volume: volume.name })
        await refuse(Status.BUSY, 'the volume is receiving a push; try again later')
        return
      }
      const issuedAtNs = c.store.clock.nowNs()
      const expiresAtNs = issuedAtNs + request.durationMs * 1e6
      let granted: HoldEntry[] = []
      if (volumeId !== undefined && candidates.length > 0) {
        const result = c.store.holds.grant(volumeId, peer.id, candidates, expiresAtNs)
        granted = result.granted
        for (const r of result.refused) {
          refused.push({ entry: indexOf.get(r.file.path) ?? -1, reason: r.reason === 'offloading' ? HoldRefusalReason.OFFLOADING : HoldRefusalReason.NOT_PRESENT })
        }
      }
      refused.sort((a, b) => a.entry - b.entry)
      if (granted.length === 0) {
        c.logger.info('held none of the files a peer asked for', { peer: peerId, volume: volume.name, requested: request.entries.length })
        await respond({ status: Status.REFUSED, envelope: null, refused, message: 'no file held' })
        return
      }
      const envelope = sealHold(c.key, {
        signer: c.key.nodeId,
        holder: peerId as NodeId,
        volume: volume.name,
        issuedAtNs,
        expiresAtNs,
        nonce: request.nonce,
        granted: granted.length,
        grantedSha256: holdEntriesDigest(granted)
      })
      await respond({ status: refused.length === 0 ? Status.OK : Status.PARTIAL, envelope, refused, message: '' })
      c.logger.info('granted a hold', { peer: peerId, volume: volume.name, granted: granted.length, refused: refused.length, until_ns: expiresAtNs })
    } catch (err) {
      c.logger.warn('hold request failed', { peer: peerId, error: err instanceof Error ? err.message : String(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
