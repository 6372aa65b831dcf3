/**
 * Which files an offload or restore is about: volume-relative paths or prefixes (`.` is the
 * whole volume), optionally only files older than a duration. Absolute paths and `..` are
 * refused: a selector can never reach outside the volume.
 */
import { SelectorError } from '../errors.js'
import { editDistance } from '../naming.js'

export interface Selection {
  matches: (path: string) => boolean
  /** Only files whose mtime is older than this instant (ns), if set. */
  olderThanNs: number | undefined
}

export function parseSelectors (selectors: string[], olderThanMs: number | undefined, nowNs: number): Selection {
  if (selectors.length === 0 && olderThanMs === undefined) throw new SelectorError('(none)', 'at least one path (or --older-than) is required; `.` selects the whole volume')
  const prefixes: string[] = []
  let all = selectors.length === 0
  for (const raw of selectors) {
    if (raw.startsWith('/')) throw new SelectorError(raw, 'absolute paths are not allowed')
    const trimmed = raw.replace(/\/+$/, '').replace(/^\.\/+/, '')
    if (trimmed === '.' || trimmed === '') { all = true; continue }
    if (trimmed.split('/').some(s => s === '..' || s === '.' || s === '')) throw new SelectorError(raw, '"..", "." and empty segments are not allowed')
    if (trimmed.includes('\0')) throw new SelectorError(raw, 'NUL is not allowed')
    prefixes.push(trimmed)
  }
  return {
    matches: (path) => all || prefixes.some(p => path === p || path.startsWith(p + '/')),
    olderThanNs: olderThanMs === undefined ? undefined : nowNs - olderThanMs * 1e6
  }
}

/** Candidates kept by common prefix before the (quadratic) edit distance ranks them. */
const CLOSEST_PREFIX_POOL = 64

function commonPrefix (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

/**
 * The paths closest to a selector that matched nothing: the CLOSEST_PREFIX_POOL paths (or
 * their directories) sharing the longest prefix with it, ranked by edit distance. One pass
 * over the paths; a million paths never sit in one array.
 */
export function closestPaths (selector: string, paths: Iterable<string>, n = 3): string[] {
  const wanted = selector.replace(/\/+$/, '').replace(/^\.\/+/, '')
  const pool: Array<{ path: string, prefix: number }> = []
  const seen = new Set<string>()
  for (const p of paths) {
    // a directory is a selector too: offer the directory at the selector's depth
    const depth = wanted.split('/').length
    const parts = p.split('/')
    const candidates = parts.length > depth ? [p, parts.slice(0, depth).join('/') + '/'] : [p]
    for (const c of candidates) {
      if (seen.has(c)) continue
      const prefix = commonPrefix(wanted, c)
      if (pool.length < CLOSEST_PREFIX_POOL) { pool.push({ path: c, prefix }); seen.add(c); continue }
      let worst = 0
      for (let i = 1; i < pool.length; i++) if ((pool[i] as { prefix: number }).prefix < (pool[worst] as { prefix: number }).prefix) worst = i
      if (prefix > (pool[worst] as { prefix: number }).prefix) { seen.delete((pool[worst] as { path: string }).path); pool[worst] = { path: c, prefix }; seen.add(c) }
    }
  }
  return pool
    .map(x => ({ ...x, d: editDistance(wanted, x.path.replace(/\/$/, '')) }))
    .sort((a, b) => a.d - b.d || b.prefix - a.prefix || (a.path < b.path ? -1 : 1))
    .slice(0, n)
    .map(x => x.path)
}

/** The first selector that matches none of `paths` (a prefix or the whole path), or undefined. */
export function unmatchedSelector (selectors: readonly string[], paths: () => Iterable<string>): string | undefined {
  const wanted = selectors.map(s => ({ raw: s, p: s.replace(/\/+$/, '').replace(/^\.\/+/, '') })).filter(s => s.p !== '.' && s.p !== '')
  if (wanted.length === 0) return undefined
  const matched = new Set<string>()
  for (const path of paths()) {
    for (const s of wanted) if (!matched.has(s.raw) && (path === s.p || path.startsWith(s.p + '/'))) matched.add(s.raw)
    if (matched.size === wanted.length) return undefined
  }
  return wanted.find(s => !matched.has(s.raw))?.raw
}
