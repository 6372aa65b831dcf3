/**
 * Simulator steps: concrete, JSON-serialisable, replayable. A step whose object no longer exists
 * (a file removed by an earlier step, say) does nothing, so any subset of a step list replays.
 * Steps are executed only through cairn's real entry points, or as plain filesystem acts of a
 * user, a disk or a fault.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { systemClock } from '../../src/clock.js'
import { CairnError } from '../../src/errors.js'
import { homePaths } from '../../src/home.js'
import { hashFile } from '../../src/index/hash-file.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume, type OffloadInit, type OffloadReport } from '../../src/offload/offload.js'
import { restoreFiles } from '../../src/offload/restore.js'
import { peerSource } from '../../src/fetch/peer-source.js'
import { MARKER_FILE } from '../../src/push/destination-marker.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { verifyDirectory } from '../../src/push/verify-directory.js'
import { verifyPeer } from '../../src/verify/verify-peer.js'
import { pullVolume } from '../../src/pull/pull.js'
import { enrollSigner, resetDestination, revokeSource } from '../../src/store/revocation.js'
import { openStore } from '../../src/store/store.js'
import { DIR_LABEL, DIR_OWNER, DIRS, dirNamed, NODES, peerName, peerNamed, PUSH_TO, type DirName, type Fleet, type Location, type NodeName } from './fleet.js'
import { forgedPull } from './forge.js'
import { Prng } from './prng.js'
import { DamageLog, listFiles, trueHash, truePath } from './truth.js'

/** A node's volume or a directory destination. */
export type At = NodeName | DirName

export type Step =
  | { op: 'add', node: NodeName, path: string, hex: string }
  | { op: 'edit', node: NodeName, path: string, hex: string }
  | { op: 'delete', node: NodeName, path: string }
  | { op: 'rename', node: NodeName, from: string, to: string }
  | { op: 'unmount', at: At, path: string }
  | { op: 'remount', at: At, path: string }
  | { op: 'corrupt', at: At, path: string }
  | { op: 'destroy', at: At, path: string }
  | { op: 'unmark', dir: DirName }
  | { op: 'reset', dir: DirName }
  | { op: 'index', node: NodeName, shallow?: boolean }
  /** Normal work in one go: index, push to every destination in order, pull the peers it pushes to. */
  | { op: 'sync', node: NodeName }
  | { op: 'push', node: NodeName, to: string, shallow?: boolean }
  | { op: 'kill', node: NodeName, to: string, when: 'snapshot' | 'transfer' }
  | { op: 'pull', node: NodeName, from: NodeName }
  | { op: 'verify', dir: DirName }
  /** `verify --at PEER [--sample N]`: the peer re-reads what it holds (over /cairn/verify/1.0.0) and signs a fresh assertion. */
  | { op: 'verifyPeer', node: NodeName, peer: NodeName, sample?: number }
  | { op: 'offload', node: NodeName, selector: string }
  | { op: 'offload2', laptop: string, nas: string }
  | { op: 'restore', node: NodeName, selector: string }
  /** `restore --from PEER` (or `--from nas/offsite`: nas reads its directory for the restorer) over /cairn/fetch/1.0.0. */
  | { op: 'restorePeer', node: NodeName, from: NodeName, dir?: 'offsite', selector: string }
  | { op: 'revoke', node: NodeName, peer: NodeName }
  | { op: 'reenroll', node: NodeName, peer: NodeName }
  | { op: 'sleep', ms: number }
  | { op: 'forge', signer: NodeName, victim: NodeName, claims: string[] }

export type Op = Step['op']

export function locOfAt (at: At): Location {
  return (NODES as readonly string[]).includes(at) ? { kind: 'node', node: at as NodeName } : { kind: 'dir', dir: at as DirName }
}

export interface OffloadCheck {
  node: NodeName
  /** Files the step marked offloaded, with the hash they were indexed with (hex). */
  offloaded: Array<{ path: string, hash: string }>
  report: OffloadReport
}

export interface World {
  fleet: Fleet
  damage: DamageLog
  /** `${at}\0${path}` of subtrees moved to the attic. */
  unmounted: Set<string>
  /** Directories whose marker the simulator removed and no reset has cleared. */
  unmarked: Set<DirName>
  stepNo: number
  /** Unexpected (non-CairnError) exceptions thrown by entry points. */
  errors: string[]
  /** One line per step. */
  log: string[]
  /** Wall-clock per step kind: [count, ms]. */
  opMs: Map<string, [number, number]>
}

