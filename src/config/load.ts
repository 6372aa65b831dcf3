/**
 * Loads and validates `cairn.toml`. Every refusal names the file, the key and what was
 * expected, so the operator can fix the line without reading code.
 *
 * Validation happens in two phases: `parseConfig` checks everything the file and the local
 * disks can decide (it resolves configured paths to find two names for one directory);
 * `checkConfigAgainstPeers` (in resolve.ts) checks names that depend on enrollment.
 */
import { readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path'
import { parse as parseToml, TomlError } from 'smol-toml'
import { MULTIADDR_EXPLAINED, multiaddrProblem, suggestMultiaddr } from '../p2p/multiaddr-advice.js'
import { ConfigError } from '../errors.js'
import { NAME_RULE, isValidName } from '../names.js'
import { DURATION_RULE, parseDurationMs } from './duration.js'
import { DEFAULT_HTTP, DEFAULT_LISTEN, DEFAULT_MDNS, DEFAULT_PULL_EVERY, DEFAULT_REHASH_EVERY } from './types.js'
import type { Config, DirectoryDestinationConfig, HttpListen, VolumeConfig } from './types.js'
import { parseHttpListen } from './http-listen.js'

type Table = Record<string, unknown>

const TOP_KEYS = ['name', 'listen', 'serve', 'volumes', 'destinations']
const SERVE_KEYS = ['pull_every', 'http', 'http_token_file', 'mdns']
const VOLUME_KEYS = ['path', 'push_to', 'offload_requires', 'offload_max_evidence_age', 'index_every', 'push_every', 'verify_every', 'rehash_every']
const DESTINATION_KEYS = ['type', 'path']
const DESTINATION_TYPES = ['directory']
/** Dangling symlinks `physicalPath` follows in a path's missing tail (realpath(3) gives up at 40 too). */
const MAX_SYMLINK_HOPS = 40

export function loadConfig (file: string): Config {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, '(file)', 'a readable cairn.toml', (err as NodeJS.ErrnoException).code ?? String(err))
  }
  return parseConfig(text, file)
}

export function parseConfig (text: string, file: string): Config {
  let doc: Table
  try {
    doc = parseToml(text) as Table
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ConfigError(file, `line ${err.line} column ${err.column}`, 'valid TOML', err.message.split('\n')[0])
    }
    throw err
  }
  const v = new Validator(file)
  v.knownKeys(doc, TOP_KEYS, '')

  const name = v.name(doc.name, 'name')
  const listen = v.listen(doc.listen ?? DEFAULT_LISTEN, 'listen')

  const serveTable = v.table(doc.serve ?? {}, 'serve')
  v.knownKeys(serveTable, SERVE_KEYS, 'serve.')
  const pullEveryMs = v.duration(serveTable.pull_every ?? DEFAULT_PULL_EVERY, 'serve.pull_every')
  const http = v.httpListen(serveTable.http ?? DEFAULT_HTTP, 'serve.http')
  const httpTokenFile = serveTable.http_token_file === undefined ? undefined : v.absolutePath(serveTable.http_token_file, 'serve.http_token_file')
  const mdns = v.boolean(serveTable.mdns ?? DEFAULT_MDNS, 'serve.mdns')

  /** Each path key as the operator wrote it, so a refusal quotes their line. */
  const written = new Map<string, string>()
  const destinations = new Map<string, DirectoryDestinationConfig>()
  const destTable = v.table(doc.destinations ?? {}, 'destinations')
  for (const [destName, raw] of Object.entries(destTable)) {
    const key = `destinations.${destName}`
    v.nameKey(destName, key)
    if (destName === name) throw new ConfigError(file, key, 'a destination name different from this node\'s own name', JSON.stringify(destName))
    const t = v.table(raw, key)
    v.knownKeys(t, DESTINATION_KEYS, `${key}.`)
    const type = v.string(t.type, `${key}.type`)
    if (!DESTINATION_TYPES.includes(type)) throw new ConfigError(file, `${key}.type`, `one of ${DESTINATION_TYPES.map(x => JSON.stringify(x)).join(', ')}`, JSON.stringify(type))
    const path = v.absolutePath(t.path, `${key}.path`)
    written.set(`${key}.path`, t.path as string)
    destinations.set(destName, { name: destName, type: 'directory', path })
  }

  const volumes = new Map<string, VolumeConfig>()
  const volTable = v.table(doc.volumes ?? {}, 'volumes')
  for (const [volName, raw] of Object.entries(volTable)) {
    const key = `volumes.${volName}`
    v.nameKey(volName, key)
    const t = v.table(raw, key)
    v.knownKeys(t, VOLUME_KEYS, `${key}.`)
    const path = v.absolutePath(t.path, `${key}.path`)
    written.set(`${key}.path`, t.path as string)
    const pushTo = v.nameList(t.push_to ?? [], `${key}.push_to`)
    const offloadRequires = v.nameList(t.offload_requires ?? [], `${key}.offload_requires`, true)
    for (const target of [...pushTo, ...offloadRequires]) {
      if (target === name) {
        const which = pushTo.includes(target) ? 'push_to' : 'offload_requires'
        throw new ConfigError(file, `${key}.${which}`, `names of other targets (this node, ${name}, can never hold evidence of its own copy)`, JSON.stringify(target))
      }
    }
    const age = t.offload_max_evidence_age === undefined
      ? undefined
      : v.duration(t.offload_max_evidence_age, `${key}.offload_max_evidence_age`)
    const every = (k: string): number | undefined => t[k] === undefined ? undefined : v.duration(t[k], `${key}.${k}`)
    const schedules = {
      indexEveryMs: every('index_every'),
      pushEveryMs: every('push_every'),
      verifyEveryMs: every('verify_every'),
      rehashEveryMs: every('rehash_every') ?? age ?? v.duration(DEFAULT_REHASH_EVERY, `${key}.rehash_every`)
    }
    volumes.set(volName, { name: volName, path, pushTo, offloadRequires, offloadMaxEvidenceAgeMs: age, schedules })
  }

  checkPathOverlaps(file, volumes, destinations, written)
  return { file, name, listen, serve: { pullEveryMs, http, mdns, ...(httpTokenFile === undefined ? {} : { httpTokenFile }) }, volumes, destinations }
}

