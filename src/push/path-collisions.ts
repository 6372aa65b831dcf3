/**
 * The paths a push must not write because the destination would store them as one file
 * (DESIGN invariant 26): `IMG_0001.JPG` and `img_0001.jpg` in a case-folding directory, or the
 * NFC and NFD spellings of one name in a normalization-folding one. Written anyway, the second
 * replaces the first after the first was read back, and both would count as durable.
 *
 * Every component of a path is folded as the directory holding it folds (src/push/fold-probe.ts),
 * so `Photos/x` and `photos/x` are one path only where the tree root folds case. Paths that fold
 * to one path are refused together, each with a reason naming the other; a planned path that
 * folds onto a path already there (and not replaced by this push) is refused alone, and what is
 * there is left as it is.
 *
 * Only paths that the widest fold (case and normalization) joins are probed for: a push with no
 * such pair probes nothing and writes no probe file.
 */
import { join } from 'node:path'
import { foldName, type FoldProbe } from './fold-probe.js'

const WIDEST = { foldsCase: true, foldsNormalization: true }

function widestFold (path: string): string {
  return path.split('/').map(s => foldName(s, WIDEST)).join('/')
}

async function foldedPath (probe: FoldProbe, treeRoot: string, path: string): Promise<string> {
  const segments = path.split('/')
  const folded: string[] = []
  for (let i = 0; i < segments.length; i++) {
    const b = await probe.behaviourOf(join(treeRoot, ...segments.slice(0, i)))
    folded.push(foldName(segments[i] as string, b))
  }
  return folded.join('/')
}

function addTo (groups: Map<string, string[]>, key: string, path: string): void {
  const g = groups.get(key)
  if (g === undefined) groups.set(key, [path])
  else g.push(path)
}

/** The kind of fold that joins two paths: case when their NFC spellings still differ. */
function kindOf (a: string, b: string): 'case' | 'normalization' {
  return a.normalize('NFC') === b.normalize('NFC') ? 'normalization' : 'case'
}

/**
 * Which of `planned` (volume-relative paths, under `treeRoot`) this push must refuse, each with
 * its reason. `existing` are paths already at the destination that the push does not replace
 * (the planned ones are skipped there). `where` names the destination in the reasons.
 */
export async function findPathCollisions (probe: FoldProbe, treeRoot: string, planned: readonly string[], existing: Iterable<string>, where: string): Promise<Map<string, string>> {
  const plannedSet = new Set(planned)
  const wide = new Map<string, string[]>()
  for (const p of plannedSet) addTo(wide, widestFold(p), p)
  for (const p of existing) {
    if (plannedSet.has(p)) continue
    const g = wide.get(widestFold(p))
    // an existing path matters only where a planned one could fold onto it
    if (g !== undefined && !g.includes(p)) g.push(p)
  }
  const refused = new Map<string, string>()
  for (const candidates of wide.values()) {
    if (candidates.length < 2) continue
    const exact = new Map<string, string[]>()
    for (const p of candidates) addTo(exact, await foldedPath(probe, treeRoot, p), p)
    for (const same of exact.values()) {
      if (same.length < 2) continue
      same.sort()
      for (const p of same) {
        if (!plannedSet.has(p)) continue
        const other = same.find(o => o !== p) as string
        const there = plannedSet.has(other) ? '' : ', which is already there,'
        refused.set(p, `${kindOf(p, other)}-collision: "${p}" and "${other}"${there} would be one file at ${where}`)
      }
    }
  }
  return refused
}
