import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ManualClock, systemClock } from '../../src/clock.js'
import { createHome, homePaths } from '../../src/home.js'
import { silentLogger } from '../../src/logger.js'
import { openStore, type Store } from '../../src/store/store.js'
import { tempDir } from './store.js'

export interface TestHome {
  home: string
  nodeId: string
  name: string
  /** Appends TOML to the home's cairn.toml. */
  configure: (toml: string) => void
  /** Opens the home's database in this process (close it before running the CLI on it). */
  openStore: () => Store
}

export function makeHome (name: string, listen: string[] = ['/ip4/127.0.0.1/tcp/0'], root: string = tempDir()): TestHome {
  const home = join(root, name)
  const created = createHome({ home, name, listen, clock: systemClock, logger: silentLogger })
  const paths = homePaths(home)
  return {
    home,
    nodeId: created.nodeId,
    name,
    configure: (toml) => { appendFileSync(paths.config, '\n' + toml + '\n') },
    openStore: () => openStore({ path: paths.db, clock: new ManualClock(Date.now() * 1e6), logger: silentLogger, backupsDir: paths.backups })
  }
}

/** A directory for volume data or a destination under the test's temp root. */
export function dataDir (root: string, name: string): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  return dir
}
