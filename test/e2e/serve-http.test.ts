import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/store.js'
import { initHome, startServe, type ServeProcess } from './fleet.js'

describe('serve with its HTTP address taken', () => {
  const serves: ServeProcess[] = []
  afterAll(() => { for (const s of serves) s.kill() })

  it('says which address, why and what to change, prints `http off`, and keeps replicating', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => { blocker.listen(0, '127.0.0.1', resolve) })
    const port = (blocker.address() as AddressInfo).port
    try {
      const home = await initHome(tempDir('cairn-e2e-'), 'laptop')
      const cfg = join(home, 'cairn.toml')
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/^http\s*=.*$/m, `http = "127.0.0.1:${port}"`))
      const s = await startServe(home)
      serves.push(s)
      expect(s.httpUrl).toBeUndefined()
      const off = s.stdout().split('\n').find(l => l.startsWith('http off: '))
      expect(off).toBe(`http off: cannot serve HTTP on 127.0.0.1:${port}: port ${port} is already in use on 127.0.0.1 (another cairn serve, or another program); change \`[serve] http\` in cairn.toml: another port, "127.0.0.1:0" for any free one, or "" to turn HTTP off`)
      // the libp2p side is up: it listens and records itself, without an HTTP URL
      expect(s.addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
      const state = JSON.parse(readFileSync(join(home, 'serve.json'), 'utf8')) as Record<string, unknown>
      expect(state.http_url).toBeUndefined()
      expect(s.stderr()).toContain(`address=127.0.0.1:${port}`)
      const stop = await s.stop()
      expect(stop.code).toBe(0)
    } finally {
      await new Promise<void>(resolve => blocker.close(() => { resolve() }))
    }
  })
})
