import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.js'
import { checkConfigAgainstPeers } from '../../src/config/resolve.js'
import { configTemplate } from '../../src/config/template.js'
import { parseDurationMs } from '../../src/config/duration.js'

const FILE = '/home/me/.cairn/cairn.toml'

const GOOD = `
name   = "laptop"
listen = ["/ip4/0.0.0.0/tcp/4701"]

[serve]
pull_every = "10m"

[volumes.photos]
path                     = "/home/me/Pictures"
push_to                  = ["nas", "usb"]
offload_requires         = ["nas", "offsite"]
offload_max_evidence_age = "30d"

[destinations.usb]
type = "directory"
path = "/mnt/usb/cairn"
`

describe('config', () => {
  it('loads the documented example', () => {
    const c = parseConfig(GOOD, FILE)
    expect(c.name).toBe('laptop')
    expect(c.serve.pullEveryMs).toBe(600_000)
    expect(c.volumes.get('photos')).toEqual({
      name: 'photos', path: '/home/me/Pictures', pushTo: ['nas', 'usb'], offloadRequires: ['nas', 'offsite'], offloadMaxEvidenceAgeMs: 30 * 86_400_000
    })
    expect(c.destinations.get('usb')).toEqual({ name: 'usb', type: 'directory', path: '/mnt/usb/cairn' })
  })

  it('loads the template that init writes', () => {
    const c = parseConfig(configTemplate('nas', ['/ip4/127.0.0.1/tcp/0']), FILE)
    expect(c).toMatchObject({ name: 'nas', listen: ['/ip4/127.0.0.1/tcp/0'] })
    expect(c.volumes.size).toBe(0)
  })

  const BAD: Array<[string, string, string, string]> = [
    ['an unknown top-level key', 'bogus = 1\n' + GOOD, 'bogus', 'one of the known keys'],
    ['an unknown volume key', GOOD.replace('offload_max_evidence_age', 'max_age'), 'volumes.photos.max_age', 'one of the known keys'],
    ['an unknown destination key', GOOD + 'mode = "fast"\n', 'destinations.usb.mode', 'one of the known keys'],
    ['a name of the wrong type', GOOD.replace('name   = "laptop"', 'name = 7'), 'name', 'a string'],
    ['a name with capitals', GOOD.replace('"laptop"', '"Laptop"'), 'name', 'a name of 1-64 characters'],
    ['a bad duration', GOOD.replace('"30d"', '"30 days"'), 'volumes.photos.offload_max_evidence_age', 'a duration such as'],
    ['a zero duration', GOOD.replace('"10m"', '"0s"'), 'serve.pull_every', 'a duration such as'],
    ['a relative volume path', GOOD.replace('"/home/me/Pictures"', '"Pictures"'), 'volumes.photos.path', 'an absolute path'],
    ['a missing volume path', GOOD.replace('path                     = "/home/me/Pictures"', ''), 'volumes.photos.path', 'a string'],
    ['push_to that is not an array', GOOD.replace('["nas", "usb"]', '"nas"'), 'volumes.photos.push_to', 'an array of names'],
    ['a duplicate push_to name', GOOD.replace('["nas", "usb"]', '["usb", "usb"]'), 'volumes.photos.push_to[1]', 'each name at most once'],
    ['an invalid volume name', GOOD.replace('[volumes.photos]', '[volumes."My Photos"]'), 'volumes.My Photos', 'a name of 1-64 characters'],
    ['an unknown destination type', GOOD.replace('type = "directory"', 'type = "s3"'), 'destinations.usb.type', 'one of "directory"'],
    ['a listen address that is not TCP', GOOD.replace('"/ip4/0.0.0.0/tcp/4701"', '"/ip4/0.0.0.0/udp/4701"'), 'listen[0]', 'a TCP multiaddr'],
    ['an empty listen list', GOOD.replace('["/ip4/0.0.0.0/tcp/4701"]', '[]'), 'listen', 'a non-empty array'],
    ['requiring this node itself', GOOD.replace('["nas", "offsite"]', '["laptop"]'), 'volumes.photos.offload_requires', 'can never hold evidence'],
    ['a destination inside the volume', GOOD.replace('"/mnt/usb/cairn"', '"/home/me/Pictures/backup"'), 'destinations.usb.path', 'neither contains nor lies inside'],
    ['invalid TOML', GOOD + '\n[volumes.photos\n', 'line', 'valid TOML']
  ]

  it.each(BAD)('refuses %s, naming the file, the key and the expectation', (_label, text, key, expectation) => {
    let caught: unknown
    try {
      parseConfig(text, FILE)
    } catch (err) {
      caught = err
    }
    expect(caught).toMatchObject({ name: 'ConfigError', file: FILE })
    const err = caught as { key: string, expected: string, message: string }
    expect(err.key.startsWith(key)).toBe(true)
    expect(err.expected).toContain(expectation)
    expect(err.message).toContain(FILE)
  })

  it('refuses a push_to name that is neither a destination nor an enrolled peer', () => {
    const c = parseConfig(GOOD, FILE)
    expect(() => { checkConfigAgainstPeers(c, new Set()) }).toThrow(expect.objectContaining({ name: 'ConfigError', key: 'volumes.photos.push_to[0]' }))
    expect(() => { checkConfigAgainstPeers(c, new Set(['nas'])) }).not.toThrow()
  })

  it('accepts offload_requires names only a peer reaches', () => {
    const c = parseConfig(GOOD, FILE)
    checkConfigAgainstPeers(c, new Set(['nas']))
    expect(c.volumes.get('photos')?.offloadRequires).toContain('offsite')
  })
})

describe('durations', () => {
  it.each([['45s', 45_000], ['10m', 600_000], ['1h30m', 5_400_000], ['30d', 2_592_000_000], ['2w', 1_209_600_000], ['250ms', 250]])('parses %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms)
  })
  it.each(['', '10', 'm', '-5m', '1.5h', '10 m', '10M', '0s'])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined()
  })
})
