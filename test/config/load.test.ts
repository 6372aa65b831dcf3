import { mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.js'
import { checkConfigAgainstPeers } from '../../src/config/resolve.js'
import { configTemplate } from '../../src/config/template.js'
import { parseDurationMs } from '../../src/config/duration.js'
import { tempDir } from '../helpers/store.js'

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
      name: 'photos', path: '/home/me/Pictures', pushTo: ['nas', 'usb'], offloadRequires: ['nas', 'offsite'], offloadMaxEvidenceAgeMs: 30 * 86_400_000,
      schedules: { indexEveryMs: undefined, pushEveryMs: undefined, verifyEveryMs: undefined, rehashEveryMs: 30 * 86_400_000 }
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

describe('one directory is one copy (DESIGN invariant 24)', () => {
  const HEAD = 'name = "laptop"\n'
  const dest = (name: string, path: string): string => `[destinations.${name}]\ntype = "directory"\npath = ${JSON.stringify(path)}\n`
  const vol = (name: string, path: string): string => `[volumes.${name}]\npath = ${JSON.stringify(path)}\n`
  const refusal = (text: string): Record<string, unknown> => {
    try {
      parseConfig(text, FILE)
    } catch (err) {
      return err as Record<string, unknown>
    }
    throw new Error('the config was accepted')
  }

  it.each(['/mnt/usb/', '/mnt/usb//', '/mnt//usb', '/mnt/./usb', '/mnt/usb/sub/..'])('refuses two destinations that name one directory, with or without a trailing slash (%j)', (alias) => {
    const err = refusal(HEAD + dest('usb', '/mnt/usb') + dest('usb2', alias))
    expect(err).toMatchObject({ name: 'ConfigError', file: FILE, key: 'destinations.usb2.path' })
    expect(err.expected).toContain('destinations.usb ("/mnt/usb")')
    expect(err.got).toBe(`${JSON.stringify(alias)}, the same directory`)
    expect(err.hint).toContain('one directory is one copy')
    expect(err.message).toContain(FILE)
  })

  it('refuses two destinations that name one existing directory, with or without a trailing slash', () => {
    const root = tempDir('cairn-config-')
    mkdirSync(join(root, 'usb'))
    const err = refusal(HEAD + dest('usb', join(root, 'usb')) + dest('usb2', join(root, 'usb') + '/'))
    expect(err).toMatchObject({ name: 'ConfigError', file: FILE, key: 'destinations.usb2.path' })
    expect(err.got).toContain('the same directory')
  })

  it('refuses a destination reached through a symlink to another destination', () => {
    const root = tempDir('cairn-config-')
    mkdirSync(join(root, 'usb'))
    symlinkSync(join(root, 'usb'), join(root, 'usb-link'))
    const err = refusal(HEAD + dest('usb', join(root, 'usb')) + dest('usb2', join(root, 'usb-link')))
    expect(err).toMatchObject({ name: 'ConfigError', file: FILE, key: 'destinations.usb2.path' })
    expect(err.expected).toContain('destinations.usb')
    expect(err.got).toContain(JSON.stringify(join(root, 'usb-link')))
    expect(err.got).toContain('resolves to')
    expect(err.got).toContain('the same directory')
  })

  it('refuses a destination not created yet whose existing parent is a symlink into another destination', () => {
    const root = tempDir('cairn-config-')
    mkdirSync(join(root, 'usb'))
    symlinkSync(join(root, 'usb'), join(root, 'usb-link'))
    const err = refusal(HEAD + dest('usb', join(root, 'usb', 'cairn')) + dest('usb2', join(root, 'usb-link', 'cairn')))
    expect(err).toMatchObject({ name: 'ConfigError', key: 'destinations.usb2.path' })
    expect(err.got).toContain('the same directory')
  })

  it('refuses a dangling symlink to an unmounted disk that another destination names', () => {
    const root = tempDir('cairn-config-')
    symlinkSync(join(root, 'media', 'usb'), join(root, 'usb-link'))
    const err = refusal(HEAD + dest('usb', join(root, 'media', 'usb')) + dest('usb2', join(root, 'usb-link')))
    expect(err).toMatchObject({ name: 'ConfigError', key: 'destinations.usb2.path' })
    expect(err.got).toContain('the same directory')
  })

  it.each([
    ['inside the first', '/mnt/usb', '/mnt/usb/cairn', 'a directory inside it'],
    ['around the first', '/mnt/usb/cairn', '/mnt/usb', 'a directory that contains it']
  ])('refuses nested destinations (the second %s)', (_label, first, second, relation) => {
    const err = refusal(HEAD + dest('usb', first) + dest('usb2', second))
    expect(err).toMatchObject({ name: 'ConfigError', file: FILE, key: 'destinations.usb2.path' })
    expect(err.expected).toContain(`destinations.usb (${JSON.stringify(first)})`)
    expect(err.got).toBe(`${JSON.stringify(second)}, ${relation}`)
  })

  it('refuses nested destinations when one is inside the other only through a symlink', () => {
    const root = tempDir('cairn-config-')
    mkdirSync(join(root, 'usb', 'cairn'), { recursive: true })
    symlinkSync(join(root, 'usb', 'cairn'), join(root, 'inner'))
    const err = refusal(HEAD + dest('usb', join(root, 'usb')) + dest('inner', join(root, 'inner')))
    expect(err).toMatchObject({ name: 'ConfigError', key: 'destinations.inner.path' })
    expect(err.got).toContain('a directory inside it')
  })

  it('accepts sibling destinations whose names share a prefix', () => {
    const root = tempDir('cairn-config-')
    mkdirSync(join(root, 'x'))
    mkdirSync(join(root, 'x2'))
    const c = parseConfig(HEAD + dest('x', join(root, 'x')) + dest('x2', join(root, 'x2')) + dest('lexical', '/mnt/x') + dest('lexical2', '/mnt/x2'), FILE)
    expect([...c.destinations.keys()]).toEqual(['x', 'x2', 'lexical', 'lexical2'])
  })

  it('loads a destination on a symlink loop without hanging, and still refuses a second name for it', () => {
    const root = tempDir('cairn-config-')
    symlinkSync(join(root, 'loop'), join(root, 'loop'))
    expect(parseConfig(HEAD + dest('usb', join(root, 'loop')) + dest('x', join(root, 'x')), FILE).destinations.size).toBe(2)
    expect(refusal(HEAD + dest('usb', join(root, 'loop')) + dest('usb2', join(root, 'loop') + '/'))).toMatchObject({ name: 'ConfigError', key: 'destinations.usb2.path' })
  })

  it('refuses a destination reached through a symlink into a volume', () => {
    const root = tempDir('cairn-config-')
    mkdirSync(join(root, 'photos'))
    symlinkSync(join(root, 'photos'), join(root, 'photos-link'))
    const err = refusal(HEAD + vol('photos', join(root, 'photos')) + dest('usb', join(root, 'photos-link', 'backup')))
    expect(err).toMatchObject({ name: 'ConfigError', key: 'destinations.usb.path' })
    expect(err.expected).toContain('neither contains nor lies inside volume photos')
    expect(err.got).toContain('a directory inside it')
  })

  it('refuses two volumes that name one directory, with or without a trailing slash or through a symlink', () => {
    const root = tempDir('cairn-config-')
    mkdirSync(join(root, 'photos'))
    symlinkSync(join(root, 'photos'), join(root, 'photos-link'))
    for (const alias of ['/home/me/Pictures/', join(root, 'photos-link')]) {
      const first = alias.startsWith('/home') ? '/home/me/Pictures' : join(root, 'photos')
      const err = refusal(HEAD + vol('photos', first) + vol('again', alias))
      expect(err).toMatchObject({ name: 'ConfigError', key: 'volumes.again.path' })
      expect(err.expected).toContain('volume photos')
      expect(err.got).toContain('the same directory')
    }
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
