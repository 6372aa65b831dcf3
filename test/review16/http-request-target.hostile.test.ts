/**
 * Review of issue 16, priority 2 (found while probing absolute-URI request lines): `authorize`
 * and the router parse the request target with `new URL(req.url, base)` inside the handler's
 * un-caught async body. A target WHATWG URL refuses (`//[`, `http://a:b`) makes that promise
 * reject unhandled, and Node ends the process: one request, with no token and from any client
 * that reaches the port, stopped `cairn serve` (replication, schedules and all). Fixed in
 * src/http/server.ts: such a target is answered 400, and the handler never rejects unhandled.
 */
import { connect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/store.js'
import { initHome, startServe, type ServeProcess } from '../e2e/fleet.js'

async function rawRequest (url: string, target: string): Promise<string> {
  const u = new URL(url)
  return await new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname, () => { s.write(`GET ${target} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`) })
    let got = ''
    s.on('data', (d: Buffer) => { got += d.toString() })
    s.on('error', () => { resolve(got) })
    s.on('close', () => { resolve(got) })
    setTimeout(() => { s.destroy(); resolve(got) }, 3000)
  })
}

describe('serve\'s HTTP listener and malformed request targets', () => {
  const serves: ServeProcess[] = []
  afterAll(() => { for (const s of serves) s.kill() })

  it.each(['//[', 'http://a:b/'])('answers GET %s with a 400 and keeps serving', async (target) => {
    const home = await initHome(tempDir('cairn-review16-'), 'laptop')
    const s = await startServe(home)
    serves.push(s)
    expect(s.httpUrl).toBeDefined()
    const answer = await rawRequest(s.httpUrl!, target)
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(s.child.exitCode).toBeNull()
    expect(answer.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 4\d\d /)
    const stop = await s.stop()
    expect(stop.code).toBe(0)
  })
})
