import { describe, expect, it } from 'vitest'
import { decodeInvite, encodeInvite } from '../../src/p2p/invite.js'
import { testKey } from '../helpers/nodes.js'

describe('invites', () => {
  const invite = { nodeId: testKey(7).nodeId, name: 'nas', addrs: ['/ip4/127.0.0.1/tcp/4701', '/ip6/::1/tcp/4701'] }

  it('round-trips node id, name and addresses in one copy-pasteable token', () => {
    const token = encodeInvite(invite)
    expect(token).toMatch(/^cairn1\.[A-Za-z0-9_-]+\.[0-9a-f]{8}$/)
    expect(decodeInvite(token)).toEqual(invite)
    expect(decodeInvite(`  ${token}\n`)).toEqual(invite)
  })

  it('refuses a token that was cut or changed while copying', () => {
    const token = encodeInvite(invite)
    expect(() => decodeInvite(token.slice(0, -3))).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
    const middle = Math.floor(token.length / 2)
    const flipped = token.slice(0, middle) + (token[middle] === 'A' ? 'B' : 'A') + token.slice(middle + 1)
    expect(() => decodeInvite(flipped)).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
  })

  it.each([
    ['another prefix', 'cairn2.e30.00000000'],
    ['no parts', 'cairn1'],
    ['an oversized token', 'cairn1.' + 'A'.repeat(5000) + '.00000000']
  ])('refuses %s', (_label, token) => {
    expect(() => decodeInvite(token)).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
  })

  it('refuses a well-formed token whose content is invalid', () => {
    expect(() => decodeInvite(encodeInvite({ ...invite, name: 'Not Valid' }))).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
    expect(() => decodeInvite(encodeInvite({ ...invite, addrs: ['/ip4/1.2.3.4/udp/1'] }))).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
  })
})
