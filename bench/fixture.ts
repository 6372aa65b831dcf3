/** A throwaway store with a self node and one volume, for benchmark scenarios. */
import { join } from 'node:path'
import { systemClock } from '../src/clock.js'
import type { DirectoryDestinationConfig, VolumeConfig } from '../src/config/types.js'
import { nodeKeyFromSeed } from '../src/identity/node-key.js'
import { silentLogger } from '../src/logger.js'
import { openStore, type Store } from '../src/store/store.js'

export function benchStore (dir: string, name = 'cairn.db'): Store {
  const store = openStore({ path: join(dir, name), clock: systemClock, logger: silentLogger, backupsDir: join(dir, 'backups') })
  store.nodes.insertSelf(nodeKeyFromSeed(new Uint8Array(32).fill(3)).nodeId, 'bench')
  return store
}

export function volumeAt (path: string, name = 'photos'): VolumeConfig {
  return { name, path, pushTo: [], offloadRequires: [], offloadMaxEvidenceAgeMs: undefined }
}

export function directoryAt (path: string, name = 'usb'): DirectoryDestinationConfig {
  return { name, type: 'directory', path }
}
