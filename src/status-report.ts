/**
 * The node's status as `cairn status --json` prints it and `GET /api/status` serves it: one
 * function, so the two cannot drift. It reads the volume roots' markers (the filesystem part)
 * and then the store; it writes nothing.
 */
import type { Config } from './config/types.js'
import { nodeDirectoryFs, type DirectoryFs } from './push/directory-fs.js'
import { nodeStatus, SERVE_NOT_RUNNING, volumeIdentities, type NodeStatus, type ServeStatus } from './status.js'
import type { Store } from './store/store.js'

export async function readNodeStatus (store: Store, config: Config, nowNs: () => number, fs: DirectoryFs = nodeDirectoryFs, serve: ServeStatus = SERVE_NOT_RUNNING): Promise<NodeStatus> {
  const identities = await volumeIdentities(store, config, fs)
  return nodeStatus(store, config, nowNs(), identities, serve)
}
