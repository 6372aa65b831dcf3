import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { systemClock } from '../../src/clock.js'
import { parseConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { createHome, homePaths } from '../../src/home.js'
import { readKeyFile, type NodeKey } from '../../src/identity/node-key.js'
import { createLogger, MemorySink, type Logger } from '../../src/logger.js'
import { createClientHost, startNode, type NodeInit, type ReplicationNode } from '../../src/node.js'
import { openStore, type Store } from '../../src/store/store.js'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { initVolume } from '../../src/push/volume-init.js'
import { readFileSync } from 'node:fs'

export interface InProcessNode {
  name: string
  home: string
  key: NodeKey
  store: Store
  config: Config
  logs: MemorySink
  logger: Logger
  node: ReplicationNode | undefined
  /** Starts serving on 127.0.0.1 with a random port. */
  start: (overrides?: Partial<NodeInit>) => Promise<ReplicationNode>
  client: () => Promise<Libp2p>
  /**
   * `cairn volume init` for every configured volume (creating its directory if needed), as the
   * operator of a receiving node does once its (possibly empty) volume directory is in place:
   * an empty, unmarked root refuses pushes (docs/volumes.md).
   */
  initVolumes: () => Promise<void>
  close: () => Promise<void>
}

/**
 * A cairn node inside the test process: a real home, store and libp2p host on 127.0.0.1.
 * `extraToml` is appended to its cairn.toml (volumes, destinations).
 */
export function inProcessNode (root: string, name: string, extraToml = ''): InProcessNode {
  const home = join(root, name)
  mkdirSync(root, { recursive: true })
  createHome({ home, name, listen: ['/ip4/127.0.0.1/tcp/0'], clock: systemClock, logger: createLogger([], systemClock) })
  const paths = homePaths(home)
  const parsed = parseConfig(readFileSync(paths.config, 'utf8') + '\n' + extraToml, paths.config)
  // cairn init's default is mdns = true; an in-process node never multicasts (a test that wants
  // announcements injects them: NodeInit.discovery)
  const config: Config = { ...parsed, serve: { ...parsed.serve, mdns: false } }
  const logs = new MemorySink()
  const logger = createLogger([logs], systemClock, name)
  const store = openStore({ path: paths.db, clock: systemClock, logger, backupsDir: paths.backups })
  const key = readKeyFile(paths.key)
  const clients: Libp2p[] = []
  const n: InProcessNode = {
    name,
    home,
    key,
    store,
    config,
    logs,
    logger,
    node: undefined,
    start: async (overrides = {}) => {
      n.node = await startNode({ store, key, config, logger, clock: systemClock, pullEveryMs: 0, schedules: false, ...overrides })
      return n.node
    },
    initVolumes: async () => {
      for (const v of config.volumes.values()) {
        mkdirSync(v.path, { recursive: true })
        await initVolume(store, nodeDirectoryFs, v)
      }
    },
    client: async () => {
      const h = await createClientHost(store, key, logger)
      clients.push(h)
      return h
    },
    close: async () => {
      await n.node?.stop()
      for (const c of clients) await c.stop()
      store.close()
    }
  }
  return n
}

/** Enrolls b on a (with b's listen addresses, if it serves) under b's name. */
export function enroll (a: InProcessNode, b: InProcessNode): void {
  a.store.nodes.enrollPeer(b.key.nodeId, b.name, b.node?.addrs() ?? [])
}
