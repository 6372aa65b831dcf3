/**
 * Serves `/cairn/fetch/1.0.0`: a peer restoring files asks this node for their bytes. Within
 * one frame deadline it reads one bounded request and validates it at the edge (a live peer,
 * a volume the two share — src/fetch/shared-volume.ts —, the entry count, the push plan's path
 * rules, 32-byte hashes). The request names either this node's copy of the volume or (`directory`)
 * a directory destination this node writes, by this node's own config name.
 *
 * Each entry is served only when this node holds exactly that content at exactly that path:
 *  - its own volume: the live files row is present with that hash, the volume root carries its
 *    recorded marker, and the file on disk is a regular file of the recorded size;
 *  - a directory: the directory's marker checks out now and this node's placement row there for
 *    that path is that content.
 * Every directory on the way must be a real directory and the file is opened with O_NOFOLLOW, so
 * nothing outside the root is ever read. Anything else is a per-file NOT_FOUND, never an error of
 * the stream. A served file is re-hashed while it streams: bytes that no longer hash to what was
 * asked (bit rot, an edit since the index) abort the stream after a log line — the client, which
 * verifies every byte itself, has written nothing at its final path.
 */
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { Connection, Stream } from '@libp2p/interface'
import type { Config } from '../config/types.js'
import { CairnError, InvalidMessageError, OversizeMessageError } from '../errors.js'
import type { Logger } from '../logger.js'
import { FrameTooLargeError, framed, type Framed } from '../p2p/frames.js'
import { FETCH_FRAME_DEADLINE_MS, MAX_DATA_FRAME_BYTES, MAX_FETCH_REQUEST_BYTES } from '../protocol/limits.js'
import { FetchFileStatus, Status, type FetchEntry, type FetchRequest, type FetchResponse } from '../protocol/messages.js'
import { decodeFetchRequest, encodeFetchFile, encodeFetchResponse } from '../protocol/wire.js'
import { checkDestinationIdentity } from '../push/destination-marker.js'
import { nodeDirectoryFs, type DirectoryFs } from '../push/directory-fs.js'
import { volumeIdentityRefusal } from '../push/volume-marker.js'
import type { Store } from '../store/store.js'
import { sharesVolume } from './shared-volume.js'
import { realDirectories } from '../verify/real-directories.js'

export interface FetchHandlerComponents {
  store: Store
  config: () => Config
  logger: Logger
  /** Filesystem for the marker checks (tests inject changes). */
  fs?: DirectoryFs
  frameDeadlineMs?: number
}

/** Where one request's files are read from, and how an entry is checked against this node's records. */
interface Served {
  root: string
  /** The size this node recorded for that path and hash, or undefined (not held). */
  held: (e: FetchEntry) => number | undefined
}


/** Sends one file: its header, then its bytes re-hashed as they go. False = the bytes were not what was asked (the stream must end). */
async function sendFile (io: Framed, index: number, e: FetchEntry, served: Served, deadline: number, logger: Logger, peer: string): Promise<boolean> {
  const notFound = async (): Promise<true> => {
    await io.write(encodeFetchFile({ entry: index, status: FetchFileStatus.NOT_FOUND, size: 0 }), deadline)
    return true
  }
  const size = served.held(e)
  if (size === undefined || !(await realDirectories(served.root, e.path))) return await notFound()
  let fh
  try {
    fh = await open(join(served.root, e.path), constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch {
    return await notFound()
  }
  try {
    const st = await fh.stat()
    if (!st.isFile() || st.size !== size) return await notFound()
    await io.write(encodeFetchFile({ entry: index, status: FetchFileStatus.FOUND, size }), deadline)
    const h = createHash('sha256')
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(MAX_DATA_FRAME_BYTES, size)))
    let sent = 0
    while (sent < size) {
      const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, size - sent), sent)
      if (bytesRead === 0) break
      const chunk = new Uint8Array(buffer.subarray(0, bytesRead))
      h.update(chunk)
      await io.write(chunk, deadline)
      sent += bytesRead
    }
    if (sent !== size || !h.digest().equals(e.hash)) {
      logger.warn('a file being served no longer has the content this node recorded; ending the fetch', { peer, path: e.path, sent, size })
      return false
    }
    return true
  } finally {
    await fh.close()
  }
}

/** The source of a valid request, or why it is refused as a whole. */
async function resolveSource (c: FetchHandlerComponents, fs: DirectoryFs, request: FetchRequest, volumeId: number | undefined): Promise<Served | { status: FetchResponse['status'], message: string }> {
  const config = c.config()
  const volume = config.volumes.get(request.volume)
  if (volume === undefined || volumeId === undefined) return { status: Status.UNKNOWN_VOLUME, message: `no volume ${request.volume} here` }
  const store = c.store
  if (request.directory === '') {
    const identity = await volumeIdentityRefusal(store, fs, volume.name, volume.path, { needRecorded: true })
    if (identity !== undefined) return { status: Status.REFUSED, message: 'the volume directory here is not the volume\'s disk (see its log)' }
    return {
      root: volume.path,
      held: (e) => {
        const row = store.holds.presentFile(volumeId, e.path)
        return row !== undefined && row.hash.equals(e.hash) ? row.size : undefined
      }
    }
  }
  const dest = config.destinations.get(request.directory)
  const row = store.destinations.local(request.directory)
  if (dest === undefined || row === undefined || row.ownerRowId !== store.nodes.self().id) return { status: Status.REFUSED, message: `no directory ${request.directory} that this node writes` }
  try {
    await checkDestinationIdentity(store, fs, dest.name, dest.path)
  } catch (err) {
    if (err instanceof CairnError) return { status: Status.REFUSED, message: `directory ${dest.name} is not verifiable here now (see its log)` }
    throw err
  }
  return {
    root: join(dest.path, volume.name),
    held: (e) => {
      const p = store.placements.one(row.key, volumeId, e.path)
      const content = store.files.contentByHash(Buffer.from(e.hash))
      return p !== undefined && content !== undefined && p.contentId === content.id ? content.size : undefined
    }
  }
}

