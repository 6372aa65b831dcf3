/**
 * The crash harness's world: a small fleet in one temp root, driven only through the real CLI
 * (`node bin/cairn.js` on the built dist/, no tsx in the children), with snapshots of every home
 * and tree that a kill point restores in a few milliseconds instead of re-creating the fleet.
 *
 *   laptop  volume photos at <root>/photos: push_to usb and nas, offload_requires usb and nas
 *   usb     laptop's directory destination at <root>/usb
 *   nas     a peer serving on a fixed 127.0.0.1 port; its photos at <root>/nas-photos, which it
 *           pushes to its own directory destination offsite at <root>/offsite
 *
 * Paths inside configs and databases are absolute, so a snapshot is only ever restored into the
 * root it was taken from (one root per parallel slot).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CAIRN_BIN } from '../helpers/cli.js'

/** The script the children run: bin/cairn.js, or the bundle of dist/ (test/crash/bundle.ts). */
let entry = CAIRN_BIN
export function useEntry (path: string): void { entry = path }

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The trees of the fleet, by location name. */
export type Location = 'laptop' | 'usb' | 'nas' | 'offsite'
export const LOCATIONS: Location[] = ['laptop', 'usb', 'nas', 'offsite']

export interface Variant {
  /** Small files in a/ (the offload scope) and keep/ (out of scope). */
  files: number
  /** Bytes of each small file (roughly). */
  fileBytes: number
  /** One file above the receiver's in-memory limit (its large-file path), in bytes; 0: none. */
  largeBytes: number
  /** The `changed` stage rewrites the large file too (a receive then takes its large-file path). */
  changeLarge?: boolean
  seed: number
}

/**
 * Where the harness's fleets live: a tmpfs when there is one. A kill tests a process dying, not
 * a power cut (the page cache survives SIGKILL either way), so fsync may cost nothing here, and
 * on a shared disk it is most of an operation's time.
 */
export function crashRoot (): string {
  const shm = '/dev/shm'
  try {
    if (statSync(shm).isDirectory()) { accessSync(shm, constants.W_OK); return shm }
  } catch {}
  return tmpdir()
}

export const CI_VARIANT: Variant = { files: 2, fileBytes: 300, largeBytes: 1_200_000, seed: 1 }

export class World {
  readonly laptop: string
  readonly nas: string
  readonly trees: Record<Location, string>
  nasServe: ServeHandle | undefined
  /** nas's newest pull run before its serve started (see waitFirstPull in harness.ts). */
  pullsBefore = 0

  constructor (readonly root: string, readonly port: number, readonly variant: Variant) {
    this.laptop = join(root, 'live', 'laptop')
    this.nas = join(root, 'live', 'nas')
    this.trees = {
      laptop: join(root, 'live', 'photos'),
      usb: join(root, 'live', 'usb', 'photos'),
      nas: join(root, 'live', 'nas-photos'),
      offsite: join(root, 'live', 'offsite', 'photos')
    }
  }

  get live (): string { return join(this.root, 'live') }

  /** Where location `l` keeps `path` of volume photos. */
  pathAt (l: Location, path: string): string { return join(this.trees[l], path) }