export function newWorld (fleet: Fleet): World {
  return { fleet, damage: new DamageLog(), unmounted: new Set(), unmarked: new Set(), stepNo: 0, errors: [], log: [], opMs: new Map() }
}

const GHOST_PID = (() => {
  try { return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) + 1 } catch { return 4_194_305 }
})()

class Killed extends Error {}

/** How long an offload asks custodians to hold (short, so a scenario can outwait a hold). */
export const SIM_HOLD_MS = 1000

function bytesOf (hex: string): Buffer { return Buffer.from(hex, 'hex') }

/** A user's file lands with an mtime an hour in the past, as photos copied in keep theirs (no read of it is "racy"). */
function writeUserFile (abs: string, data: Buffer): void {
  mkdirSync(dirname(abs), { recursive: true })
  writeFileSync(abs, data)
  const past = Date.now() / 1000 - 3600
  utimesSync(abs, past, past)
}

function isFile (abs: string): boolean {
  try { return statSync(abs).isFile() } catch { return false }
}

/** Same size, different bytes, mtime restored: a quiet change only a re-hash sees. */
function quietRewrite (abs: string, hex: string | undefined): boolean {
  if (!isFile(abs)) return false
  const old = readFileSync(abs)
  let data: Buffer
  if (hex !== undefined && hex.length > 0) {
    const src = bytesOf(hex)
    data = Buffer.alloc(old.length)
    for (let i = 0; i < data.length; i++) data[i] = src[i % src.length] ?? 0
  } else {
    data = Buffer.from(old)
    for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) ^ 0x5a
  }
  if (data.equals(old)) { if (data.length === 0) return false; data[0] = (data[0] ?? 0) ^ 0xff }
  // keep the mtime to the nanosecond (utimes from JS loses sub-microsecond precision)
  execFileSync('sh', ['-c', 'touch -r "$1" "$1.mtime" && cat > "$1" && touch -r "$1.mtime" "$1" && rm "$1.mtime"', 'sh', abs], { input: data })
  return true
}

export type ExecResult = { note: string, check?: OffloadCheck[] }

/** What a node's own name `to` points at: a configured directory (its config is used), or a peer. */
function targetOn (node: NodeName, to: string): { peer: NodeName } | { dir: DirName } | undefined {
  const dir = dirNamed(node, to)
  if (dir !== undefined) return { dir }
  const peer = peerNamed(node, to)
  return peer === undefined ? undefined : { peer }
}

function liveHashes (w: World, node: NodeName): Map<string, { hash: string, status: string }> {
  const n = w.fleet.nodes[node].n
  const vol = n.store.volumes.get('photos')
  const out = new Map<string, { hash: string, status: string }>()
  if (vol === undefined) return out
  for (const [p, f] of n.store.files.live(vol.id)) out.set(p, { hash: Buffer.from(f.hash).toString('hex'), status: f.status })
  return out
}

async function offloadOn (w: World, node: NodeName, selector: string, dryRun: boolean): Promise<OffloadCheck> {
  const s = w.fleet.nodes[node]
  const before = liveHashes(w, node)
  const init = {
    store: s.n.store, config: s.n.config, volume: s.volume, selectors: [selector], dryRun, perFile: true, logger: s.n.logger,
    host: s.n.node?.host as Libp2p | undefined,
    holdDurationMs: SIM_HOLD_MS
  }
  const report = await offloadVolume(init as OffloadInit)
  const after = dryRun ? undefined : liveHashes(w, node)
  const marked = new Set<string>()
  for (const f of report.files ?? []) if (f.outcome === 'offloaded') marked.add(f.path)
  if (after !== undefined) {
    for (const [p, f] of after) if (f.status === 'offloaded' && before.get(p)?.status === 'present') marked.add(p)
  }
  const offloaded = [...marked].sort().flatMap(p => {
    const b = before.get(p)
    return b === undefined ? [] : [{ path: p, hash: b.hash }]
  })
  return { node, offloaded, report }
}

export { offloadOn }