function contains (outer: string, inner: string): boolean {
  const rel = relative(outer, inner)
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel))
}

/**
 * The directory a path names on disk: its realpath where it exists; where it does not (an
 * unmounted disk, a directory not created yet), the realpath of its nearest existing ancestor
 * joined with the rest, following a dangling symlink met at the first missing part.
 */
function physicalPath (path: string, hops = 0): string {
  try {
    return realpathSync(path)
  } catch {
    // some part is missing (or unreadable): resolve the part that exists
  }
  const rest: string[] = []
  let dir = path
  for (;;) {
    const parent = dirname(dir)
    if (parent === dir) return path
    rest.unshift(basename(dir))
    dir = parent
    let real: string
    try {
      real = realpathSync(dir)
    } catch {
      continue
    }
    const first = join(real, rest[0] ?? '')
    let link: string | undefined
    try {
      link = readlinkSync(first)
    } catch {
      link = undefined
    }
    if (link !== undefined && hops < MAX_SYMLINK_HOPS) return physicalPath(resolve(real, link, ...rest.slice(1)), hops + 1)
    return join(real, ...rest)
  }
}

/** A configured directory: its key, how a message names it, as written, normalised, and on disk. */
interface PlacedPath { key: string, label: string, written: string, path: string, physical: string }

type Relation = 'same' | 'inside' | 'around'

const RELATION_TEXT: Record<Relation, string> = { same: 'the same directory', inside: 'a directory inside it', around: 'a directory that contains it' }

/**
 * How `b` stands to `a`, as written or on disk; undefined only if they are apart both ways.
 * `resolved` says the relation holds on disk but not as written, so a message shows both.
 */
function overlap (a: PlacedPath, b: PlacedPath): { relation: Relation, resolved: boolean } | undefined {
  const on = (x: string, y: string): Relation | undefined =>
    x === y ? 'same' : contains(x, y) ? 'inside' : contains(y, x) ? 'around' : undefined
  const lexical = on(a.path, b.path)
  const physical = on(a.physical, b.physical)
  if (physical !== undefined && physical !== lexical) return { relation: physical, resolved: true }
  return lexical === undefined ? undefined : { relation: lexical, resolved: false }
}

function quoted (p: PlacedPath, resolved: boolean): string {
  return JSON.stringify(p.written) + (resolved && p.physical !== p.path ? ` (resolves to ${p.physical})` : '')
}

/**
 * One directory is one copy (DESIGN invariant 24), and a destination inside a volume (or a
 * volume inside another) would copy data into itself. So no two configured paths may be the
 * same directory or one inside the other, compared as written (normalised) and as resolved on
 * disk: a trailing slash or a symlink is no second directory.
 */
function checkPathOverlaps (file: string, volumes: Map<string, VolumeConfig>, destinations: Map<string, DirectoryDestinationConfig>, written: Map<string, string>): void {
  const place = (key: string, label: string, path: string): PlacedPath =>
    ({ key, label, written: written.get(key) ?? path, path, physical: physicalPath(path) })
  const vols = [...volumes.values()].map(v => place(`volumes.${v.name}.path`, `volume ${v.name}`, v.path))
  const dests = [...destinations.values()].map(d => place(`destinations.${d.name}.path`, `destinations.${d.name}`, d.path))

  /** Refuses `b` (the later entry) if it overlaps `a`; `hint` says what would clear it. */
  const refuse = (a: PlacedPath, b: PlacedPath, hint: (relation: Relation) => string): void => {
    const found = overlap(a, b)
    if (found === undefined) return
    const err = new ConfigError(file, b.key, `a directory that neither contains nor lies inside ${a.label} (${quoted(a, found.resolved)})`,
      `${quoted(b, found.resolved)}, ${RELATION_TEXT[found.relation]}`)
    err.hint = hint(found.relation)
    throw err
  }
  vols.forEach((b, j) => {
    for (const a of vols.slice(0, j)) refuse(a, b, () => `give ${b.label} a directory of its own, neither inside nor around ${a.label}`)
  })
  for (const b of dests) {
    for (const a of vols) refuse(a, b, () => `a destination inside or around a volume would copy the volume into itself: point ${b.label} at a directory apart from every volume`)
  }
  dests.forEach((b, j) => {
    for (const a of dests.slice(0, j)) {
      refuse(a, b, (relation) => relation === 'same'
        ? `one directory is one copy: remove one of ${a.label} and ${b.label}, or point ${b.label} at another directory`
        : `a destination inside another is no second copy: give ${b.label} a directory of its own, neither inside nor around ${a.label}`)
    }
  })
}

