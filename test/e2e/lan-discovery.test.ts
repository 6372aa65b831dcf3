/**
 * LAN discovery over real multicast: two `cairn serve` processes in two network namespaces
 * joined by a veth pair (loopback has no multicast here), each enrolled on the other at a
 * stale address (the right IP, a dead port), with `[serve] mdns` left at its default (true).
 * mDNS must bring each one the other's real address, and a pull must then reach it. Two more
 * serves, in namespaces with loopback only and with nothing up, show that mDNS on a machine
 * with no multicast route neither fails nor logs. Needs root and `ip`; elsewhere it says why in one line and skips.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cairn, cairnJson, type CliResult } from '../helpers/cli.js'
import { vethPair } from '../helpers/netns.js'
import { tempDir } from '../helpers/store.js'
import { configure, eventually, startServe, type ServeProcess } from './fleet.js'

const net = vethPair()
const serves: ServeProcess[] = []
if ('reason' in net) console.log(`LAN discovery over multicast skipped: ${net.reason}`)
// a worker that dies before afterAll still takes its serves and namespaces with it
else process.once('exit', () => { for (const s of serves) s.kill(); net.cleanup() })

const LEARNED = (peer: string): string => `learned a new address for ${peer} on the LAN`

/** `cairn --home HOME ...args` inside a network namespace; bounded. */
async function cairnIn (ns: string, home: string, args: string[], timeoutMs = 15_000): Promise<CliResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CAIRN_BIN, '--home', home, ...args], {
      env: { ...process.env, CAIRN_HOME: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** `cairn init` with HTTP off (another test's subject) and the product's mdns default kept. */
async function home (root: string, name: string, listenIp: string, volume = true): Promise<{ home: string, nodeId: string }> {
  const h = join(root, name)
  const { node_id: nodeId } = await cairnJson<{ node_id: string }>(h, ['init', '--name', name, '--listen', `/ip4/${listenIp}/tcp/0`])
  const path = join(h, 'cairn.toml')
  const toml = readFileSync(path, 'utf8')
  expect(toml).toMatch(/^mdns\s*= true$/m)
  writeFileSync(path, toml.replace(/^http(\s*)= .*$/m, 'http$1= ""'))
  if (volume) {
    mkdirSync(join(root, `${name}-photos`))
    configure(h, `[volumes.photos]\npath = "${join(root, `${name}-photos`)}"\n`)
    await cairnJson(h, ['volume', 'init', 'photos'])
  }
  return { home: h, nodeId }
}

describe.skipIf('reason' in net)('LAN discovery over real multicast (two network namespaces and a veth pair)', () => {
  if ('reason' in net) return
  const root = tempDir('cairn-e2e-mdns-')
  let a: { home: string, serve: ServeProcess }
  let b: { home: string, serve: ServeProcess }
  /** Serves with mDNS on and no multicast route: loopback up (sends go out on lo), nothing up (sends fail). */
  let lonely: ServeProcess[]

  beforeAll(async () => {
    const [ha, hb, hl, hn] = await Promise.all([
      home(root, 'laptop', net.a.ip), home(root, 'nas', net.b.ip), home(root, 'alone', '127.0.0.1', false), home(root, 'unplugged', '127.0.0.1', false)
    ])
    // the right IP, a port nobody listens on: a DHCP lease kept, a port changed
    const added = await Promise.all([
      cairn(ha.home, ['peer', 'add', 'nas', hb.nodeId, '--addr', `/ip4/${net.b.ip}/tcp/1`]),
      cairn(hb.home, ['peer', 'add', 'laptop', ha.nodeId, '--addr', `/ip4/${net.a.ip}/tcp/1`])
    ])
    expect(added.map(r => r.code)).toEqual([0, 0])
    const [sa, sl, sn] = await Promise.all([
      startServe(ha.home, 15_000, { netns: net.a.ns }),
      startServe(hl.home, 15_000, { netns: net.isolated(true) }),
      startServe(hn.home, 15_000, { netns: net.isolated(false) })
    ])
    serves.push(sa, sl, sn)
    // nas comes up second, as after a reboot: its first query finds laptop, its answer to it reaches laptop
    const sb = await startServe(hb.home, 15_000, { netns: net.b.ns })
    serves.push(sb)
    a = { home: ha.home, serve: sa }
    b = { home: hb.home, serve: sb }
    lonely = [sl, sn]
  })

  afterAll(async () => {
    await Promise.all(serves.splice(0).map(async s => await s.stop()))
    net.cleanup()
  })

  it('brings each node the other\'s real address, first, from stale ones, and a pull then reaches it', async () => {
    const firstAddr = async (h: string, peer: string): Promise<string | undefined> =>
      (await cairnJson<Array<{ name: string, addrs: string[] }>>(h, ['peer', 'list'])).find(p => p.name === peer)?.addrs[0]
    const [laptopOnNas, nasOnLaptop] = await Promise.all([
      eventually(async () => (await firstAddr(b.home, 'laptop')) === a.serve.addrs[0] ? true : undefined, 12_000, 250),
      eventually(async () => (await firstAddr(a.home, 'nas')) === b.serve.addrs[0] ? true : undefined, 12_000, 250)
    ])
    expect([laptopOnNas, nasOnLaptop]).toEqual([true, true])
    const onNas = await cairnJson<Array<{ name: string, addrs: string[] }>>(b.home, ['peer', 'list'])
    expect(onNas.find(p => p.name === 'laptop')?.addrs).toEqual([a.serve.addrs[0], `/ip4/${net.a.ip}/tcp/1`])
    expect(b.serve.stderr()).toContain(LEARNED('laptop'))
    expect(a.serve.stderr()).toContain(LEARNED('nas'))

    const pulled = await cairnIn(net.b.ns, b.home, ['pull', 'laptop', 'photos', '--json'])
    expect(pulled.code, pulled.stderr).toBe(0)
    expect(JSON.parse(pulled.stdout)).toMatchObject([{ peer: 'laptop', volume: 'photos', status: 'success' }])
  })

  it('serves quietly with mDNS on where there is no multicast route (loopback only, or nothing up)', async () => {
    // each sent its first query at start; by now the nodes above have exchanged several
    for (const s of lonely) {
      expect(s.child.exitCode).toBeNull()
      expect(s.stderr().split('\n').filter(l => /^(warn|error) /.test(l))).toEqual([])
    }
    const stopped = await Promise.all(lonely.map(async s => await s.stop()))
    for (const s of lonely) serves.splice(serves.indexOf(s), 1)
    expect(stopped.map(s => s.code)).toEqual([0, 0])
  })
})