async function push (w: World, node: NodeName, to: string, shallow: boolean, hooks?: { afterSnapshot?: () => void, tamper?: (path: string, c: Uint8Array) => Uint8Array }, ghost = false): Promise<string> {
  const s = w.fleet.nodes[node]
  const target = targetOn(node, to)
  if (target === undefined) return `unknown target ${to}`
  const store = ghost ? openStore({ path: homePaths(s.n.home).db, clock: systemClock, logger: s.n.logger, pid: GHOST_PID }) : s.n.store
  try {
    if ('peer' in target) {
      const host = s.n.node?.host
      if (host === undefined) return 'not serving'
      const peer = store.nodes.byNodeId(w.fleet.nodes[target.peer].n.key.nodeId)
      if (peer === undefined) return 'peer unknown'
      const r = await pushToPeer({ store, volume: s.volume, peer, host, logger: s.n.logger, hooks, frameDeadlineMs: 3000, finishDeadlineMs: 5000 })
      return `${r.status} sent=${r.filesSent}${r.error !== null ? ' ' + r.error.slice(0, 80) : ''}`
    }
    // the node's own config entry: desk's `share` is laptop's usb directory under desk's name
    const destination = s.n.config.destinations.get(to)
    if (destination === undefined) return `no destination ${to} on ${node}`
    const started = Date.now()
    const watched = watchingFs(join(w.fleet.dirs[target.dir].path, 'photos'))
    const r = await pushToDirectory({ store, volume: s.volume, destination, shallow, logger: s.n.logger, hooks, fs: watched.fs })
    w.damage.readPaths({ kind: 'dir', dir: target.dir }, watched.read, started)
    return `${r.status} sent=${r.filesSent}${r.error !== null ? ' ' + r.error.slice(0, 80) : ''}`
  } finally {
    if (ghost) store.close()
  }
}

/** Each live present file's read instant at a node (what a re-read moves). */
function readInstants (s: { n: { store: import('../../src/store/store.js').Store } }): Map<string, number | null> {
  const vol = s.n.store.volumes.get('photos')
  const out = new Map<string, number | null>()
  if (vol === undefined) return out
  for (const f of s.n.store.files.listLive(vol.id)) if (f.status === 'present') out.set(f.path, f.readAtNs)
  return out
}

/** The real directory filesystem, noting which paths under `tree` were re-hashed (real reads). */
function watchingFs (tree: string): { fs: DirectoryFs, read: string[] } {
  const read: string[] = []
  const fs: DirectoryFs = {
    ...nodeDirectoryFs,
    hash: async (path) => {
      const h = await nodeDirectoryFs.hash(path)
      const rel = relative(tree, path)
      if (!rel.startsWith('..') && !rel.startsWith('.cairn')) read.push(rel)
      return h
    }
  }
  return { fs, read }
}

function dirOf (w: World, at: At): string {
  const l = locOfAt(at)
  return l.kind === 'node' ? w.fleet.nodes[l.node].dir : join(w.fleet.dirs[l.dir].path, 'photos')
}

/**
 * `unmount` of path '' at a node: its whole volume disk goes away and leaves the bare mount
 * point, an empty directory (everything at the root, its `.cairn-volume` marker included, moves
 * to the attic). cairn must tell that from an empty volume: index, receive, offload and holds
 * refuse (docs/volumes.md). Files a user writes into the bare mount point meanwhile are hidden
 * again when the disk comes back, as a real mount hides them.
 */
function unmountDisk (w: World, at: At): ExecResult {
  const l = locOfAt(at)
  if (l.kind !== 'node') return { note: 'noop' }
  const key = `${at}\u0000`
  const root = dirOf(w, at)
  const attic = join(w.fleet.attic, at, '.disk')
  if (w.unmounted.has(key) || existsSync(attic)) return { note: 'noop' }
  const files = listFiles(root)
  mkdirSync(dirname(attic), { recursive: true })
  renameSync(root, attic)
  mkdirSync(root)
  w.unmounted.add(key)
  w.fleet.disksAway.add(l.node)
  for (const p of files) w.damage.damaged(l, p, 'presence', w.stepNo)
  return { note: `disk unmounted (${files.length} files)` }
}

