/**
 * One-sided pairing with real `cairn serve` processes: the refusing node records the knock
 * (`peer pending`), the dialer's CLI error says what to run there in one line, and once the
 * operator enrolls the other side the knock is gone and both sides show a last contact.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { configure, eventually, initHome, startServe, type ServeProcess } from './fleet.js'

interface Pending { node_id: string, addrs: string[], first_seen_ns: number, last_seen_ns: number, attempts: number, known_as: string | null, revoked: boolean }
interface PeerRow { name: string, node_id: string, last_seen_ns: number | null }

describe('pairing that explains itself (real serve processes)', () => {
  const serves: ServeProcess[] = []
  afterAll(async () => { for (const s of serves) await s.stop() })

  it('records who knocked on the refusing node, tells the dialer what to run there, and clears the knock on enrollment', async () => {
    const root = tempDir('cairn-e2e-pairing-')
    const laptop = await initHome(root, 'laptop')
    const nas = await initHome(root, 'nas')
    for (const [home, name] of [[laptop, 'laptop'], [nas, 'nas']] as const) {
      mkdirSync(join(root, `${name}-photos`))
      configure(home, `[volumes.photos]\npath = ${JSON.stringify(join(root, `${name}-photos`))}`)
    }
    const nasServe = await startServe(nas)
    serves.push(nasServe)
    const nasId = await cairnJson<{ node_id: string, invite: string }>(nas, ['id'])
    const laptopId = await cairnJson<{ node_id: string, invite: string }>(laptop, ['id'])
    expect((await cairn(laptop, ['peer', 'add', 'nas', nasId.invite])).code).toBe(0)

    const refused = await cairn(laptop, ['pull', 'nas'])
    expect(refused.code).toBe(1)
    const said = refused.stdout + refused.stderr
    expect(said).toContain('nas refused this node: it is probably not enrolled there; on nas run `cairn peer add laptop <this node\'s invite>`')
    expect(said).not.toMatch(/\[object|UnexpectedEOF|\n\s+at /)

    const pending = await eventually(async () => {
      const rows = await cairnJson<Pending[]>(nas, ['peer', 'pending', '--json'])
      return rows.length > 0 ? rows : undefined
    })
    expect(pending).toEqual([expect.objectContaining({ node_id: laptopId.node_id, known_as: null, revoked: false })])
    expect(pending[0]?.attempts).toBeGreaterThanOrEqual(1)
    expect(pending[0]?.addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    const human = await cairn(nas, ['peer', 'pending'])
    expect(human.stdout).toContain(laptopId.node_id)
    expect(human.stdout).toContain('cairn peer add NAME INVITE')

    expect((await cairn(nas, ['peer', 'add', 'laptop', laptopId.invite])).code).toBe(0)
    expect(await cairnJson<Pending[]>(nas, ['peer', 'pending', '--json'])).toEqual([])
    const pulled = await cairn(laptop, ['pull', 'nas', '--json'])
    expect(pulled.code, pulled.stderr).toBe(0)
    const seenByNas = await eventually(async () => {
      const peers = await cairnJson<PeerRow[]>(nas, ['peer', 'list', '--json'])
      const row = peers.find(p => p.name === 'laptop')
      return row?.last_seen_ns != null ? row : undefined
    })
    expect(seenByNas.last_seen_ns).toBeGreaterThan(0)
    const seenByLaptop = (await cairnJson<PeerRow[]>(laptop, ['peer', 'list', '--json'])).find(p => p.name === 'nas')
    expect(seenByLaptop?.last_seen_ns).toBeGreaterThan(0)
  })
})
