import { statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isNodeId } from '../../src/identity/node-id.js'
import { decodeInvite } from '../../src/p2p/invite.js'
import { cairn, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'

describe('cairn init and id', () => {
  it('creates a home whose id --json prints a valid peer id and a decodable invite', async () => {
    const home = join(tempDir(), 'x')
    const created = await cairnJson<{ node_id: string, name: string, home: string }>(home, ['init', '--name', 'a', '--listen', '/ip4/127.0.0.1/tcp/4999'])
    expect(created).toMatchObject({ name: 'a', home })
    const id = await cairnJson<{ node_id: string, name: string, addrs: string[], invite: string }>(home, ['id'])
    expect(isNodeId(id.node_id)).toBe(true)
    expect(id.node_id).toBe(created.node_id)
    expect(id).toMatchObject({ name: 'a', addrs: ['/ip4/127.0.0.1/tcp/4999'] })
    expect(decodeInvite(id.invite)).toEqual({ nodeId: id.node_id, name: 'a', addrs: ['/ip4/127.0.0.1/tcp/4999'] })
    expect(statSync(join(home, 'node.key')).mode & 0o777).toBe(0o600)
  })

  it('refuses an existing home with exit 1 and one line on stderr', async () => {
    const home = join(tempDir(), 'x')
    expect((await cairn(home, ['init', '--name', 'a'])).code).toBe(0)
    const again = await cairn(home, ['init', '--name', 'a'])
    expect(again.code).toBe(1)
    expect(again.stdout).toBe('')
    expect(again.stderr.trim().split('\n')).toHaveLength(1)
    expect(again.stderr).toContain('already holds a cairn home')
  })

  it('exits 2 on a usage error', async () => {
    const home = join(tempDir(), 'x')
    expect((await cairn(home, ['no-such-command'])).code).toBe(2)
    expect((await cairn(home, ['init', '--bogus-flag'])).code).toBe(2)
    expect((await cairn(home, ['runs', '--limit', 'zero'])).code).toBe(2)
  })

  it('refuses an invalid --name as a usage error (exit 2) with a precise error and creates nothing', async () => {
    const home = join(tempDir(), 'x')
    const r = await cairn(home, ['init', '--name', 'Bad Name'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('name: expected a name of 1-64 characters')
    expect((await cairn(home, ['id'])).code).toBe(1)
  })

  it('tells the operator to run init when the home does not exist', async () => {
    const r = await cairn(join(tempDir(), 'nothing-here'), ['id'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/not a cairn home.*cairn --home .* init/)
  })

  it('refuses to use a key file readable by others', async () => {
    const home = join(tempDir(), 'x')
    await cairn(home, ['init', '--name', 'a'])
    const { chmodSync } = await import('node:fs')
    chmodSync(join(home, 'node.key'), 0o644)
    const r = await cairn(home, ['id'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('chmod 600')
  })
})
