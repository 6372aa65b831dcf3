/**
 * Fetches files' bytes from a peer over `/cairn/fetch/1.0.0` into staging files. Files go in
 * requests of at most MAX_FETCH_ENTRIES entries and MAX_FETCH_REQUEST_BYTES, one stream each;
 * every frame has a deadline. Nothing the peer sends is trusted: a header must name the entry
 * expected next and the size this node recorded, data frames may not run past that size, and
 * the bytes must hash to the recorded content — else the staged file is removed and the file
 * reported failed. Only bytes that verified are handed on (`staged`), fsynced; the caller
 * re-hashes them from disk before its create-exclusive commit.
 *
 * Every failure is an outcome per file, never a throw: a peer that cannot be reached or breaks
 * the stream fails the files not yet received, a refused request fails its batch.
 */
import { requestBatches } from '../p2p/request-batches.js'
import { createHash } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Logger } from '../logger.js'
import { openPeerStream } from '../p2p/dial.js'
import { framed, type Framed } from '../p2p/frames.js'
import { FETCH_PROTOCOL } from '../protocol/ids.js'
import { FETCH_FRAME_DEADLINE_MS, MAX_DATA_FRAME_BYTES, MAX_FETCH_ENTRIES, MAX_FETCH_HEADER_BYTES, MAX_FETCH_REQUEST_BYTES } from '../protocol/limits.js'
import { FetchFileStatus, Status, statusName } from '../protocol/messages.js'
import { decodeFetchFile, decodeFetchResponse, encodeFetchRequest } from '../protocol/wire.js'
import type { NodeRow } from '../store/nodes.js'

export interface FetchWanted {
  path: string
  hash: Buffer
  size: number
}

export type FetchOutcome = { kind: 'staged', staged: string } | { kind: 'not-found' } | { kind: 'failed', reason: string }

export interface FetchInit {
  host: Libp2p
  peer: NodeRow
  volume: string
  /** The peer's own name of a directory it writes; '' = the peer's copy of the volume. */
  directory: string
  files: readonly FetchWanted[]
  /** A fresh staging path (its directory exists, the name is free). */
  stage: () => Promise<string>
  /** Called once per file, in order. */
  each: (f: FetchWanted, outcome: FetchOutcome) => Promise<void>
  logger: Logger
  frameDeadlineMs?: number
}

/** Bytes an entry adds to a request beyond its path: the hash and protobuf framing. */
const ENTRY_OVERHEAD_BYTES = 32 + 16
/** Room for the volume, the directory and the frame itself. */
const REQUEST_OVERHEAD_BYTES = 1024

/** Splits files into requests that each fit the count and frame limits. */
export function fetchBatches<T extends { path: string }> (files: readonly T[]): T[][] {
  return requestBatches(files, { maxEntries: MAX_FETCH_ENTRIES, maxRequestBytes: MAX_FETCH_REQUEST_BYTES, entryOverheadBytes: ENTRY_OVERHEAD_BYTES, requestOverheadBytes: REQUEST_OVERHEAD_BYTES })
}

export async function fetchFiles (init: FetchInit): Promise<void> {
  for (const batch of fetchBatches(init.files)) await fetchBatch(init, batch)
}

/** Receives one file's `size` bytes into a fresh staging file; the outcome says whether they verified. */
async function receiveFile (io: Framed, f: FetchWanted, init: FetchInit, deadline: number): Promise<FetchOutcome> {
  const staged = await init.stage()
  const fh = await open(staged, 'wx', 0o600)
  let ok = false
  try {
    const h = createHash('sha256')
    let got = 0
    while (got < f.size) {
      const chunks = await io.readChunks(`bytes of ${f.path}`, Math.min(MAX_DATA_FRAME_BYTES, f.size - got), deadline)
      for (const c of chunks) {
        h.update(c)
        await fh.write(c)
        got += c.byteLength
      }
      if (chunks.length === 0) throw new Error(`the peer sent an empty data frame for ${f.path}`)
    }
    await fh.sync()
    ok = h.digest().equals(f.hash)
  } finally {
    await fh.close()
    if (!ok) await rm(staged, { force: true })
  }
  return ok ? { kind: 'staged', staged } : { kind: 'failed', reason: `the bytes from ${init.peer.name ?? init.peer.nodeId} do not hash to the recorded content` }
}

async function fetchBatch (init: FetchInit, batch: FetchWanted[]): Promise<void> {
  const label = init.peer.name ?? init.peer.nodeId
  const deadline = init.frameDeadlineMs ?? FETCH_FRAME_DEADLINE_MS
  let next = 0
  const failRest = async (reason: string): Promise<void> => {
    for (; next < batch.length; next++) await init.each(batch[next] as FetchWanted, { kind: 'failed', reason })
  }
  let stream: Stream | undefined
  try {
    stream = await openPeerStream(init.host, init.peer, FETCH_PROTOCOL, AbortSignal.timeout(deadline))
    const io = framed(stream, MAX_DATA_FRAME_BYTES)
    await io.write(encodeFetchRequest({ volume: init.volume, directory: init.directory, entries: batch.map(f => ({ path: f.path, hash: f.hash })) }), deadline)
    const response = decodeFetchResponse(await io.read('a fetch response', MAX_FETCH_HEADER_BYTES, deadline))
    if (response.status !== Status.OK) {
      init.logger.info('a peer refused a fetch', { peer: label, volume: init.volume, status: statusName(response.status), message: response.message })
      await failRest(`${label} refused: ${statusName(response.status)}${response.message === '' ? '' : ` (${response.message})`}`)
      return
    }
    for (; next < batch.length; next++) {
      const f = batch[next] as FetchWanted
      const header = decodeFetchFile(await io.read('a fetch file header', MAX_FETCH_HEADER_BYTES, deadline), next)
      if (header.status === FetchFileStatus.NOT_FOUND) {
        await init.each(f, { kind: 'not-found' })
        continue
      }
      if (header.size !== f.size) throw new Error(`${label} offered ${header.size} bytes for ${f.path}, the recorded content has ${f.size}`)
      await init.each(f, await receiveFile(io, f, init, deadline))
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    init.logger.warn('a fetch from a peer failed; the files not yet received are not restored', { peer: label, volume: init.volume, error: reason })
    stream?.abort(err instanceof Error ? err : new Error(reason))
    stream = undefined
    await failRest(`fetch from ${label} failed: ${reason}`)
  } finally {
    await stream?.close({ signal: AbortSignal.timeout(1000) }).catch(() => { stream?.abort(new Error('closing')) })
  }
}
