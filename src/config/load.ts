/**
 * Loads and validates `cairn.toml`. Every refusal names the file, the key and what was
 * expected, so the operator can fix the line without reading code.
 *
 * Validation happens in two phases: `parseConfig` checks everything the file alone can
 * decide; `checkConfigAgainstPeers` (in resolve.ts) checks names that depend on enrollment.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, normalize, relative, sep } from 'node:path'
import { parse as parseToml, TomlError } from 'smol-toml'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError } from '../errors.js'
import { NAME_RULE, isValidName } from '../names.js'
import { DURATION_RULE, parseDurationMs } from './duration.js'
import { DEFAULT_LISTEN, DEFAULT_PULL_EVERY } from './types.js'
import type { Config, DirectoryDestinationConfig, VolumeConfig } from './types.js'

type Table = Record<string, unknown>

const TOP_KEYS = ['name', 'listen', 'serve', 'volumes', 'destinations']
const SERVE_KEYS = ['pull_every']
const VOLUME_KEYS = ['path', 'push_to', 'offload_requires', 'offload_max_evidence_age']
const DESTINATION_KEYS = ['type', 'path']
const DESTINATION_TYPES = ['directory']

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
    destinations.set(destName, { name: destName, type: 'directory', path: v.absolutePath(t.path, `${key}.path`) })
  }

  const volumes = new Map<string, VolumeConfig>()
  const volTable = v.table(doc.volumes ?? {}, 'volumes')
  for (const [volName, raw] of Object.entries(volTable)) {
    const key = `volumes.${volName}`
    v.nameKey(volName, key)
    const t = v.table(raw, key)
    v.knownKeys(t, VOLUME_KEYS, `${key}.`)
    const path = v.absolutePath(t.path, `${key}.path`)
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
    volumes.set(volName, { name: volName, path, pushTo, offloadRequires, offloadMaxEvidenceAgeMs: age })
  }

  checkPathOverlaps(file, volumes, destinations)
  return { file, name, listen, serve: { pullEveryMs }, volumes, destinations }
}

function contains (outer: string, inner: string): boolean {
  const rel = relative(outer, inner)
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel))
}

/** A destination inside a volume (or a volume inside another) would copy data into itself. */
function checkPathOverlaps (file: string, volumes: Map<string, VolumeConfig>, destinations: Map<string, DirectoryDestinationConfig>): void {
  const vols = [...volumes.values()]
  for (const a of vols) {
    for (const b of vols) {
      if (a !== b && contains(a.path, b.path)) {
        throw new ConfigError(file, `volumes.${b.name}.path`, `a directory outside volume ${a.name} (${a.path})`, JSON.stringify(b.path))
      }
    }
    for (const d of destinations.values()) {
      if (contains(a.path, d.path) || contains(d.path, a.path)) {
        throw new ConfigError(file, `destinations.${d.name}.path`, `a directory that neither contains nor lies inside volume ${a.name} (${a.path})`, JSON.stringify(d.path))
      }
    }
  }
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
      let ok = false
      try {
        const protos = multiaddr(s).getComponents().map(c => c.name)
        ok = protos.length === 2 && ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(protos[0] ?? '') && protos[1] === 'tcp'
      } catch {
        ok = false
      }
      if (!ok) this.fail(`${key}[${i}]`, 'a TCP multiaddr such as "/ip4/0.0.0.0/tcp/4701"', item)
      return s
    })
  }
}