function remountDisk (w: World, at: At): ExecResult {
  const l = locOfAt(at)
  const key = `${at}\u0000`
  const root = dirOf(w, at)
  const attic = join(w.fleet.attic, at, '.disk')
  if (l.kind !== 'node' || !w.unmounted.has(key) || !existsSync(attic)) return { note: 'noop' }
  const hidden = listFiles(root)
  // what was written into the bare mount point disappears under the mounted disk
  renameSync(root, join(w.fleet.attic, at, `.under-mount-${w.stepNo}`))
  renameSync(attic, root)
  w.unmounted.delete(key)
  w.fleet.disksAway.delete(l.node)
  for (const p of new Set([...hidden, ...listFiles(root)])) w.damage.damaged(l, p, 'presence', w.stepNo)
  return { note: `disk mounted again (${hidden.length} files under the mount point hidden)` }
}

/** Executes one step against the fleet. Refusals (CairnError) are outcomes, not errors. */
export async function execute (w: World, step: Step): Promise<ExecResult> {
  const t0 = performance.now()
  try {
    return await executeStep(w, step)
  } finally {
    const key = step.op === 'push' || step.op === 'kill' ? `${step.op} ${peerNamed(step.node, step.to) !== undefined ? 'peer' : 'dir'}` : step.op
    const e = w.opMs.get(key) ?? [0, 0]
    e[0]++
    e[1] += performance.now() - t0
    w.opMs.set(key, e)
  }
}

