import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { systemClock } from '../../src/clock.js'
import type { DirectoryDestinationConfig, VolumeConfig } from '../../src/config/types.js'
import { createLogger, MemorySink, type Logger } from '../../src/logger.js'
import { openStore, type Store } from '../../src/store/store.js'
import { addSelf } from './nodes.js'
import { tempDir } from './store.js'

export interface VolumeFixture {
  root: string
  store: Store
  logs: MemorySink
  logger: Logger
  volume: VolumeConfig
  usb: DirectoryDestinationConfig
  write: (path: string, content: string | Buffer) => void
}

/** A file store in a temp dir, a self node, volume `photos` and an (existing) directory destination `usb`. */
export function volumeFixture (): VolumeFixture {
  const root = tempDir('cairn-vol-')
  const logs = new MemorySink()
  const logger = createLogger([logs], systemClock)
  const store = openStore({ path: join(root, 'cairn.db'), clock: systemClock, logger, backupsDir: join(root, 'backups') })
  addSelf(store, 1, 'laptop')
  const volume: VolumeConfig = { name: 'photos', path: join(root, 'photos'), pushTo: ['usb'], offloadRequires: ['usb'], offloadMaxEvidenceAgeMs: undefined }
  const usb: DirectoryDestinationConfig = { name: 'usb', type: 'directory', path: join(root, 'usb') }
  mkdirSync(volume.path, { recursive: true })
  mkdirSync(usb.path, { recursive: true })
  return {
    root,
    store,
    logs,
    logger,
    volume,
    usb,
    write: (path, content) => {
      const abs = join(volume.path, path)
      mkdirSync(dirname(abs), { recursive: true })
      writeFileSync(abs, content)
    }
  }
}

/**
 * The store key (`dir:<marker id>`) a local destination name resolves to now; throws before the
 * name's first push (no evidence can exist then), so a test never reads rows under a label.
 */
export function localKey (store: Store, name: string): string {
  const key = store.destinations.local(name)?.key
  if (key === undefined) throw new Error(`destination ${name} has no recorded marker yet (no push to it so far)`)
  return key
}

export function sha256 (data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}
