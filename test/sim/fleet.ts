/**
 * The simulated fleet: three real cairn nodes in this process (real home, store and libp2p host
 * on 127.0.0.1), one volume `photos` on each, and two directory destinations: laptop's `usb` and
 * nas's `offsite`. Every pair of nodes is enrolled both ways.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DirectoryDestinationConfig, VolumeConfig } from '../../src/config/types.js'
import type { NodeRow } from '../../src/store/nodes.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'

export const NODES = ['laptop', 'nas', 'desk'] as const
export type NodeName = typeof NODES[number]
export const DIRS = ['usb', 'offsite'] as const
export type DirName = typeof DIRS[number]
export const DIR_OWNER: Record<DirName, NodeName> = { usb: 'laptop', offsite: 'nas' }

/**
 * How a node names nas's `offsite` directory, which it only knows through nas's assertions.
 * Named PEER/NAME, as offload_requires spells a directory only that peer reaches.
 */
export const OFFSITE_VIA_NAS = 'nas/offsite'

/** Where a requirement name's bytes truly live. */
export type Location = { kind: 'node', node: NodeName } | { kind: 'dir', dir: DirName }

export function locationOf (target: string): Location | undefined {
  if ((NODES as readonly string[]).includes(target)) return { kind: 'node', node: target as NodeName }
  if (target === OFFSITE_VIA_NAS || target === 'offsite') return { kind: 'dir', dir: 'offsite' }
  if (target === 'usb') return { kind: 'dir', dir: 'usb' }
  return undefined
}

export const PUSH_TO: Record<NodeName, string[]> = {
  laptop: ['nas', 'usb'],
  nas: ['laptop', 'offsite'],
  desk: ['nas']
}

/** The required fleet shape; per-seed variants replace single entries. */
export const DEFAULT_REQUIRES: Record<NodeName, string[]> = {
  laptop: ['nas', OFFSITE_VIA_NAS],
  nas: ['laptop'],
  desk: ['nas']
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
  peerRow: (on: NodeName, peer: NodeName) => NodeRow
  close: () => Promise<void>
}

function volumeToml (root: string, name: NodeName, shape: FleetShape): string {
  const list = (xs: string[]): string => `[${xs.map(x => JSON.stringify(x)).join(', ')}]`
  let t = `[volumes.photos]\npath = "${join(root, `${name}-photos`)}"\npush_to = ${list(PUSH_TO[name])}\noffload_requires = ${list(shape.requires[name])}\n`
  const age = shape.maxAge[name]
  if (age !== undefined) t += `offload_max_evidence_age = "${age}"\n`
  for (const d of DIRS) {
    if (DIR_OWNER[d] === name) t += `\n[destinations.${d}]\ntype = "directory"\npath = "${join(root, d)}"\n`
  }
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
      await n.start({ pushFrameDeadlineMs: 3000, pullTimeoutMs: 3000, durabilityDeadlineMs: 3000 })
      const volume = n.config.volumes.get('photos')
      if (volume === undefined) throw new Error('no volume photos in the config')
      nodes[name] = { name, n, volume, dir: volume.path }
    }
    for (const a of NODES) for (const b of NODES) if (a !== b) enroll(nodes[a].n, nodes[b].n)
    const dirs = {} as Record<DirName, DirectoryDestinationConfig>
    for (const d of DIRS) {
      const cfg = nodes[DIR_OWNER[d]].n.config.destinations.get(d)
      if (cfg === undefined) throw new Error(`no destination ${d}`)
      dirs[d] = cfg
    }
    return {
      root,
      shape,
      nodes,
      dirs,
      attic,
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