async function executeStep (w: World, step: Step): Promise<ExecResult> {
  w.stepNo++
  const f = w.fleet
  try {
    switch (step.op) {
      case 'add': {
        const abs = join(f.nodes[step.node].dir, step.path)
        if (existsSync(abs)) return { note: 'exists' }
        writeUserFile(abs, bytesOf(step.hex))
        w.damage.damaged(locOfAt(step.node), step.path, 'presence', w.stepNo)
        return { note: 'added' }
      }
      case 'edit': {
        if (!quietRewrite(join(f.nodes[step.node].dir, step.path), step.hex)) return { note: 'no file' }
        w.damage.damaged(locOfAt(step.node), step.path, 'content', w.stepNo)
        return { note: 'edited quietly' }
      }
      case 'delete': {
        const abs = join(f.nodes[step.node].dir, step.path)
        if (!isFile(abs)) return { note: 'no file' }
        rmSync(abs)
        w.damage.damaged(locOfAt(step.node), step.path, 'presence', w.stepNo)
        return { note: 'deleted' }
      }
      case 'rename': {
        const base = f.nodes[step.node].dir
        const from = join(base, step.from)
        const to = join(base, step.to)
        if (!existsSync(from) || existsSync(to) || to.startsWith(from + '/')) return { note: 'noop' }
        mkdirSync(dirname(to), { recursive: true })
        renameSync(from, to)
        w.damage.damaged(locOfAt(step.node), step.from, 'presence', w.stepNo)
        w.damage.damaged(locOfAt(step.node), step.to, 'presence', w.stepNo)
        return { note: 'renamed' }
      }
      case 'unmount': {
        if (step.path === '') return unmountDisk(w, step.at)
        const key = `${step.at}\u0000${step.path}`
        const src = join(dirOf(w, step.at), step.path)
        const attic = join(f.attic, step.at, step.path)
        if (w.unmounted.has(key) || !existsSync(src) || existsSync(attic)) return { note: 'noop' }
        mkdirSync(dirname(attic), { recursive: true })
        renameSync(src, attic)
        w.unmounted.add(key)
        w.damage.damaged(locOfAt(step.at), step.path, 'presence', w.stepNo)
        return { note: 'moved away' }
      }
      case 'remount': {
        if (step.path === '') return remountDisk(w, step.at)
        const key = `${step.at}\u0000${step.path}`
        const dst = join(dirOf(w, step.at), step.path)
        const attic = join(f.attic, step.at, step.path)
        // a subtree goes back onto its disk, never into the bare mount point of an unmounted one
        if (!w.unmounted.has(key) || existsSync(dst) || w.unmounted.has(`${step.at}\u0000`)) return { note: 'noop' }
        mkdirSync(dirname(dst), { recursive: true })
        renameSync(attic, dst)
        w.unmounted.delete(key)
        w.damage.damaged(locOfAt(step.at), step.path, 'presence', w.stepNo)
        return { note: 'moved back' }
      }
      case 'corrupt': {
        if (!quietRewrite(truePath(f, locOfAt(step.at), step.path), undefined)) return { note: 'no file' }
        w.damage.damaged(locOfAt(step.at), step.path, 'content', w.stepNo)
        return { note: 'corrupted quietly' }
      }
      case 'destroy': {
        const abs = truePath(f, locOfAt(step.at), step.path)
        if (!isFile(abs)) return { note: 'no file' }
        rmSync(abs)
        w.damage.damaged(locOfAt(step.at), step.path, 'presence', w.stepNo)
        return { note: 'destroyed' }
      }
      case 'unmark': {
        const abs = join(f.dirs[step.dir].path, MARKER_FILE)
        if (!existsSync(abs)) return { note: 'no marker' }
        rmSync(abs)
        w.unmarked.add(step.dir)
        return { note: 'marker removed' }
      }
      case 'reset': {
        const r = resetDestination(f.nodes[DIR_OWNER[step.dir]].n.store, DIR_LABEL[step.dir])
        w.unmarked.delete(step.dir)
        return { note: `reset run ${r.runId}` }
      }
      case 'index': {
        const s = f.nodes[step.node]
        const started = Date.now()
        const hashed: string[] = []
        const hash: typeof hashFile = async (path, buffer, hooks) => {
          const h = await hashFile(path, buffer, hooks)
          hashed.push(relative(s.dir, path))
          return h
        }
        const r = await indexVolume({ store: s.n.store, volume: s.volume, quick: step.shallow === true, logger: s.n.logger, io: { hash } })
        if (r.status !== 'failed') {
          // a complete walk sees which files exist; a full index re-hashes every one
          w.damage.readAll(locOfAt(step.node), started, step.shallow === true ? ['presence'] : ['content', 'presence'])
          w.damage.readPaths(locOfAt(step.node), hashed, started)
        }
        return { note: `${r.status} +${r.filesAdded} ~${r.filesChanged} -${r.filesMissing} ^${r.filesReturned}` }
      }
      case 'push':
        return { note: await push(w, step.node, step.to, step.shallow === true) }
      case 'sync': {
        const parts: Step[] = [{ op: 'index', node: step.node }, ...PUSH_TO[step.node].map((to): Step => ({ op: 'push', node: step.node, to })),
          ...PUSH_TO[step.node].flatMap((to): Step[] => { const from = peerNamed(step.node, to); return from === undefined ? [] : [{ op: 'pull', node: step.node, from }] })]
        const notes: string[] = []
        for (const p of parts) notes.push(`${p.op}${'to' in p ? ' ' + p.to : 'from' in p ? ' ' + p.from : ''}: ${(await execute(w, p)).note.split(' ')[0] ?? ''}`)
        return { note: notes.join(', ') }
      }
      case 'kill': {
        if (step.when === 'snapshot' || peerNamed(step.node, step.to) === undefined) {
          // the pushing process dies right after its snapshot; the node reaps the orphan
          const note = await push(w, step.node, step.to, false, { afterSnapshot: () => { throw new Killed('killed after the snapshot') } }, true).catch((e: unknown) => `died: ${e instanceof Error ? e.message : String(e)}`)
          const reaped = f.nodes[step.node].n.store.runs.reapOrphans()
          return { note: `${note}; reaped ${reaped.length}` }
        }
        // the pushing process dies while the bytes are on the wire
        const note = await push(w, step.node, step.to, false, { tamper: () => { throw new Killed('killed mid-transfer') } }, true)
          .catch((e: unknown) => `died: ${e instanceof Error ? e.message : String(e)}`)
        const reaped = f.nodes[step.node].n.store.runs.reapOrphans()
        return { note: `${note}; reaped ${reaped.length}` }
      }
      case 'pull': {
        const s = f.nodes[step.node]
        const host = s.n.node?.host
        if (host === undefined || step.node === step.from) return { note: 'noop' }
        const r = await pullVolume({ store: s.n.store, config: s.n.config, host, peer: f.peerRow(step.node, step.from), volume: 'photos', allowRewind: false, logger: s.n.logger, timeoutMs: 3000 })
        return { note: `${r.status} applied=${r.applied} changed=${r.changed} dropped=${r.dropped}${r.error !== null ? ' ' + r.error.slice(0, 80) : ''}` }
      }
      case 'verify': {
        const s = f.nodes[DIR_OWNER[step.dir]]
        const started = Date.now()
        const watched = watchingFs(join(f.dirs[step.dir].path, 'photos'))
        const r = await verifyDirectory({ store: s.n.store, volume: s.volume, destination: f.dirs[step.dir], logger: s.n.logger, fs: watched.fs })
        w.damage.readPaths(locOfAt(step.dir), [...watched.read, ...r.problems.map(p => p.path)], started)
        return { note: `${r.status} checked=${r.checked} bad=${r.mismatched + r.missing}` }
      }
      case 'verifyPeer': {
        const s = f.nodes[step.node]
        const host = s.n.node?.host
        if (host === undefined || step.node === step.peer) return { note: 'noop' }
        const peer = f.peerRow(step.node, step.peer)
        if (peer.revokedAtNs !== null) return { note: 'peer revoked' }
        const there = f.nodes[step.peer]
        const readsBefore = readInstants(there)
        const started = Date.now()
        const r = await verifyPeer({ store: s.n.store, config: s.n.config, host, volume: s.volume, peer, sample: step.sample ?? 0, logger: s.n.logger, frameDeadlineMs: 5000 })
        if (r.peerRun > 0) {
          // what the peer really read: a full re-hash saw everything there; a sample, the files
          // whose read instant moved (an escalated sample is a full re-hash, in a later run)
          const run = there.n.store.runs.get(r.peerRun)
          const full = run.detail?.rehash === 1 && (run.status === 'success' || run.status === 'partial')
          if (full) w.damage.readAll(locOfAt(step.peer), started)
          else {
            const after = readInstants(there)
            w.damage.readPaths(locOfAt(step.peer), [...after].filter(([p, at]) => at !== readsBefore.get(p)).map(([p]) => p), started)
          }
        }
        return { note: `${r.status} checked=${r.checked} bad=${r.mismatched + r.missing} retracted=${r.retracted}${r.error !== null ? ' ' + r.error.slice(0, 80) : ''}` }
      }
      case 'offload': {
        const c = await offloadOn(w, step.node, step.selector, false)
        return { note: `${c.report.status} offloaded=${c.offloaded.length} refused=${c.report.notDurable}`, check: [c] }
      }
      case 'offload2': {
        const [a, b] = await Promise.allSettled([offloadOn(w, 'laptop', step.laptop, false), offloadOn(w, 'nas', step.nas, false)])
        const check: OffloadCheck[] = []
        const notes: string[] = []
        for (const r of [a, b]) {
          if (r.status === 'fulfilled') { check.push(r.value); notes.push(`${r.value.node} offloaded=${r.value.offloaded.length}`) } else notes.push(`refused: ${r.reason instanceof Error ? r.reason.name : String(r.reason)}`)
        }
        for (const r of [a, b]) if (r.status === 'rejected' && !(r.reason instanceof CairnError)) w.errors.push(`offload2: ${String(r.reason)}`)
        return { note: notes.join(', '), check }
      }
      case 'restore': {
        const s = f.nodes[step.node]
        const dir = DIRS.find(d => DIR_OWNER[d] === step.node)
        if (dir === undefined) return { note: 'no directory to restore from' }
        const r = await restoreFiles({ store: s.n.store, volume: s.volume, from: f.dirs[dir], selectors: [step.selector], logger: s.n.logger })
        return { note: `${r.status} restored=${r.restored} failed=${r.failed}` }
      }
      case 'restorePeer': {
        const s = f.nodes[step.node]
        const host = s.n.node?.host
        if (host === undefined || step.node === step.from) return { note: 'noop' }
        const peer = f.peerRow(step.node, step.from)
        if (peer.revokedAtNs !== null) return { note: 'peer revoked' }
        const from = peerSource({ host: async () => host, peer, directory: step.dir === undefined ? '' : DIR_LABEL[step.dir], volume: 'photos', logger: s.n.logger, frameDeadlineMs: 3000 })
        const r = await restoreFiles({ store: s.n.store, volume: s.volume, from, selectors: [step.selector], logger: s.n.logger })
        // what came back must be the recorded bytes, at the node's true location, whatever the peer sent
        const volId = s.n.store.volumes.get('photos')?.id
        if (r.runId !== null && volId !== undefined) {
          for (const row of s.n.store.files.listLive(volId)) {
            if (row.originRunId !== r.runId || row.status !== 'present') continue
            const there = trueHash(f, { kind: 'node', node: step.node }, row.path)
            if (there !== null && there !== row.hash.toString('hex')) w.errors.push(`restorePeer: ${step.node}:${row.path} was restored with bytes that are not its recorded content`)
          }
        }
        return { note: `${r.status} restored=${r.restored} failed=${r.failed}` }
      }
      case 'revoke': {
        const row = f.peerRow(step.node, step.peer)
        if (row.revokedAtNs !== null) return { note: 'already revoked' }
        const r = revokeSource(f.nodes[step.node].n.store, row.id)
        // let the node's revocation watcher drop open connections, as it would between commands
        await new Promise(resolve => setTimeout(resolve, 300))
        return { note: `revoked, dropped ${r.componentsDropped}` }
      }
      case 'reenroll': {
        const row = f.peerRow(step.node, step.peer)
        if (row.revokedAtNs === null) return { note: 'not revoked' }
        const store = f.nodes[step.node].n.store
        const peer = f.nodes[step.peer].n
        enrollSigner(store, peer.key.nodeId, peerName(step.node, step.peer), peer.node?.addrs() ?? [], true)
        return { note: 're-enrolled' }
      }
      case 'sleep':
        await new Promise(resolve => setTimeout(resolve, Math.min(step.ms, 5000)))
        return { note: 'slept' }
      case 'forge': {
        const r = await forgedPull(f, step.signer, step.victim, step.claims)
        return { note: `forged pull ${r.status} applied=${r.applied} dropped=${r.dropped}` }
      }
    }
  } catch (err) {
    if (err instanceof CairnError || err instanceof Killed) return { note: `refused: ${err.name}` }
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    w.errors.push(`${JSON.stringify(step)} → ${msg}`)
    return { note: `ERROR ${msg.slice(0, 120)}` }
  }
}