  async cli (home: 'laptop' | 'nas', args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<RunResult> {
    return await runCairn(home === 'laptop' ? this.laptop : this.nas, args, env, timeoutMs)
  }

  async cliJson<T> (home: 'laptop' | 'nas', args: string[]): Promise<T> {
    const r = await this.cli(home, [...args, '--json'])
    if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} on ${home} exited ${r.code ?? r.signal}: ${r.stderr.trim()}`)
    return JSON.parse(r.stdout) as T
  }

  async startNas (env: NodeJS.ProcessEnv = {}): Promise<ServeHandle> {
    const s = await startServe(this.nas, env)
    this.nasServe = s
    return s
  }

  async stopNas (): Promise<{ code: number | null, signal: NodeJS.Signals | null } | undefined> {
    const s = this.nasServe
    this.nasServe = undefined
    return s === undefined ? undefined : await s.stop()
  }

  snapshot (stage: string): void {
    const dir = join(this.root, `snap-${stage}`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    // cp -a keeps mtimes to the nanosecond, modes and hard links
    execFileSync('cp', ['-a', `${this.live}/.`, dir])
  }

  restore (stage: string): void {
    const dir = join(this.root, `snap-${stage}`)
    if (!existsSync(dir)) throw new Error(`no snapshot ${stage}`)
    rmSync(this.live, { recursive: true, force: true })
    mkdirSync(this.live, { recursive: true })
    execFileSync('cp', ['-a', `${dir}/.`, this.live])
  }
}

/** Deterministic bytes for one file (seeded, so a variant is reproducible). */
function bytesFor (seed: number, name: string, size: number): Buffer {
  const out = Buffer.alloc(size)
  let x = (seed * 2654435761) >>> 0
  for (const ch of name) x = ((x ^ ch.charCodeAt(0)) * 16777619) >>> 0
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

export function writeUserFile (w: World, path: string, tag: string): void {
  const abs = w.pathAt('laptop', path)
  mkdirSync(abs.slice(0, abs.lastIndexOf('/')), { recursive: true })
  writeFileSync(abs, bytesFor(w.variant.seed, `${path}:${tag}`, w.variant.fileBytes))
}

/**
 * Builds the fleet and its stages, each saved as a snapshot:
 *  - `pushed`: laptop indexed and pushed to usb and nas; nas pushed its copy to offsite (pull,
 *    offload and restore start here, offload and pull need nas serving);
 *  - `offloaded`: `pushed` after `offload photos a` (restore starts here);
 *  - `changed`: `pushed` after an edit of a/f1, a new a/new and an index (push and receive).
 */
export async function buildWorld (w: World): Promise<void> {
  rmSync(w.root, { recursive: true, force: true })
  mkdirSync(w.live, { recursive: true })
  const v = w.variant
  for (const [home, name] of [[w.laptop, 'laptop'], [w.nas, 'nas']] as const) {
    const r = await runCairn(home, ['init', '--name', name, '--listen', name === 'nas' ? `/ip4/127.0.0.1/tcp/${w.port}` : '/ip4/127.0.0.1/tcp/0'])
    if (r.code !== 0) throw new Error(`init ${name}: ${r.stderr}`)
    // one scheduled pull round only (soon after start; see waitForFirstPull)
    const cfg = join(home, 'cairn.toml')
    // no mDNS (both serves find each other by their invites on 127.0.0.1), and any free HTTP
    // port: the default 4780 would collide between the two nodes and parallel runs
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('pull_every = "10m"', 'pull_every = "20d"').replace(/^mdns(\s*)= true$/m, 'mdns$1= false').replace(/^http\s*=\s*"127\.0\.0\.1:4780"/m, 'http = "127.0.0.1:0"'))
  }
  for (const d of [w.trees.laptop, join(w.live, 'usb'), w.trees.nas, join(w.live, 'offsite')]) mkdirSync(d, { recursive: true })
  writeFileSync(join(w.laptop, 'cairn.toml'), readFileSync(join(w.laptop, 'cairn.toml'), 'utf8') + `
[volumes.photos]
path = "${w.trees.laptop}"
push_to = ["usb", "nas"]
offload_requires = ["usb", "nas"]

[destinations.usb]
type = "directory"
path = "${join(w.live, 'usb')}"
`)
  writeFileSync(join(w.nas, 'cairn.toml'), readFileSync(join(w.nas, 'cairn.toml'), 'utf8') + `
[volumes.photos]
path = "${w.trees.nas}"
push_to = ["offsite"]

[destinations.offsite]
type = "directory"
path = "${join(w.live, 'offsite')}"
`)
  const idl = await w.cliJson<{ invite: string }>('laptop', ['id'])
  const idn = await w.cliJson<{ invite: string }>('nas', ['id'])
  for (const [home, name, invite] of [['laptop', 'nas', idn.invite], ['nas', 'laptop', idl.invite]] as const) {
    const r = await w.cli(home, ['peer', 'add', name, invite])
    if (r.code !== 0) throw new Error(`peer add ${name}: ${r.stderr}`)
  }
  for (let i = 1; i <= v.files; i++) {
    writeUserFile(w, `a/f${i}`, 'v1')
    writeUserFile(w, `keep/k${i}`, 'v1')
  }
  if (v.largeBytes > 0) writeFileSync(w.pathAt('laptop', 'a/large.bin'), bytesFor(v.seed, 'large', v.largeBytes))
  await w.cliJson('laptop', ['index', 'photos'])
  // nas's volume directory is empty: its operator marks it as the volume's disk (docs/volumes.md)
  await w.cliJson('nas', ['volume', 'init', 'photos'])
  await w.startNas()
  try {
    const pushed = await w.cliJson<Array<{ status: string }>>('laptop', ['push', 'photos'])
    if (pushed.some(p => p.status !== 'success')) throw new Error(`setup push: ${JSON.stringify(pushed)}`)
    await w.stopNas()
    const relay = await w.cliJson<Array<{ status: string }>>('nas', ['push', 'photos'])
    if (relay.some(p => p.status !== 'success')) throw new Error(`setup relay push: ${JSON.stringify(relay)}`)
    w.snapshot('pushed')
    await w.startNas()
    const off = await w.cliJson<{ offloaded: number }>('laptop', ['offload', 'photos', 'a'])
    if (off.offloaded === 0) throw new Error(`setup offload offloaded nothing: ${JSON.stringify(off)}`)
    await w.stopNas()
    w.snapshot('offloaded')
    w.restore('pushed')
    writeUserFile(w, 'a/f1', 'v2')
    writeUserFile(w, 'a/new', 'v1')
    if (v.changeLarge === true && v.largeBytes > 0) writeFileSync(w.pathAt('laptop', 'a/large.bin'), bytesFor(v.seed, 'large-v2', v.largeBytes))
    await w.cliJson('laptop', ['index', 'photos'])
    w.snapshot('changed')
  } finally {
    await w.stopNas()
  }
}

export async function runCairn (home: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, '--home', home, ...args], {
      env: { ...cleanEnv(), NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); stderr += `\n[harness] killed after ${timeoutMs} ms` }, timeoutMs)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }) })
  })
}

/** The environment without any crash variable of the harness's own parent. */
function cleanEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_HOME: '' }
  delete env.CAIRN_CRASH_AT
  delete env.CAIRN_CRASH_TRACE
  delete env.CAIRN_CRASH_MATCH
  delete env.CAIRN_DEBUG
  return env
}

export interface ServeHandle {
  child: ChildProcess
  /** Whether it printed `listening` (false: it died during start, e.g. killed at a point). */
  listening: boolean
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  stderr: () => string
  /** SIGTERM (SIGKILL after 10 s); resolves when it is gone. */
  stop: () => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export async function startServe (home: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<ServeHandle> {
  const child = spawn(process.execPath, [entry, '--home', home, 'serve'], {
    env: { ...cleanEnv(), NO_COLOR: '1', CAIRN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.on('exit', (code, signal) => { resolve({ code, signal }) }))
  const listening = await new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve on ${home} did not start: ${err}`)) }, timeoutMs)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('listening ') && out.endsWith('\n')) { clearTimeout(timer); resolve(true) }
    })
    void exited.then(() => { clearTimeout(timer); resolve(false) })
  })
  return {
    child,
    listening,
    exited,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return await exited
      child.kill('SIGTERM')
      const killer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      const r = await exited
      clearTimeout(killer)
      return r
    }
  }
}
