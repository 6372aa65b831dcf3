import { describe, expect, it } from 'vitest'
import { createLogger, formatHumanLine, MemorySink } from '../../src/logger.js'
import { ManualClock } from '../../src/clock.js'
import { namingSink, nameFieldFor, withNodeNames } from '../../src/cli/log-names.js'
import { nodeRef, PeerRevokedError, SignerMismatchError } from '../../src/errors.js'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'

/**
 * Errors and log records name nodes the way the operator does — by their local name, with the
 * node id as the detail — so "nas was revoked" reads as such, not as a 52-character id.
 */

describe('node names in errors', () => {
  it('names a known node by its name with the id as the detail, and an unknown one by its id', () => {
    const id = testKey(101).nodeId
    expect(nodeRef(id, 'nas')).toBe(`nas (node ${id})`)
    expect(nodeRef(id, null)).toBe(`node ${id}`)
    const revoked = new PeerRevokedError(id, 1, 'nas')
    expect(revoked).toMatchObject({ name: 'PeerRevokedError', nodeId: id, peerName: 'nas' })
    expect(revoked.message.startsWith('nas (node ')).toBe(true)
    expect(revoked.hint).toContain(`cairn peer add nas ${id} --re-enroll`)
    expect(new SignerMismatchError(id, testKey(102).nodeId, 'desk', 'nas')).toMatchObject({ signerName: 'desk', expectedName: 'nas' })
  })

  it('the CLI refuses a revoked peer by its name in push, pull, verify, restore and a second revoke', async () => {
    const h = makeHome('laptop')
    const nas = testKey(103)
    h.configure(`[volumes.photos]\npath = "${h.home}/photos"`)
    await cairnJson(h.home, ['peer', 'add', 'nas', nas.nodeId, '--addr', '/ip4/127.0.0.1/tcp/1'])
    await cairnJson(h.home, ['peer', 'revoke', 'nas', '--yes'])
    for (const args of [['push', 'photos', '--to', 'nas'], ['pull', 'nas'], ['verify', 'photos', '--at', 'nas'], ['restore', 'photos', '--from', 'nas'], ['peer', 'revoke', 'nas', '--yes'], ['peer', 'add', 'nas', nas.nodeId]]) {
      const r = await cairn(h.home, args)
      expect({ args, code: r.code }).toEqual({ args, code: 1 })
      expect(r.stderr).toContain(`nas (node ${nas.nodeId})`)
      // the id never stands alone where the name is known
      expect(r.stderr).not.toContain(`: node ${nas.nodeId}`)
    }
  })
})

describe('node names in log records', () => {
  const nas = testKey(104).nodeId
  const stranger = testKey(105).nodeId
  const names = new Map<string, string>([[nas, 'nas']])

  it('adds the name beside every field that holds a known node id, and leaves the rest alone', () => {
    expect(nameFieldFor('peer')).toBe('peer_name')
    expect(nameFieldFor('node_id')).toBe('node_name')
    const fields = { peer: nas, node_id: nas, other: stranger, volume: 'photos', n: 3 }
    expect(withNodeNames(fields, id => names.get(id))).toEqual({ ...fields, peer_name: 'nas', node_name: 'nas' })
    // a field already named is not overwritten, and a record without ids is returned as it is
    expect(withNodeNames({ peer: nas, peer_name: 'x' }, id => names.get(id))).toEqual({ peer: nas, peer_name: 'x' })
    const plain = { volume: 'photos' }
    expect(withNodeNames(plain, id => names.get(id))).toBe(plain)
  })

  it('names nodes in what a sink writes, and a failing lookup never loses the record', () => {
    const memory = new MemorySink()
    const log = createLogger([namingSink(memory, id => names.get(id)), namingSink(memory, () => { throw new Error('database closed') })], new ManualClock(1))
    log.warn('refused a push', { peer: nas })
    expect(memory.records.map(r => r.fields)).toEqual([{ peer: nas, peer_name: 'nas' }, { peer: nas }])
    expect(formatHumanLine(memory.records[0] as never)).toContain(`peer=${nas} peer_name=nas`)
  })
})
