/** In-process cairn nodes on 127.0.0.1 for benchmark scenarios (real homes, stores and hosts). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { systemClock } from '../src/clock.js'
import { parseConfig } from '../src/config/load.js'
import type { Config } from '../src/config/types.js'
import { createHome, homePaths } from '../src/home.js'
import { nodeDirectoryFs } from '../src/push/directory-fs.js'
import { initVolume } from '../src/push/volume-init.js'
import { readKeyFile, type NodeKey } from '../src/identity/node-key.js'
import { silentLogger } from '../src/logger.js'
import { startNode, type ReplicationNode } from '../src/node.js'
import { openStore, type Store } from '../src/store/store.js'

export interface BenchNode {
  name: string
  key: NodeKey
  store: Store
  config: Config
  node: ReplicationNode
  stop: () => Promise<void>
}

/**
 * `mdns: false` turns LAN discovery off: a fleet of N in-process nodes would otherwise make
 * each node answer every other node's announcements, N times what one machine of a real fleet
 * sees (and the nodes are enrolled with their addresses anyway).
 */
export async function benchNode (root: string, name: string, toml: string, opts: { mdns?: boolean } = {}): Promise<BenchNode> {
  const home = join(root, name)
  mkdirSync(root, { recursive: true })
  createHome({ home, name, listen: ['/ip4/127.0.0.1/tcp/0'], clock: systemClock, logger: silentLogger })
  const paths = homePaths(home)
  const base = readFileSync(paths.config, 'utf8')
  const config = parseConfig((opts.mdns === false ? base.replace(/^mdns\s*=.*$/m, 'mdns = false') : base) + '\n' + toml, paths.config)
  const store = openStore({ path: paths.db, clock: systemClock, logger: silentLogger, backupsDir: paths.backups })
  const key = readKeyFile(paths.key)
  await markVolumes(store, config)
  const node = await startNode({ store, key, config, logger: silentLogger, clock: systemClock, pullEveryMs: 0 })
  return { name, key, store, config, node, stop: async () => { await node.stop(); store.close() } }
}

/** Marks each configured volume's root, as an operator does with `cairn volume init` (docs/volumes.md). */
async function markVolumes (store: Store, config: Config): Promise<void> {
  for (const v of config.volumes.values()) {
    mkdirSync(v.path, { recursive: true })
    await initVolume(store, nodeDirectoryFs, v)
  }
}

/** Enrolls b on a under b's name with b's listen addresses. */
export function benchEnroll (a: BenchNode, b: BenchNode): void {
  a.store.nodes.enrollPeer(b.key.nodeId, b.name, b.node.addrs())
}

/** A real `cairn serve` process for a fresh home (run through tsx, so no build is needed). */
export interface ServeChild {
  nodeId: string
  name: string
  addrs: string[]
  store: () => Store
  stop: () => Promise<void>
  /** What the process wrote to stderr so far (its warnings and errors). */
  stderr: () => string
}

export async function serveChild (root: string, name: string, toml: string): Promise<ServeChild> {
  const { spawn } = await import('node:child_process')
  const { appendFileSync } = await import('node:fs')
  const { fileURLToPath } = await import('node:url')
  const home = join(root, name)
  const created = createHome({ home, name, listen: ['/ip4/127.0.0.1/tcp/0'], clock: systemClock, logger: silentLogger })
  // any free HTTP port: two bench nodes must not fight over the default 4780
  writeFileSync(homePaths(home).config, readFileSync(homePaths(home).config, 'utf8').replace(/^http\s*=.*$/m, 'http = "127.0.0.1:0"'))
  appendFileSync(homePaths(home).config, '\n' + toml + '\n')
  {
    const p = homePaths(home)
    const store = openStore({ path: p.db, clock: systemClock, logger: silentLogger, backupsDir: p.backups })
    try {
      await markVolumes(store, parseConfig(readFileSync(p.config, 'utf8'), p.config))
    } finally {
      store.close()
    }
  }
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
  const child = spawn(process.execPath, [...(process.env.CAIRN_BENCH_PROFILE_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir=' + process.env.CAIRN_BENCH_PROFILE_DIR]), '--import', 'tsx', main, '--home', home, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_LOG_LEVEL: 'warn'} })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const addrs = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve did not start: ${err}`)) }, 30_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const lines = out.split('\n').filter(l => l.startsWith('listening '))
      if (lines.length > 0 && out.endsWith('\n')) { clearTimeout(timer); resolve(lines.map(l => l.slice(10).trim())) }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}: ${err}`)) })
  })
  const paths = homePaths(home)
  return {
    nodeId: created.nodeId,
    name,
    addrs,
    store: () => openStore({ path: paths.db, clock: systemClock, logger: silentLogger, backupsDir: paths.backups }),
    stderr: () => err,
    stop: async () => {
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }
}
