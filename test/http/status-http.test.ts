import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer, request } from 'node:http'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config/load.js'
import type { HttpListen } from '../../src/config/types.js'
import { homePaths } from '../../src/home.js'
import { TOKEN_COOKIE } from '../../src/http/auth.js'
import type { RunningHttpServer } from '../../src/http/server.js'
import { startStatusHttp } from '../../src/http/status-http.js'
import { silentLogger } from '../../src/logger.js'
import type { Store } from '../../src/store/store.js'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { httpGet } from '../helpers/http.js'

// A volume whose path is markup: the page must show it as text.
const HOSTILE_DIR = '<script>alert("x")&photos'

describe('the HTTP view of serve (in-process)', () => {
  let home: string
  let root: string
  let store: Store
  let loopback: RunningHttpServer
  let guarded: RunningHttpServer
  let tokenFile: string
  let token: string

  const start = async (listen: HttpListen, file = join(root, 'unused.token')): Promise<RunningHttpServer> => await startStatusHttp({
    listen,
    tokenFile: file,
    store,
    config: loadConfig(homePaths(home).config),
    clock: systemClock,
    logger: silentLogger,
    onlinePeers: () => new Set(),
    registry: new Registry(),
    version: '0.0.0-test',
    startedAtNs: systemClock.nowNs(),
    addrs: []
  })

  beforeAll(async () => {
    // one home for the whole file (tempDir() is removed after each test)
    root = mkdtempSync(join(tmpdir(), 'cairn-http-'))
    const h = makeHome('laptop', undefined, root)
    home = h.home
    const photos = join(root, HOSTILE_DIR)
    mkdirSync(photos)
    mkdirSync(join(root, 'usb'))
    writeFileSync(join(photos, 'a.jpg'), 'a')
    h.configure(`[volumes.photos]\npath = ${JSON.stringify(photos)}\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
    await cairnJson(home, ['index', 'photos'])
    store = h.openStore()
    loopback = await start({ host: '127.0.0.1', port: 0, loopback: true })
    // a bind that requires the token, kept on 127.0.0.1 (tests never listen beyond loopback)
    tokenFile = join(root, 'guarded.token')
    guarded = await start({ host: '127.0.0.1', port: 0, loopback: false }, tokenFile)
    token = readFileSync(tokenFile, 'utf8').trim()
  })

  afterAll(async () => {
    await loopback?.close()
    await guarded?.close()
    store?.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('serves /api/status as exactly the document `cairn status --json` prints', async () => {
    const api = await httpGet(`${loopback.url}api/status`)
    expect(api.status).toBe(200)
    expect(api.headers['content-type']).toMatch(/^application\/json/)
    const cli = await cairn(home, ['status', '--json'])
    // the same document; only `serve` differs: the HTTP view is served by a running serve (this
    // in-process one), while no serve.json says so to the CLI here
    const { serve: served, ...fromApi } = JSON.parse(api.body) as { serve: unknown }
    const { serve: notServed, ...fromCli } = JSON.parse(cli.stdout) as { serve: unknown }
    expect(fromApi).toEqual(fromCli)
    expect(served).toEqual({ running: true, pid: process.pid, started_at_ns: expect.any(Number), addrs: [], http_url: loopback.url })
    expect(notServed).toMatchObject({ running: false })
    expect(JSON.parse(api.body)).toMatchObject({ name: 'laptop', volumes: [{ name: 'photos', offload: { groups: [{ target: 'usb', cause: 'not-pushed', files: 1 }] } }] })
  })

  it('renders an operator path holding markup as text, never as markup', async () => {
    const page = await httpGet(loopback.url)
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).not.toContain('<script')
    expect(page.body).toContain('&lt;script&gt;alert(&quot;x&quot;)&amp;photos')
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect(page.body).toContain('data-cause="not-pushed"')
  })

  it('answers 404 for any other path and 405 for any method but GET and HEAD, and reads no body', async () => {
    expect((await httpGet(`${loopback.url}favicon.ico`)).status).toBe(404)
    const post = await httpGet(`${loopback.url}api/status`, { method: 'POST', body: 'x' })
    expect(post.status).toBe(405)
    expect(post.headers.allow).toBe('GET, HEAD')
    expect((await httpGet(`${loopback.url}api/status`, { method: 'DELETE' })).status).toBe(405)
    const withBody = await httpGet(`${loopback.url}api/status`, { body: 'x'.repeat(100), headers: { 'Content-Length': '100' } })
    expect(withBody.status).toBe(413)
    const head = await httpGet(`${loopback.url}metrics`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
  })

  it('on a loopback bind, answers loopback Host names without a token and refuses any other Host (DNS rebinding)', async () => {
    const port = loopback.port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, '127.0.0.1']) {
      expect((await httpGet(`${loopback.url}api/status`, { host })).status, host).toBe(200)
    }
    for (const host of [`evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, 'user@127.0.0.1']) {
      const r = await httpGet(`${loopback.url}api/status`, { host })
      expect(r.status, host).toBe(421)
      expect(r.body).not.toContain('"volumes"')
    }
    // no Host at all: Node refuses an HTTP/1.1 request without one (400) before the route runs
    expect([400, 421]).toContain((await httpGet(`${loopback.url}api/status`, { host: null })).status)
  })

  it('on a non-loopback bind, refuses a missing or wrong token with 401 and a one-line hint', async () => {
    const none = await httpGet(`${guarded.url}api/status`)
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer realm="cairn"')
    expect(none.body.trim().split('\n')).toHaveLength(1)
    expect(none.body).toContain('Authorization: Bearer')
    expect(none.body).not.toContain(token)
    expect((await httpGet(`${guarded.url}api/status`, { headers: { Authorization: `Bearer ${token.slice(0, -1)}0` } })).status).toBe(401)
    expect((await httpGet(`${guarded.url}api/status`, { headers: { Authorization: 'Bearer ' } })).status).toBe(401)
    expect((await httpGet(`${guarded.url}?token=nope`)).status).toBe(401)
    expect((await httpGet(`${guarded.url}metrics`, { headers: { Cookie: `${TOKEN_COOKIE}=${token}` } })).status).toBe(401)
  })

  it('on a non-loopback bind, accepts the Bearer token, and ?token= once sets a cookie and redirects without it', async () => {
    const bearer = await httpGet(`${guarded.url}api/status`, { headers: { Authorization: `Bearer ${token}` } })
    expect(bearer.status).toBe(200)
    expect(JSON.parse(bearer.body)).toMatchObject({ name: 'laptop' })

    const once = await httpGet(`${guarded.url}api/status?x=1&token=${token}`)
    expect(once.status).toBe(303)
    expect(once.headers.location).toBe('/api/status?x=1')
    const setCookie = String(once.headers['set-cookie'])
    expect(setCookie).toMatch(/HttpOnly/)
    expect(setCookie).toMatch(/SameSite=Strict/)
    expect(setCookie).not.toContain(token)
    const cookie = setCookie.split(';')[0] ?? ''
    const after = await httpGet(`${guarded.url}api/status?x=1`, { headers: { Cookie: `other=1; ${cookie}` } })
    expect(after.status).toBe(200)
    // the redirect never leaves this site, whatever the path looks like
    const odd = await httpGet(`${guarded.url}.//evil.example/?token=${token}`)
    expect(odd.status).toBe(303)
    expect(odd.headers.location).toMatch(/^\/(?![/\\])/)
  })

  it('creates the token file 0600 on the first non-loopback start of a home that has none', () => {
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    expect(statSync(homePaths(home).httpToken).mode & 0o777).toBe(0o600)
  })

  it('exports cairn metrics with HELP and TYPE, labelled by volume, target and cause', async () => {
    const m = await httpGet(`${loopback.url}metrics`)
    expect(m.status).toBe(200)
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(m.body).toContain('cairn_offload_blocked_files{volume="photos",target="usb",cause="not-pushed"} 1')
    expect(m.body).toContain('cairn_evidence_lag_runs{volume="photos",target="usb"} 1')
    expect(m.body).toContain('cairn_volume_files{volume="photos",status="present"} 1')
    for (const name of [...m.body.matchAll(/^# TYPE (\S+) /gm)].map(x => x[1])) expect(m.body).toContain(`# HELP ${name ?? ''} `)
  })

  it('reports a port in use as HttpBindError naming the address and the config key', async () => {
    const err = await start({ host: '127.0.0.1', port: loopback.port, loopback: true }).then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ name: 'HttpBindError', address: `127.0.0.1:${loopback.port}`, code: 'EADDRINUSE' })
    expect((err as Error & { hint: string }).hint).toContain('[serve] http')
  })

  it('closes keep-alive connections when it stops, promptly', async () => {
    const s = await start({ host: '127.0.0.1', port: 0, loopback: true })
    const { Agent } = await import('node:http')
    const agent = new Agent({ keepAlive: true })
    await new Promise<void>((resolve, reject) => {
      request(`${s.url}api/status`, { agent }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject).end()
    })
    const t = performance.now()
    await s.close()
    expect(performance.now() - t).toBeLessThan(1000)
    agent.destroy()
    // the port is free again
    const probe = createServer()
    await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(s.port, '127.0.0.1', resolve) })
    await new Promise<void>(resolve => probe.close(() => { resolve() }))
  })
})
