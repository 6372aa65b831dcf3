/**
 * Names and node ids. On the wire and in the store a destination that is a cairn node is its
 * node id, and a directory destination is its configured name. Operators type and read local
 * names: `push_to = ["nas"]` resolves through enrollment to nas's node id, and a node id is
 * displayed as the local name of that node. Two nodes that call the same peer by different
 * names therefore still agree on its evidence.
 */
import type { Config, VolumeConfig } from './config/types.js'
import { UnknownNodeError, UnknownVolumeError } from './errors.js'
import { isNodeId, type NodeId } from './identity/node-id.js'
import type { NodeRow } from './store/nodes.js'
import type { Store } from './store/store.js'
import type { VolumeRow } from './store/volumes.js'

/** The store/wire key of a target an operator named (a config name, a peer name or a node id). */
export function targetKey (store: Store, config: Config, name: string): string {
  if (config.destinations.has(name)) return name
  const peer = store.nodes.livePeerByName(name)
  if (peer !== undefined) return peer.nodeId
  return name
}

/** The local label of a store/wire target key. */
export function targetLabel (store: Store, key: string): string {
  const slash = key.indexOf('/')
  if (slash > 0 && isNodeId(key.slice(0, slash))) {
    // a directory a peer reaches: PEER/LABEL
    const owner = key.slice(0, slash)
    return `${nodeLabel(store.nodes.byNodeId(owner), owner)}/${key.slice(slash + 1)}`
  }
  if (!isNodeId(key)) return key
  return nodeLabel(store.nodes.byNodeId(key), key)
}

export function nodeLabel (node: NodeRow | undefined, fallback: string): string {
  if (node === undefined || node.name === null) return fallback
  return node.name
}

/** The node an operator referred to by local name (this node or a peer) or by node id. */
export function resolveNode (store: Store, config: Config, ref: string): NodeRow {
  if (ref === config.name) return store.nodes.self()
  const peer = store.nodes.livePeerByName(ref)
  if (peer !== undefined) return peer
  if (isNodeId(ref)) {
    const byId = store.nodes.byNodeId(ref as NodeId)
    if (byId !== undefined) return byId
  }
  const revoked = store.nodes.listPeers().find(p => p.name === ref)
  if (revoked !== undefined) return revoked
  throw new UnknownNodeError(ref)
}

export interface VolumeRef {
  name: string
  config: VolumeConfig | undefined
  /** Undefined until the volume's first run records it. */
  row: VolumeRow | undefined
}

/**
 * A volume for reading its evidence: declared in the config (whose path must agree with the
 * recorded one) or known to the database from earlier runs.
 */
export function volumeForRead (store: Store, config: Config, name: string): VolumeRef {
  const declared = config.volumes.get(name)
  if (declared !== undefined) return { name, config: declared, row: store.volumes.check(name, declared.path) }
  const row = store.volumes.get(name)
  if (row === undefined) throw new UnknownVolumeError(name, [...config.volumes.keys()])
  return { name, config: undefined, row }
}

/** A volume for a run: it must be declared; its row is created on first use. */
export function volumeForRun (store: Store, config: Config, name: string): { config: VolumeConfig, row: VolumeRow } {
  const declared = config.volumes.get(name)
  if (declared === undefined) throw new UnknownVolumeError(name, [...config.volumes.keys()])
  return { config: declared, row: store.volumes.ensure(name, declared.path) }
}

/**
 * The store keys of the targets a volume cares about: what it pushes to and what it requires
 * for offload. Pulled evidence for anything else is dropped (DESIGN invariant 8).
 */
export function volumeScope (store: Store, config: Config, volume: VolumeConfig): Set<string> {
  return new Set([...volume.pushTo, ...volume.offloadRequires].map(n => targetKey(store, config, n)))
}
