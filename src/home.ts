/**
 * The node's home directory: `cairn.toml`, `node.key` (0600), `cairn.db`, `http.token` (0600),
 * `logs/`, `backups/`.
 */
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import type { Clock } from './clock.js'
import type { Logger } from './logger.js'
import { parseConfig } from './config/load.js'
import { configTemplate } from './config/template.js'
import { DEFAULT_LISTEN } from './config/types.js'
import { HomeExistsError, HomeMissingError } from './errors.js'
import { generateSeed, nodeKeyFromSeed, writeKeyFile } from './identity/node-key.js'
import type { NodeId } from './identity/node-id.js'
import { isValidName } from './names.js'
import { openStore } from './store/store.js'
import { createTokenFile } from './http/token.js'

export interface HomePaths {
  home: string
  config: string
  key: string
  db: string
  logs: string
  backups: string
  /** Written by `cairn serve` while it runs: pid and actual listen addresses. */
  serveState: string
  /** The bearer token a non-loopback `[serve] http` requires (unless `[serve] http_token_file`). */
  httpToken: string
}

export function homePaths (home: string): HomePaths {
  const h = resolve(home)
  return {
    home: h,
    config: join(h, 'cairn.toml'),
    key: join(h, 'node.key'),
    db: join(h, 'cairn.db'),
    logs: join(h, 'logs'),
    backups: join(h, 'backups'),
    serveState: join(h, 'serve.json'),
    httpToken: join(h, 'http.token')
  }
}

/** Throws HomeMissingError unless the home has its config, key and database. */
export function requireHome (paths: HomePaths): void {
  for (const [what, path] of [['cairn.toml', paths.config], ['node.key', paths.key], ['cairn.db', paths.db]] as const) {
    if (!existsSync(path)) throw new HomeMissingError(paths.home, what)
  }
}

/** A label for this machine that satisfies the name rule, from its hostname. */
export function defaultNodeName (): string {
  const candidate = hostname().toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64)
  return isValidName(candidate) ? candidate : 'node'
}

export interface CreateHomeInit {
  home: string
  name?: string
  listen?: string[]
  clock: Clock
  logger: Logger
}

export interface CreatedHome {
  nodeId: NodeId
  name: string
  home: string
}

/**
 * Creates a new home: key (0600), commented config, HTTP token (0600), migrated database with
 * the self row.
 * Refuses a directory that already holds any of them. On failure, removes what it created.
 */
export function createHome (init: CreateHomeInit): CreatedHome {
  const paths = homePaths(init.home)
  for (const [what, path] of [['cairn.toml', paths.config], ['node.key', paths.key], ['cairn.db', paths.db]] as const) {
    if (existsSync(path)) throw new HomeExistsError(paths.home, what)
  }
  const name = init.name ?? defaultNodeName()
  const configText = configTemplate(name, init.listen ?? DEFAULT_LISTEN)
  // Validates --name and --listen exactly as a later load will.
  parseConfig(configText, paths.config)

  mkdirSync(paths.home, { recursive: true, mode: 0o700 })
  const created: string[] = []
  try {
    const seed = generateSeed()
    writeKeyFile(paths.key, seed)
    created.push(paths.key)
    writeFileSync(paths.config, configText, { flag: 'wx', mode: 0o644 })
    created.push(paths.config)
    mkdirSync(paths.logs, { recursive: true, mode: 0o700 })
    // a token file left over from an earlier home stays (its users keep working)
    if (!existsSync(paths.httpToken)) {
      createTokenFile(paths.httpToken)
      created.push(paths.httpToken)
    }
    const key = nodeKeyFromSeed(seed)
    created.push(paths.db, `${paths.db}-wal`, `${paths.db}-shm`)
    const store = openStore({ path: paths.db, clock: init.clock, logger: init.logger, backupsDir: paths.backups })
    try {
      store.nodes.insertSelf(key.nodeId, name)
    } finally {
      store.close()
    }
    return { nodeId: key.nodeId, name, home: paths.home }
  } catch (err) {
    for (const path of created) rmSync(path, { force: true })
    throw err
  }
}