/**
 * A file of this node's volume whose bytes, read to be served, did not hash to its row: marked
 * unclaimed in a short `index` run of its own (a hole in custody, no hold, and the next push of
 * it replaces it — src/push/receive-judge.ts), until a re-hash settles it. A volume busy with
 * another run leaves it to that run's owner and the next re-hash; the log says so.
 */
function markFoundDamaged (c: FetchHandlerComponents, volumeId: number, path: string, peer: string): void {
  const row = c.store.holds.presentFile(volumeId, path)
  if (row === undefined) return
  try {
    const run = c.store.runs.begin({ kind: 'index', volumeId, detail: { found_by: 'fetch', requested_by: peer } })
    c.store.db.transaction(() => { c.store.conflicts.markReplacing(volumeId, run.id, [row.fileId]) }).immediate()
    c.store.runs.note(run.id, 'alarm', `${path}: its bytes did not hash to the recorded content while served to ${peer}; not claimed until a re-hash or a push settles it`)
    c.store.runs.finish(run.id, 'partial', { error: `${path} found damaged while served`, fileCount: 1 })
  } catch (err) {
    c.logger.warn('could not mark a file found damaged while served (the next re-hash finds it)', { path, error: err instanceof Error ? err.message : String(err) })
  }
}

export function fetchHandler (c: FetchHandlerComponents): (stream: Stream, connection: Connection) => Promise<void> {
  const deadline = c.frameDeadlineMs ?? FETCH_FRAME_DEADLINE_MS
  const fs = c.fs ?? nodeDirectoryFs
  return async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    const io = framed(stream, MAX_FETCH_REQUEST_BYTES)
    const refuse = async (status: FetchResponse['status'], message: string): Promise<void> => {
      await io.write(encodeFetchResponse({ status, message }), deadline)
      await stream.close({ signal: AbortSignal.timeout(deadline) })
    }
    try {
      const peer = c.store.nodes.byNodeId(peerId)
      if (peer === undefined || !c.store.nodes.isLivePeer(peerId)) {
        c.logger.warn('refused a fetch from a peer that is not live', { peer: peerId })
        await refuse(Status.REFUSED, 'not an enrolled peer')
        return
      }
      let request: FetchRequest
      try {
        request = decodeFetchRequest(await io.read('a fetch request', MAX_FETCH_REQUEST_BYTES, deadline))
      } catch (err) {
        c.logger.info('refused an invalid fetch request', { peer: peerId, code: err instanceof Error ? err.name : 'unknown', error: err instanceof Error ? err.message : String(err) })
        if (err instanceof FrameTooLargeError || err instanceof OversizeMessageError || (err instanceof InvalidMessageError && /more elements than the limit/.test(err.reason))) {
          await refuse(Status.TOO_LARGE, 'the request is over a limit')
        } else if (err instanceof InvalidMessageError) {
          await refuse(Status.INVALID_REQUEST, 'invalid request')
        } else {
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
        return
      }
      const sharing = sharesVolume(c.store, c.config(), peer, request.volume)
      if (!sharing.shared) {
        c.logger.warn('refused a fetch of a volume this node does not share with the peer', { peer: peerId, volume: request.volume, reason: sharing.reason })
        if (sharing.reason === 'unknown-volume') await refuse(Status.UNKNOWN_VOLUME, `no volume ${request.volume} here`)
        else await refuse(Status.REFUSED, `volume ${request.volume} is not shared with you (neither node pushes it to the other)`)
        return
      }
      const source = await resolveSource(c, fs, request, sharing.volumeId)
      if ('status' in source) {
        c.logger.info('refused a fetch', { peer: peerId, volume: request.volume, directory: request.directory, status: source.status, reason: source.message })
        await refuse(source.status, source.message)
        return
      }
      await io.write(encodeFetchResponse({ status: Status.OK, message: '' }), deadline)
      let sent = 0
      for (let i = 0; i < request.entries.length; i++) {
        const ok = await sendFile(io, i, request.entries[i] as FetchEntry, source, deadline, c.logger, peerId)
        if (!ok) {
          // this node's own copy is not what it recorded: it stops claiming it at once
          if (request.directory === '' && sharing.volumeId !== undefined) markFoundDamaged(c, sharing.volumeId, (request.entries[i] as FetchEntry).path, peer.name ?? peerId)
          stream.abort(new Error('served bytes did not match the recorded content'))
          return
        }
        sent++
      }
      await stream.close({ signal: AbortSignal.timeout(deadline) })
      c.logger.info('served a fetch', { peer: peerId, volume: request.volume, directory: request.directory, entries: sent })
    } catch (err) {
      c.logger.warn('fetch request failed', { peer: peerId, error: err instanceof Error ? err.message : String(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
