/**
 * The simulated fleet: three real cairn nodes in this process (real home, store and libp2p host
 * on 127.0.0.1), one volume `photos` on each, and four physical directories: laptop's `usb`,
 * nas's `offsite`, and desk's own two, which it labels like things that already have names in
 * the fleet: `usb` (the label laptop uses for its disk) and `nas` (a peer's name; desk calls
 * nas `big`). desk also points a destination `share` at laptop's usb directory (one directory
 * two nodes write: only the marker's owner may). Every pair of nodes is enrolled both ways.
 */
import { Prng } from './prng.js'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DirectoryDestinationConfig, VolumeConfig } from '../../src/config/types.js'
import type { NodeRow } from '../../src/store/nodes.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'

export const NODES = ['laptop', 'nas', 'desk'] as const
export type NodeName = typeof NODES[number]
/** Physical directories (the simulator's names; a node's config names them by DIR_LABEL). */
export const DIRS = ['usb', 'offsite', 'deskusb', 'desknas'] as const
export type DirName = typeof DIRS[number]
export const DIR_OWNER: Record<DirName, NodeName> = { usb: 'laptop', offsite: 'nas', deskusb: 'desk', desknas: 'desk' }
/** The owner's config name for each directory. */
export const DIR_LABEL: Record<DirName, string> = { usb: 'usb', offsite: 'offsite', deskusb: 'usb', desknas: 'nas' }
/** Config destinations a node has that name another node's directory (refused by marker). */
export const SHARED: Partial<Record<NodeName, Record<string, DirName>>> = { desk: { share: 'usb' } }

/** How `on` names `peer` (enrollment names are local labels; desk calls nas `big`). */
export function peerName (on: NodeName, peer: NodeName): string {
  return on === 'desk' && peer === 'nas' ? 'big' : peer
}

/** The peer a node's local name names, if it names one. */
export function peerNamed (on: NodeName, name: string): NodeName | undefined {
  return NODES.find(p => p !== on && peerName(on, p) === name)
}

/** The directory a node's config name `name` points at, if it is a configured destination. */
export function dirNamed (on: NodeName, name: string): DirName | undefined {
  const shared = SHARED[on]?.[name]
  if (shared !== undefined) return shared
  return DIRS.find(d => DIR_OWNER[d] === on && DIR_LABEL[d] === name)
}

/**
 * How a node names nas's `offsite` directory, which it only knows through nas's assertions.
 * Named PEER/NAME, as offload_requires spells a directory only that peer reaches.
 */
export const OFFSITE_VIA_NAS = 'nas/offsite'

/** Where a requirement name's bytes truly live. */
export type Location = { kind: 'node', node: NodeName } | { kind: 'dir', dir: DirName }

/** Where a name in `on`'s config truly points: its own directory, a peer, or PEER/LABEL. */
export function locationOf (target: string, on: NodeName): Location | undefined {
  const dir = dirNamed(on, target)
  if (dir !== undefined) return { kind: 'dir', dir }
  const peer = peerNamed(on, target)
  if (peer !== undefined) return { kind: 'node', node: peer }
  const slash = target.indexOf('/')
  if (slash > 0) {
    const via = peerNamed(on, target.slice(0, slash))
    const label = target.slice(slash + 1)
    const d = DIRS.find(x => DIR_OWNER[x] === via && DIR_LABEL[x] === label)
    if (d !== undefined) return { kind: 'dir', dir: d }
  }
  return undefined
}

/** Each node's push_to, in its own names. */
export const PUSH_TO: Record<NodeName, string[]> = {
  laptop: ['nas', 'usb'],
  nas: ['laptop', 'offsite'],
  desk: ['big', 'usb', 'nas', 'share']
}

/** The required fleet shape; per-seed variants replace single entries. */
export const DEFAULT_REQUIRES: Record<NodeName, string[]> = {
  laptop: ['nas', OFFSITE_VIA_NAS],
  nas: ['laptop'],
  desk: ['big']
}

export interface FleetShape {
  requires: Record<NodeName, string[]>
  /** offload_max_evidence_age per node (a duration string), if any. */
  maxAge: Partial<Record<NodeName, string>>
}