// ---------------------------------------------------------------- generation

export type Weights = Record<Op, number>

const SUBTREES = ['2019', '2020/a', '2020/b', 'misc', '']
const NAMES = ['p', 'q', 'r', 's', 't']

/** Swarm testing: each seed switches some step kinds off and weighs the rest differently. */
export function drawWeights (rng: Prng): Weights {
  const w = (base: number, offChance = 0.25): number => rng.chance(offChance) ? 0 : base * rng.int(1, 4)
  return {
    add: 3 * rng.int(1, 3),
    edit: w(1),
    delete: w(1),
    rename: w(1),
    unmount: w(1),
    remount: w(2, 0.1),
    corrupt: w(1),
    destroy: w(1),
    unmark: w(1, 0.6),
    reset: 0,
    index: 3 * rng.int(1, 3),
    sync: 3 * rng.int(1, 2),
    push: 4 * rng.int(1, 3),
    kill: w(1, 0.5),
    pull: 2 * rng.int(1, 3),
    verify: w(2, 0.2),
    verifyPeer: w(2, 0.2),
    offload: 3 * rng.int(1, 3),
    offload2: w(1, 0.6),
    restore: w(1),
    restorePeer: w(1),
    revoke: w(1, 0.7),
    reenroll: w(2, 0.3),
    sleep: 0,
    forge: 0
  }
}

