/**
 * Ground truth: which bytes are where, read from the real temp directories (never from cairn's
 * store), plus the damage the simulator injected and whether any real read has seen it since.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Fleet, Location } from './fleet.js'

export function locKey (l: Location): string {
  return l.kind === 'node' ? `node:${l.node}` : `dir:${l.dir}`
}

/** The absolute path of `path` of volume photos at a location. */
export function truePath (fleet: Fleet, l: Location, path: string): string {
  return l.kind === 'node' ? join(fleet.nodes[l.node].dir, path) : join(fleet.dirs[l.dir].path, 'photos', path)
}

/** SHA-256 (hex) of the file at a location, or null when there is no readable file. */
export function trueHash (fleet: Fleet, l: Location, path: string): string | null {
  // bytes in the bare mount point of an unmounted disk are not on the disk (the mount hides them)
  if (l.kind === 'node' && fleet.disksAway.has(l.node)) return null
  try {
    return createHash('sha256').update(readFileSync(truePath(fleet, l, path))).digest('hex')
  } catch {
    return null
  }
}

/** Every user file under a directory (relative paths; `.cairn*` names skipped). */
export function listFiles (dir: string, prefix = ''): string[] {
  let entries
  try { entries = readdirSync(join(dir, prefix), { withFileTypes: true }) } catch { return [] }
  const out: string[] = []
  for (const e of entries) {
    if (e.name.startsWith('.cairn')) continue
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`
    if (e.isDirectory()) out.push(...listFiles(dir, rel))
    else if (e.isFile()) out.push(rel)
  }
  return out.sort()
}

export type DamageKind = 'content' | 'presence'

interface Damage { prefix: string, kind: DamageKind, atMs: number, step: number, seen: Set<string> }

function covers (d: Damage, path: string): boolean {
  return d.prefix === path || d.prefix === '' || path.startsWith(d.prefix + '/')
}

/**
 * Damage the simulator injected per location (a path, or a subtree prefix), until a real read
 * sees it: a full index of a node's volume re-hashes every file there; a shallow index sees
 * which files exist and re-hashes some; a verify or push re-hashes the paths it re-hashes (the
 * simulator watches which, through the entry points' injectable filesystem).
 */
export class DamageLog {
  readonly #unseen = new Map<string, Damage[]>()

  damaged (l: Location, prefix: string, kind: DamageKind, step: number): void {
    const k = locKey(l)
    const list = this.#unseen.get(k) ?? []
    list.push({ prefix, kind, atMs: Date.now(), step, seen: new Set() })
    this.#unseen.set(k, list)
  }

  /** Everything at the location was read (damage injected after the read began is kept). */
  readAll (l: Location, startedMs: number, kinds: readonly DamageKind[] = ['content', 'presence']): void {
    const k = locKey(l)
    this.#unseen.set(k, (this.#unseen.get(k) ?? []).filter(d => d.atMs > startedMs || !kinds.includes(d.kind)))
  }

  /** These paths were read at the location. */
  readPaths (l: Location, paths: Iterable<string>, startedMs: number): void {
    const list = this.#unseen.get(locKey(l)) ?? []
    for (const p of paths) for (const d of list) if (d.atMs <= startedMs && covers(d, p)) d.seen.add(p)
  }

  /**
   * Damage at (l, path) no read has seen. Under an age limit, damage older than the limit does
   * not count: a gate that passes claims a real read within the limit, and such a read would
   * have seen it.
   */
  unseen (l: Location, path: string, maxAgeMs: number | undefined): { step: number } | undefined {
    const cutoff = maxAgeMs === undefined ? -Infinity : Date.now() - maxAgeMs
    return (this.#unseen.get(locKey(l)) ?? []).find(d => d.atMs >= cutoff && covers(d, path) && !d.seen.has(path))
  }
}