export interface SimNode {
  name: NodeName
  n: InProcessNode
  volume: VolumeConfig
  /** The node's volume directory. */
  dir: string
}

export interface Fleet {
  root: string
  shape: FleetShape
  nodes: Record<NodeName, SimNode>
  dirs: Record<DirName, DirectoryDestinationConfig>
  /** Side storage for unmounted subtrees. */
  attic: string
  /**
   * Nodes whose whole volume disk is unmounted (`unmount` of path ''): what lies in the bare
   * mount point is not on the disk, and a real mount hides it, so the truth there is nothing.
   */
  disksAway: Set<NodeName>
  peerRow: (on: NodeName, peer: NodeName) => NodeRow
  close: () => Promise<void>
}

function volumeToml (root: string, name: NodeName, shape: FleetShape): string {
  const list = (xs: string[]): string => `[${xs.map(x => JSON.stringify(x)).join(', ')}]`
  let t = `[volumes.photos]\npath = "${join(root, `${name}-photos`)}"\npush_to = ${list(PUSH_TO[name])}\noffload_requires = ${list(shape.requires[name])}\n`
  const age = shape.maxAge[name]
  if (age !== undefined) t += `offload_max_evidence_age = "${age}"\n`
  for (const d of DIRS) {
    if (DIR_OWNER[d] === name) t += `\n[destinations.${DIR_LABEL[d]}]\ntype = "directory"\npath = "${join(root, d)}"\n`
  }
  for (const [alias, d] of Object.entries(SHARED[name] ?? {})) t += `\n[destinations.${alias}]\ntype = "directory"\npath = "${join(root, d)}"\n`
  return t
}

export async function startFleet (shape: FleetShape): Promise<Fleet> {
  const root = mkdtempSync(join(process.env.SIM_TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'cairn-sim-'))
  for (const name of NODES) mkdirSync(join(root, `${name}-photos`))
  for (const d of DIRS) mkdirSync(join(root, d))
  const attic = join(root, 'attic')
  mkdirSync(attic)
  const started: InProcessNode[] = []
  try {
    const nodes = {} as Record<NodeName, SimNode>
    for (const name of NODES) {
      const n = inProcessNode(join(root, 'homes'), name, volumeToml(root, name, shape))
      started.push(n)
      // each operator marks its (still empty) volume directory, as docs/volumes.md tells them to
      // on a receiving node: an empty unmarked root refuses pushes (it may be a bare mount point)
      await n.initVolumes()
      // a sampled verify a peer asks for draws from a fixed sequence per node: a step list replays
      const draw = new Prng(NODES.indexOf(name) + 1)
      await n.start({ pushFrameDeadlineMs: 3000, pullTimeoutMs: 3000, durabilityDeadlineMs: 3000, verifyRandom: () => draw.next() })
      const volume = n.config.volumes.get('photos')
      if (volume === undefined) throw new Error('no volume photos in the config')
      nodes[name] = { name, n, volume, dir: volume.path }
    }
    for (const a of NODES) for (const b of NODES) if (a !== b) nodes[a].n.store.nodes.enrollPeer(nodes[b].n.key.nodeId, peerName(a, b), nodes[b].n.node?.addrs() ?? [])
    const dirs = {} as Record<DirName, DirectoryDestinationConfig>
    for (const d of DIRS) {
      const cfg = nodes[DIR_OWNER[d]].n.config.destinations.get(DIR_LABEL[d])
      if (cfg === undefined) throw new Error(`no destination ${d}`)
      dirs[d] = cfg
    }
    return {
      root,
      shape,
      nodes,
      dirs,
      attic,
      disksAway: new Set(),
      peerRow: (on, peer) => {
        const row = nodes[on].n.store.nodes.byNodeId(nodes[peer].n.key.nodeId)
        if (row === undefined) throw new Error(`${peer} unknown on ${on}`)
        return row
      },
      close: async () => {
        for (const n of started) await n.close().catch(() => {})
        rmSync(root, { recursive: true, force: true })
      }
    }
  } catch (err) {
    for (const n of started) await n.close().catch(() => {})
    rmSync(root, { recursive: true, force: true })
    throw err
  }
}