function randomPath (rng: Prng): string {
  const sub = rng.pick(SUBTREES)
  const name = `${rng.pick(NAMES)}${rng.int(0, 5)}.jpg`
  return sub === '' ? name : `${sub}/${name}`
}

function selectorFor (rng: Prng, files: string[]): string {
  const r = rng.next()
  if (r < 0.3 || files.length === 0) return '.'
  if (r < 0.65) return rng.pick(SUBTREES.filter(s => s !== ''))
  return rng.pick(files)
}

/** A seed's opening: a few files on each node, then normal work along the dependency order. */
export function prelude (rng: Prng): Step[] {
  const steps: Step[] = []
  const n = rng.int(3, 7)
  for (let i = 0; i < n; i++) steps.push({ op: 'add', node: i < 2 ? 'laptop' : rng.pick(NODES), path: randomPath(rng), hex: rng.hex(rng.int(4, 40)) })
  for (const node of ['laptop', 'desk', 'nas', 'laptop'] as const) steps.push({ op: 'sync', node })
  return steps
}

/** Draws the next concrete step from the fleet as it is now. */
export function generate (w: World, rng: Prng, weights: Weights): Step {
  const f = w.fleet
  for (let attempt = 0; attempt < 20; attempt++) {
    const op = rng.weighted(weights)
    const node = rng.pick(NODES)
    const files = listFiles(f.nodes[node].dir)
    switch (op) {
      case 'add': {
        const path = randomPath(rng)
        const reuse = files.length > 0 && rng.chance(0.15)
        const hex = reuse ? readFileSync(join(f.nodes[node].dir, rng.pick(files))).toString('hex') : rng.hex(rng.int(4, 40))
        return { op, node: rng.chance(0.6) ? 'laptop' : node, path, hex }
      }
      case 'edit':
        if (files.length === 0) continue
        return { op, node, path: rng.pick(files), hex: rng.hex(8) }
      case 'delete':
        if (files.length === 0) continue
        return { op, node, path: rng.pick(files) }
      case 'rename': {
        if (files.length === 0) continue
        if (rng.chance(0.4)) {
          const from = rng.pick(SUBTREES.filter(s => s !== ''))
          return { op, node, from, to: `${from}-renamed${rng.int(0, 2)}` }
        }
        return { op, node, from: rng.pick(files), to: randomPath(rng) }
      }
      case 'unmount': {
        const at: At = rng.chance(0.7) ? node : rng.pick(DIRS)
        // now and then a node's whole volume disk (path ''): the bare mount point stays
        if (at === node && rng.chance(0.15)) return { op, at, path: '' }
        return { op, at, path: rng.chance(0.7) ? rng.pick(['2019', '2020', '2020/a', 'misc']) : (listFiles(dirOf(w, at))[0] ?? '2019') }
      }
      case 'remount': {
        const open = [...w.unmounted].map(k => k.split('\u0000') as [At, string])
        if (open.length === 0) continue
        const [at, path] = rng.pick(open)
        return { op, at, path }
      }
      case 'corrupt':
      case 'destroy': {
        const at: At = rng.chance(0.5) ? rng.pick(DIRS) : node
        const there = listFiles(dirOf(w, at))
        if (there.length === 0) continue
        return { op, at, path: rng.pick(there) }
      }
      case 'unmark':
        return { op, dir: rng.pick(DIRS) }
      case 'index':
        return { op, node, shallow: rng.chance(0.15) ? true : undefined }
      case 'sync':
        return { op, node }
      case 'push':
        return { op, node, to: rng.pick(PUSH_TO[node]), shallow: rng.chance(0.05) ? true : undefined }
      case 'kill':
        return { op, node, to: rng.pick(PUSH_TO[node]), when: rng.chance(0.5) ? 'snapshot' : 'transfer' }
      case 'pull':
        return { op, node, from: rng.pick(NODES.filter(n => n !== node)) }
      case 'verify':
        return { op, dir: rng.pick(DIRS) }
      case 'verifyPeer': {
        const peers = PUSH_TO[node].flatMap(t => { const p = peerNamed(node, t); return p === undefined ? [] : [p] })
        if (peers.length === 0) continue
        return { op, node, peer: rng.pick(peers), sample: rng.chance(0.4) ? rng.int(1, 4) : undefined }
      }
      case 'offload':
        return { op, node, selector: selectorFor(rng, files) }
      case 'offload2': {
        const all = [...new Set([...listFiles(f.nodes.laptop.dir), ...listFiles(f.nodes.nas.dir)])]
        const sel = selectorFor(rng, all)
        return { op, laptop: sel, nas: rng.chance(0.6) ? sel : selectorFor(rng, all) }
      }
      case 'restore':
        return { op, node: rng.chance(0.5) ? 'laptop' : 'nas', selector: rng.chance(0.5) ? '.' : rng.pick(SUBTREES.filter(s => s !== '')) }
      case 'restorePeer': {
        const to = rng.chance(0.6) ? 'laptop' : node
        const from = to === 'laptop' ? 'nas' : rng.pick(NODES.filter(n => n !== to))
        return { op, node: to, from, dir: from === 'nas' && rng.chance(0.3) ? 'offsite' : undefined, selector: rng.chance(0.5) ? '.' : rng.pick(SUBTREES.filter(s => s !== '')) }
      }
      case 'revoke':
        return { op, node, peer: rng.pick(NODES.filter(n => n !== node)) }
      case 'reenroll':
        return { op, node, peer: rng.pick(NODES.filter(n => n !== node)) }
      case 'reset':
      case 'sleep':
      case 'forge':
        continue
    }
  }
  return { op: 'index', node: 'laptop' }
}
