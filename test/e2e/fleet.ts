import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CAIRN_BIN, cairn, cairnJson } from '../helpers/cli.js'

/** A real `cairn serve` process on 127.0.0.1 with its own home. */
export interface ServeProcess {
  home: string
  child: ChildProcess
  addrs: string[]
  /** The status page's URL serve printed (`http URL`); undefined when it printed `http off: ...`. */
  httpUrl: string | undefined
  /** Everything serve printed on stdout so far. */
  stdout: () => string
  stderr: () => string
  /** SIGTERM; resolves with the exit code and how long the stop took. */
  stop: () => Promise<{ code: number | null, ms: number }>
  kill: () => void
}

/**
 * Points a home's `[serve] http` at any free loopback port (the product default, 4780, would
 * make parallel test files fight over one port); the actual URL is what serve prints.
 */
export function useAnyHttpPort (home: string): void {
  const path = join(home, 'cairn.toml')
  const text = readFileSync(path, 'utf8')
  const next = text.replace(/^http\s*=\s*"127\.0\.0\.1:4780"/m, 'http = "127.0.0.1:0"')
  if (next !== text) writeFileSync(path, next)
}

/** `netns`: run it inside that network namespace (`ip netns exec`, which execs node in place). */
export async function startServe (home: string, timeoutMs = 15_000, options: { netns?: string } = {}): Promise<ServeProcess> {
  useAnyHttpPort(home)
  const argv = [process.execPath, CAIRN_BIN, '--home', home, 'serve']
  const [cmd, ...args] = options.netns === undefined ? argv : ['ip', 'netns', 'exec', options.netns, ...argv]
  const child = spawn(cmd!, args, {
    env: { ...process.env, CAIRN_HOME: '', NO_COLOR: '1', CAIRN_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', (code) => { resolve(code) }))
  const addrs = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve on ${home} did not start: ${err}`)) }, timeoutMs)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const lines = out.split('\n').filter(l => l.startsWith('listening '))
      if (lines.length > 0 && out.endsWith('\n')) {
        clearTimeout(timer)
        resolve(lines.map(l => l.slice('listening '.length).trim()))
      }
    })
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`serve on ${home} exited ${code}: ${err}`)) })
  })
  const httpUrl = out.split('\n').map(l => /^http (http:\/\/\S+)$/.exec(l)?.[1]).find(u => u !== undefined)
  return {
    home,
    child,
    addrs,
    httpUrl,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      const t = performance.now()
      child.kill('SIGTERM')
      const killer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      const code = await exited
      clearTimeout(killer)
      return { code, ms: performance.now() - t }
    },
    kill: () => { child.kill('SIGKILL') }
  }
}

export async function initHome (root: string, name: string): Promise<string> {
  const home = join(root, name)
  await cairnJson(home, ['init', '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0'])
  // no mDNS in tests that do not test it: loopback serves find each other by their invites
  setMdns(home, false)
  useAnyHttpPort(home)
  return home
}

/** Sets `[serve] mdns` in a home's cairn.toml (cairn init writes the default, true). */
export function setMdns (home: string, on: boolean): void {
  const path = join(home, 'cairn.toml')
  const text = readFileSync(path, 'utf8')
  const line = /^mdns(\s*)= (true|false)$/m
  if (!line.test(text)) throw new Error(`no mdns line in ${path}`)
  writeFileSync(path, text.replace(line, `mdns$1= ${String(on)}`))
}

/** Appends TOML to a home's cairn.toml; `pullEvery` replaces the [serve] default. */
export function configure (home: string, toml: string, pullEvery?: string): void {
  const path = join(home, 'cairn.toml')
  if (pullEvery !== undefined) writeFileSync(path, readFileSync(path, 'utf8').replace('pull_every = "10m"', `pull_every = "${pullEvery}"`))
  appendFileSync(path, '\n' + toml + '\n')
}

/** Enrolls each home's node on the other with the invites `cairn id` prints. */
export async function enrollBothWays (a: { home: string, name: string }, b: { home: string, name: string }): Promise<void> {
  const ida = await cairnJson<{ invite: string }>(a.home, ['id'])
  const idb = await cairnJson<{ invite: string }>(b.home, ['id'])
  const ra = await cairn(a.home, ['peer', 'add', b.name, idb.invite])
  if (ra.code !== 0) throw new Error(ra.stderr)
  const rb = await cairn(b.home, ['peer', 'add', a.name, ida.invite])
  if (rb.code !== 0) throw new Error(rb.stderr)
}

/** Polls until `check` returns a value (not undefined), at most `timeoutMs`. */
export async function eventually<T> (check: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`)
}
