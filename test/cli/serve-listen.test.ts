import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenErrorFrom } from '../../src/p2p/listen-error.js'
import { cairn } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'

/**
 * `serve` on a listen address it cannot bind prints one plain line — which address, what is
 * wrong, what to change — and exits 1, never libp2p's internals (`transportManager.faultTolerance`).
 */

let held: Server
let port: number

beforeAll(async () => {
  held = createServer()
  await new Promise<void>((resolve) => { held.listen(0, '127.0.0.1', resolve) })
  port = (held.address() as { port: number }).port
})

afterAll(async () => { await new Promise<void>((resolve) => { held.close(() => { resolve() }) }) })

describe('serve on an address it cannot listen on', () => {
  it('says the address is already in use in one line and exits 1', async () => {
    const h = makeHome('laptop', [`/ip4/127.0.0.1/tcp/${port}`])
    const r = await cairn(h.home, ['serve'], { timeoutMs: 20_000 })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`cairn: cannot listen on /ip4/127.0.0.1/tcp/${port}: the address is already in use (is another cairn serve running? change \`listen\` in cairn.toml)\n`)
  })

  it('says an address no interface has is not available, in one line, and exits 1', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): no interface of a test machine has it; binding it sends nothing
    const h = makeHome('laptop', ['/ip4/192.0.2.1/tcp/4701'])
    const r = await cairn(h.home, ['serve'], { timeoutMs: 20_000 })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^cairn: cannot listen on \/ip4\/192\.0\.2\.1\/tcp\/4701: the address is not available: no network interface of this machine has that IP address \(.*change `listen` in cairn\.toml\)\n$/)
    expect(r.stderr).not.toContain('faultTolerance')
  })

  it('reads every failed address and its code out of libp2p\'s error, and leaves other errors alone', () => {
    const libp2p = Object.assign(new Error('Some configured addresses failed to be listened on, you may need to remove one or more listen addresses from your configuration or set `transportManager.faultTolerance` to NO_FATAL:\n' +
      '\n  /ip6/::1/tcp/4701: Error: listen EADDRINUSE: address already in use ::1:4701\n      at Server.setupListenHandle\n' +
      '\n  /ip4/10.0.0.9/tcp/4701: Error: listen EADDRNOTAVAIL: address not available 10.0.0.9:4701\n'), { name: 'UnsupportedListenAddressesError' })
    expect(listenErrorFrom(libp2p)).toMatchObject({ name: 'ListenError', addr: '/ip6/::1/tcp/4701', code: 'EADDRINUSE', alsoFailed: ['/ip4/10.0.0.9/tcp/4701'] })
    expect(listenErrorFrom(new Error('something else'))).toBeUndefined()
  })
})
