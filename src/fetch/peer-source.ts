/**
 * A restore source that is a peer (`--from nas`) or a directory only a peer reaches
 * (`--from nas/offsite`: the peer's own config name of a directory it writes, as in
 * `offload_requires`): the bytes come over `/cairn/fetch/1.0.0`, checked against the recorded
 * content as they arrive (src/fetch/client.ts) and again by the restore from disk.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from '../logger.js'
import type { RestoreSource } from '../offload/restore-source.js'
import type { NodeRow } from '../store/nodes.js'
import { fetchFiles } from './client.js'

export interface PeerSourceInit {
  /** Opened on first use (a dry run never dials). */
  host: () => Promise<Libp2p>
  peer: NodeRow
  /** The peer's name of one of its directories; '' = the peer's own copy of the volume. */
  directory: string
  volume: string
  logger: Logger
  frameDeadlineMs?: number
}

export function peerSource (init: PeerSourceInit): RestoreSource {
  const label = init.peer.name ?? init.peer.nodeId
  const name = init.directory === '' ? label : `${label}/${init.directory}`
  return {
    name,
    describe: () => name,
    prepare: async () => {},
    bring: async (files, stage, each) => {
      if (files.length === 0) return
      await fetchFiles({
        host: await init.host(),
        peer: init.peer,
        volume: init.volume,
        directory: init.directory,
        files,
        stage,
        each,
        logger: init.logger,
        frameDeadlineMs: init.frameDeadlineMs
      })
    }
  }
}
