import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.js'
import { multiaddrProblem, suggestMultiaddr } from '../../src/p2p/multiaddr-advice.js'
import { validateAddr } from '../../src/p2p/invite.js'

/**
 * A multiaddr typed wrong explains itself: what is wrong in plain words, what a multiaddr is,
 * and the multiaddr that was probably meant, derived from what was typed.
 */
describe('multiaddr advice', () => {
  it.each([
    ['192.168.1.5:4701', '/ip4/192.168.1.5/tcp/4701'],
    ['0.0.0.0:4701', '/ip4/0.0.0.0/tcp/4701'],
    ['[fd00::5]:4701', '/ip6/fd00::5/tcp/4701'],
    ['[::]:4701', '/ip6/::/tcp/4701'],
    ['nas.lan:4701', '/dns/nas.lan/tcp/4701'],
    ['nas', '/dns/nas/tcp/4701'],
    ['192.168.1.5', '/ip4/192.168.1.5/tcp/4701'],
    ['fd00::5', '/ip6/fd00::5/tcp/4701'],
    ['tcp://192.168.1.5:4701', '/ip4/192.168.1.5/tcp/4701'],
    ['/ip4/192.168.1.5:4701', '/ip4/192.168.1.5/tcp/4701'],
    ['/ip4/192.168.1.5', '/ip4/192.168.1.5/tcp/4701'],
    ['/dns/nas.lan', '/dns/nas.lan/tcp/4701'],
    ['ip4/192.168.1.5/tcp/4701', undefined],
    ['192.168.1.5:99999', undefined],
    ['999.1.1.1:4701', undefined],
    ['not an address', undefined]
  ])('suggests a TCP multiaddr for %j: %j', (typed, suggestion) => {
    expect(suggestMultiaddr(typed)).toBe(suggestion)
    if (suggestion !== undefined) expect(multiaddrProblem(suggestion, { allowPeerId: false })).toBeUndefined()
  })

  it('says in plain words what is wrong', () => {
    expect(multiaddrProblem('192.168.1.5:4701', { allowPeerId: false })).toBe('it does not start with "/"')
    expect(multiaddrProblem('/ip4/192.168.1.5', { allowPeerId: false })).toBe('it has no /tcp/PORT after the host')
    expect(multiaddrProblem('/ip4/1.2.3.4/udp/4701', { allowPeerId: false })).toBe('it has no /tcp/PORT after the host')
    expect(multiaddrProblem('/ip4/999.1.1.1/tcp/1', { allowPeerId: false })).toMatch(/^it does not parse \(.*999\.1\.1\.1/)
    expect(multiaddrProblem('/udp/1', { allowPeerId: false })).toBe('it starts with /udp, not /ip4, /ip6 or /dns')
    expect(multiaddrProblem('/ip4/1.2.3.4/tcp/1/p2p/12D3KooWMY6EnMedSH5SZLmPBezw5aeEHYjxNBb7AqhQFixuUx6p', { allowPeerId: false })).toMatch(/parts after \/tcp\/PORT/)
    expect(multiaddrProblem('/ip4/1.2.3.4/tcp/1/p2p/12D3KooWMY6EnMedSH5SZLmPBezw5aeEHYjxNBb7AqhQFixuUx6p', { allowPeerId: true })).toBeUndefined()
    expect(multiaddrProblem('', { allowPeerId: true })).toBe('it is empty')
    expect(multiaddrProblem('/ip4/' + '1'.repeat(300), { allowPeerId: true })).toBe('it is longer than 256 characters')
    expect(() => validateAddr('192.168.1.5:4701')).toThrow('"192.168.1.5:4701" is not a TCP multiaddr: it does not start with "/"')
  })

  it('refuses a config listen address with the reason, what a multiaddr is and the suggestion', () => {
    let err: unknown
    try {
      parseConfig('name = "nas"\nlisten = ["0.0.0.0:4701"]\n', '/etc/cairn.toml')
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ name: 'ConfigError', key: 'listen[0]', hint: 'did you mean "/ip4/0.0.0.0/tcp/4701"?' })
    expect((err as Error).message).toContain('/PROTOCOL/VALUE pairs')
    expect((err as Error).message).toContain('"0.0.0.0:4701": it does not start with "/"')
  })
})
