/**
 * What the crash harness checks after a kill and after the restart, from the real trees and the
 * databases (opened directly; the children are gone by then):
 *  - the DESIGN invariants a database shows offline (integrity, foreign keys, insert-only and
 *    complete history, one live row per path, no run left `running`);
 *  - the simulator's oracle: no evidence the gate would count for bytes that are not there
 *    (local claims, a peer's custody used through a placement, placements of live content), and
 *    no file an `offload --dry-run` passes whose bytes are missing at a required target;
 *  - nothing lost: every file that existed before is at its path, in `.cairn-history/`, or
 *    (offload) on every required target; nothing outside the operation's scope changed; no
 *    partly written file is visible.
 * Ground truth comes from test/sim/truth.ts (`listFiles`) and the gate's own claim rule
 * (`claimCovers`), never from re-deriving what cairn meant to write.
 */
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { claimCovers, type Hole } from '../../src/evidence/claims.js'
import { listFiles } from '../sim/truth.js'
import { LOCATIONS, type Location, type World } from './world.js'

export type Tree = Map<string, string>
export type Trees = Record<Location, Tree>

export function sha256 (path: string): string | null {
  try { return createHash('sha256').update(readFileSync(path)).digest('hex') } catch { return null }
}

export function readTree (dir: string): Tree {
  return new Map(listFiles(dir).map(p => [p, sha256(join(dir, p)) ?? '']))
}

/** Every hash kept under a tree's `.cairn-history/` (any depth). */
export function historyHashes (dir: string): Set<string> {
  const out = new Set<string>()
  const root = join(dir, '.cairn-history')
  if (!existsSync(root)) return out
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.add(sha256(join(e.parentPath, e.name)) ?? '')
  }
  return out
}

export function readTrees (w: World): Trees {
  return Object.fromEntries(LOCATIONS.map(l => [l, readTree(w.trees[l])])) as Trees
}

/** Files left under `.cairn-staging/` of each tree (cruft after a kill; never user data). */
export function stagingLeftovers (w: World): string[] {
  const out: string[] = []
  for (const l of LOCATIONS) {
    const root = join(w.trees[l], '.cairn-staging')
    if (!existsSync(root)) continue
    for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) if (e.isFile()) out.push(`${l}:${join(e.parentPath, e.name).slice(w.trees[l].length + 1)}`)
  }
  return out
}

const HISTORY_TABLES = ['vector_history', 'vector_retractions', 'run_events', 'assertions', 'contents']