function describe (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'an array'
  if (value !== null && typeof value === 'object') return 'a table'
  return `${typeof value} ${JSON.stringify(value)}`
}

class Validator {
  constructor (private readonly file: string) {}

  fail (key: string, expected: string, value: unknown): never {
    throw new ConfigError(this.file, key, expected, describe(value))
  }

  knownKeys (t: Table, allowed: string[], prefix: string): void {
    for (const k of Object.keys(t)) {
      if (!allowed.includes(k)) {
        throw new ConfigError(this.file, `${prefix}${k}`, `one of the known keys (${allowed.join(', ')})`, 'an unknown key')
      }
    }
  }

  table (value: unknown, key: string): Table {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) this.fail(key, 'a table', value)
    return value as Table
  }

  string (value: unknown, key: string): string {
    if (typeof value !== 'string') this.fail(key, 'a string', value)
    return value
  }

  name (value: unknown, key: string): string {
    const s = this.string(value, key)
    if (!isValidName(s)) this.fail(key, NAME_RULE, value)
    return s
  }

  nameKey (name: string, key: string): void {
    if (!isValidName(name)) throw new ConfigError(this.file, key, NAME_RULE, JSON.stringify(name))
  }

  /** With `relayed`, an entry may also be `PEER/NAME`: a directory only that peer reaches. */
  nameList (value: unknown, key: string, relayed = false): string[] {
    if (!Array.isArray(value)) this.fail(key, `an array of names (${NAME_RULE}${relayed ? ', or PEER/NAME' : ''})`, value)
    const out: string[] = []
    value.forEach((item, i) => {
      let n: string
      if (relayed && typeof item === 'string' && item.split('/').length === 2) {
        const [peer, dir] = item.split('/') as [string, string]
        if (!isValidName(peer) || !isValidName(dir)) this.fail(`${key}[${i}]`, `PEER/NAME, each part ${NAME_RULE}`, item)
        n = item
      } else {
        n = this.name(item, `${key}[${i}]`)
      }
      if (out.includes(n)) this.fail(`${key}[${i}]`, 'each name at most once', item)
      out.push(n)
    })
    return out
  }

  absolutePath (value: unknown, key: string): string {
    const s = this.string(value, key)
    if (!isAbsolute(s)) this.fail(key, 'an absolute path', value)
    if (s.includes('\0')) this.fail(key, 'a path without NUL bytes', 'a NUL byte')
    const n = normalize(s)
    return n.length > 1 && n.endsWith(sep) ? n.slice(0, -1) : n
  }

  boolean (value: unknown, key: string): boolean {
    if (typeof value !== 'boolean') this.fail(key, 'true or false', value)
    return value
  }

  /** `HOST:PORT` (`[::1]:PORT` for IPv6), or "" for off. */
  httpListen (value: unknown, key: string): HttpListen | null {
    const s = this.string(value, key)
    if (s === '') return null
    const parsed = parseHttpListen(s)
    if (parsed === undefined) this.fail(key, 'HOST:PORT such as "127.0.0.1:4780" (or "" to turn HTTP off)', value)
    return parsed
  }

  duration (value: unknown, key: string): number {
    const s = this.string(value, key)
    const ms = parseDurationMs(s)
    if (ms === undefined) this.fail(key, DURATION_RULE, value)
    return ms
  }

  listen (value: unknown, key: string): string[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(key, 'a non-empty array of TCP multiaddrs such as "/ip4/0.0.0.0/tcp/4701"', value)
    return value.map((item, i) => {
      const s = this.string(item, `${key}[${i}]`)
      const problem = multiaddrProblem(s, { allowPeerId: false })
      if (problem !== undefined) {
        const suggestion = suggestMultiaddr(s)
        const err = new ConfigError(this.file, `${key}[${i}]`, `a TCP multiaddr (${MULTIADDR_EXPLAINED})`, `${describe(item)}: ${problem}`)
        err.hint = suggestion === undefined ? 'e.g. listen = ["/ip4/0.0.0.0/tcp/4701"]' : `did you mean ${JSON.stringify(suggestion)}?`
        throw err
      }
      return s
    })
  }

}
