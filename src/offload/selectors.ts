/**
 * Which files an offload or restore is about: volume-relative paths or prefixes (`.` is the
 * whole volume), optionally only files older than a duration. Absolute paths and `..` are
 * refused: a selector can never reach outside the volume.
 */
import { SelectorError } from '../errors.js'

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
