import { describe, expect, it } from 'vitest'
import { encodeInvite } from '../../src/p2p/invite.js'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'

describe('cairn peer', () => {
  it('enrolls by invite and by node id with --addr, and lists peers with the documented fields', async () => {
    const h = makeHome('laptop')
    const nas = testKey(31)
    const invite = encodeInvite({ nodeId: nas.nodeId, name: 'nas', addrs: ['/ip4/127.0.0.1/tcp/4701'] })
    expect(await cairnJson(h.home, ['peer', 'add', 'nas', invite])).toEqual({ name: 'nas', node_id: nas.nodeId, addrs: ['/ip4/127.0.0.1/tcp/4701'] })
    const friend = testKey(32)
    expect(await cairnJson(h.home, ['peer', 'add', 'friend', friend.nodeId, '--addr', '/ip4/10.0.0.2/tcp/4701', '--addr', '/dns4/friend.lan/tcp/4701']))
      .toEqual({ name: 'friend', node_id: friend.nodeId, addrs: ['/ip4/10.0.0.2/tcp/4701', '/dns4/friend.lan/tcp/4701'] })
    const list = await cairnJson<Array<Record<string, unknown>>>(h.home, ['peer', 'list'])
    expect(list.map(p => [p.name, p.node_id, p.status, p.revoked_at_ns])).toEqual([['nas', nas.nodeId, 'enrolled', null], ['friend', friend.nodeId, 'enrolled', null]])
    expect(Object.keys(list[0] ?? {}).sort()).toEqual(['addrs', 'enrolled_at_ns', 'last_seen_ns', 'name', 'node_id', 'revoked_at_ns', 'status'])
  })

  it('updates a peer\'s addresses when the same node is added again under the same name', async () => {
    const h = makeHome('laptop')
    const nas = testKey(33)
    await cairnJson(h.home, ['peer', 'add', 'nas', nas.nodeId, '--addr', '/ip4/10.0.0.1/tcp/1'])
    expect(await cairnJson(h.home, ['peer', 'add', 'nas', nas.nodeId, '--addr', '/ip4/10.0.0.9/tcp/1'])).toMatchObject({ addrs: ['/ip4/10.0.0.9/tcp/1'] })
    const other = await cairn(h.home, ['peer', 'add', 'nas2', nas.nodeId])
    expect(other.code).toBe(1)
    expect(other.stderr).toContain('already enrolled as nas')
  })

  it('refuses a revoked node id unless --re-enroll is given, and records the re-enrollment as a run', async () => {
    const h = makeHome('laptop')
    const nas = testKey(34)
    await cairnJson(h.home, ['peer', 'add', 'nas', nas.nodeId])
    await cairnJson(h.home, ['peer', 'revoke', 'nas', '--yes'])
    const refused = await cairn(h.home, ['peer', 'add', 'nas', nas.nodeId])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('--re-enroll')
    await cairnJson(h.home, ['peer', 'add', 'nas', nas.nodeId, '--re-enroll'])
    const runs = await cairnJson<Array<{ kind: string, peer: string, detail: Record<string, unknown> }>>(h.home, ['runs'])
    expect(runs.map(r => [r.kind, r.peer, r.detail.re_enroll ?? null])).toEqual([['enroll', 'nas', true], ['revoke', 'nas', null], ['enroll', 'nas', false]])
    expect((await cairnJson<Array<{ status: string }>>(h.home, ['peer', 'list']))[0]?.status).toBe('enrolled')
  })

  it('refuses bad input precisely, as usage errors (exit 2): a mangled invite, an invalid name, this node itself', async () => {
    const h = makeHome('laptop')
    const bad = await cairn(h.home, ['peer', 'add', 'nas', 'cairn1.abc.00000000'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('not a valid cairn invite')
    expect((await cairn(h.home, ['peer', 'add', 'Bad Name', testKey(35).nodeId])).code).toBe(2)
    const self = await cairn(h.home, ['peer', 'add', 'me', h.nodeId])
    expect(self.code).toBe(2)
  })

  it('revokes only with --yes; a preview exits 1 and --dry-run exits 0, both changing nothing', async () => {
    const h = makeHome('laptop')
    const nas = testKey(36)
    await cairnJson(h.home, ['peer', 'add', 'nas', nas.nodeId])
    expect((await cairn(h.home, ['peer', 'revoke', 'nas'])).code).toBe(1)
    const dry = await cairnJson<Record<string, unknown>>(h.home, ['peer', 'revoke', 'nas', '--dry-run'])
    expect(dry).toMatchObject({ peer: 'nas', node_id: nas.nodeId, dry_run: true, components_dropped: 0, freshness_dropped: 0, run_id: null })
    expect(Object.keys(dry)).toEqual(expect.arrayContaining(['peer', 'node_id', 'dry_run', 'components_dropped', 'freshness_dropped', 'files_losing_gate', 'run_id']))
    expect((await cairnJson<Array<{ status: string }>>(h.home, ['peer', 'list']))[0]?.status).toBe('enrolled')
    const again = await cairn(h.home, ['peer', 'revoke', 'nas', '--yes'])
    expect(again.code).toBe(0)
    expect((await cairn(h.home, ['peer', 'revoke', 'nas', '--yes'])).stderr).toContain('already revoked')
  })
})