function rowKey (row: unknown): string {
  return JSON.stringify(row, (_k, v: unknown) => (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') ? Buffer.from((v as { data: number[] }).data).toString('hex') : v)
}

export interface DbFacts {
  history: Record<string, Map<number, string>>
}

function openDb (home: string): Database.Database {
  return new Database(join(home, 'cairn.db'), { fileMustExist: true })
}

export function dbFacts (home: string): DbFacts {
  const db = openDb(home)
  try {
    const history: Record<string, Map<number, string>> = {}
    for (const t of HISTORY_TABLES) {
      history[t] = new Map((db.prepare(`SELECT * FROM ${t}`).all() as Array<{ id: number }>).map(r => [r.id, rowKey(r)]))
    }
    return { history }
  } finally {
    db.close()
  }
}

interface FileRow { path: string, status: string, hash: Buffer, origin_node_id: number, origin_run_id: number, content_id: number }
interface VectorRow { volume_id: number, destination: string, origin_node_id: number, origin_run_id: number, floor_run: number, exceptions: string, source_node_id: number | null, verify_method: string | null }

export interface DbCheckOptions {
  /** Which world location a node's own tree is. */
  self: Location
  /** Whether a `running` run is a failure now (after the restart's reaping). */
  afterRestart: boolean
  before: DbFacts
}

/** Invariants and evidence of one node's database against the real trees. Returns problems. */
export function checkDb (w: World, home: string, trees: Trees, o: DbCheckOptions): string[] {
  const problems: string[] = []
  const db = openDb(home)
  try {
    const integrity = db.pragma('integrity_check', { simple: true })
    if (integrity !== 'ok') problems.push(`integrity_check: ${String(integrity)}`)
    const fk = db.pragma('foreign_key_check') as unknown[]
    if (fk.length > 0) problems.push(`foreign_key_check: ${JSON.stringify(fk).slice(0, 300)}`)
    // history is insert-only: every row from before is still there, unchanged
    for (const t of HISTORY_TABLES) {
      const now = new Map((db.prepare(`SELECT * FROM ${t}`).all() as Array<{ id: number }>).map(r => [r.id, rowKey(r)]))
      for (const [id, row] of o.before.history[t] ?? new Map<number, string>()) {
        if (now.get(id) !== row) problems.push(`${t} row ${id} changed or vanished`)
      }
    }
    // history is complete: every live component has the history row that wrote it
    const missingHistory = db.prepare(`SELECT v.destination, v.origin_node_id, v.origin_run_id FROM vector v WHERE NOT EXISTS (
      SELECT 1 FROM vector_history h WHERE h.volume_id = v.volume_id AND h.destination = v.destination AND h.origin_node_id = v.origin_node_id
        AND h.origin_run_id = v.origin_run_id AND h.verify_method IS v.verify_method AND h.source_node_id IS v.source_node_id)`).all()
    if (missingHistory.length > 0) problems.push(`live components without their history row: ${JSON.stringify(missingHistory)}`)
    const dup = db.prepare("SELECT volume_id, path, count(*) AS n FROM files WHERE status <> 'superseded' GROUP BY volume_id, path HAVING n > 1").all()
    if (dup.length > 0) problems.push(`more than one live row per path: ${JSON.stringify(dup)}`)
    if (o.afterRestart) {
      const running = db.prepare("SELECT id, kind FROM runs WHERE status = 'running'").all()
      if (running.length > 0) problems.push(`runs still running after the restart: ${JSON.stringify(running)}`)
    }

    // the oracle: evidence only for bytes that are there
    const self = (db.prepare('SELECT id, node_id FROM nodes WHERE is_self = 1').get() as { id: number, node_id: string })
    const nodeIdOf = new Map((db.prepare('SELECT id, node_id, name FROM nodes').all() as Array<{ id: number, node_id: string, name: string | null }>).map(n => [n.id, n]))
    // a directory this node writes itself, by its config name (the world names them usb, offsite)
    const dirs = new Map((db.prepare('SELECT key, local_name FROM destinations WHERE local_name IS NOT NULL AND forgotten_at_ns IS NULL').all() as Array<{ key: string, local_name: string }>).map(d => [d.key, d.local_name]))
    const locationOf = (destination: string): Location | undefined => {
      if (destination === self.node_id) return o.self
      const name = dirs.get(destination)
      if (name !== undefined) return name === 'usb' || name === 'offsite' ? name : undefined
      const peer = [...nodeIdOf.values()].find(n => n.node_id === destination)
      if (peer?.name === 'nas') return 'nas'
      if (peer?.name === 'laptop') return 'laptop'
      return undefined
    }
    const volume = db.prepare("SELECT id FROM volumes WHERE name = 'photos'").get() as { id: number } | undefined
    if (volume === undefined) return problems
    const live = db.prepare(`SELECT f.path, f.status, c.hash, f.origin_node_id, f.origin_run_id, f.content_id FROM files f JOIN contents c ON c.id = f.content_id
                             WHERE f.volume_id = ? AND f.status <> 'superseded'`).all(volume.id) as FileRow[]
    const present = live.filter(f => f.status === 'present')
    const placed = new Map((db.prepare('SELECT destination, path, content_id FROM placements WHERE volume_id = ?').all(volume.id) as Array<{ destination: string, path: string, content_id: number }>).map(p => [`${p.destination}\0${p.path}`, p.content_id]))
    const bytesThere = (l: Location, f: FileRow): boolean => trees[l].get(f.path) === f.hash.toString('hex')
    const components = db.prepare('SELECT * FROM vector WHERE volume_id = ?').all(volume.id) as VectorRow[]
    for (const c of components) {
      const l = locationOf(c.destination)
      if (l === undefined) continue
      const claim = { originRunId: c.origin_run_id, floorRunId: c.floor_run, exceptions: JSON.parse(c.exceptions) as Hole[] }
      const local = c.source_node_id === null
      // a peer's custody counts for a file only through this node's own placement there
      const relayed = !local && l !== 'nas' && l !== 'laptop'
      if (relayed) continue
      for (const f of present) {
        if (f.origin_node_id !== c.origin_node_id || !claimCovers(claim, f.path, f.origin_run_id)) continue
        if (!local && placed.get(`${c.destination}\0${f.path}`) !== f.content_id) continue
        if (!bytesThere(l, f)) problems.push(`evidence for absent bytes: ${local ? 'local' : 'peer-sourced'} component ${l}/${nodeIdOf.get(c.origin_node_id)?.name ?? c.origin_node_id} through run ${c.origin_run_id} covers ${f.path} (${f.hash.toString('hex').slice(0, 12)}) but ${l} holds ${trees[l].get(f.path)?.slice(0, 12) ?? 'nothing'}`)
      }
    }
    for (const f of live) {
      for (const [key, contentId] of placed) {
        const [destination, path] = key.split('\0') as [string, string]
        if (path !== f.path || contentId !== f.content_id) continue
        const l = locationOf(destination)
        if (l !== undefined && !bytesThere(l, f)) problems.push(`a placement of ${f.path} (${f.hash.toString('hex').slice(0, 12)}, ${f.status}) at ${l}, which holds ${trees[l].get(f.path)?.slice(0, 12) ?? 'nothing'}`)
      }
    }
    return problems
  } finally {
    db.close()
  }
}

/** Live rows of laptop's volume: path → status and hash (for the dry-run oracle). */
export function liveFiles (home: string): Map<string, { status: string, hash: string }> {
  const db = openDb(home)
  try {
    const rows = db.prepare(`SELECT f.path, f.status, c.hash FROM files f JOIN contents c ON c.id = f.content_id JOIN volumes v ON v.id = f.volume_id
                             WHERE v.name = 'photos' AND f.status <> 'superseded'`).all() as Array<{ path: string, status: string, hash: Buffer }>
    return new Map(rows.map(r => [r.path, { status: r.status, hash: r.hash.toString('hex') }]))
  } finally {
    db.close()
  }
}

export interface DryRun { files?: Array<{ path: string, outcome: string }> }

/** The dry run passes only files whose bytes are at every required target (usb and nas). */
export function checkDryRun (w: World, report: DryRun, trees: Trees): string[] {
  const problems: string[] = []
  const rows = liveFiles(w.laptop)
  for (const f of report.files ?? []) {
    if (f.outcome !== 'offloaded') continue
    const want = rows.get(f.path)?.hash
    for (const l of ['usb', 'nas'] as const) {
      if (want === undefined || trees[l].get(f.path) !== want) problems.push(`offload --dry-run passes ${f.path} but ${l} holds ${trees[l].get(f.path)?.slice(0, 12) ?? 'nothing'} there (want ${want?.slice(0, 12) ?? '?'})`)
    }
  }
  return problems
}

export interface Scope {
  /** Locations the operation may write. */
  writes: Location[]
  /** Offload: laptop paths under this prefix may go once on every required target. */
  offloadPrefix?: string
}

/**
 * Nothing lost and nothing out of scope: `before` and `beforeHistory` are the trees as the
 * operation found them, `sources` the hashes the operation may legitimately bring in.
 */
export function checkNothingLost (w: World, before: Trees, after: Trees, scope: Scope, sources: Set<string>): string[] {
  const problems: string[] = []
  for (const l of LOCATIONS) {
    const history = historyHashes(w.trees[l])
    for (const [path, hash] of before[l]) {
      if (after[l].get(path) === hash || history.has(hash)) continue
      if (l === 'laptop' && scope.offloadPrefix !== undefined && path.startsWith(scope.offloadPrefix) && !after[l].has(path) &&
          after.usb.get(path) === hash && after.nas.get(path) === hash) continue
      problems.push(`lost: ${l}:${path} (${hash.slice(0, 12)}) is ${after[l].has(path) ? `now ${after[l].get(path)?.slice(0, 12) ?? ''}` : 'gone'} and not in .cairn-history/${l === 'laptop' && scope.offloadPrefix !== undefined ? ' nor on every required target' : ''}`)
    }
    for (const [path, hash] of after[l]) {
      if (before[l].get(path) === hash) continue
      if (!scope.writes.includes(l)) problems.push(`out of scope: ${l}:${path} changed (${before[l].get(path)?.slice(0, 12) ?? 'new'} → ${hash.slice(0, 12)})`)
      else if (!sources.has(hash)) problems.push(`a file no source holds is visible: ${l}:${path} (${hash.slice(0, 12)}), a partial or foreign write`)
    }
  }
  return problems
}

/** User-visible trees equal (for convergence against a clean run). */
export function diffTrees (a: Trees, b: Trees): string[] {
  const out: string[] = []
  for (const l of LOCATIONS) {
    for (const [p, h] of a[l]) if (b[l].get(p) !== h) out.push(`${l}:${p} ${h.slice(0, 12)} vs ${b[l].get(p)?.slice(0, 12) ?? 'absent'}`)
    for (const p of b[l].keys()) if (!a[l].has(p)) out.push(`${l}:${p} absent vs ${b[l].get(p)?.slice(0, 12) ?? ''}`)
  }
  return out
}
