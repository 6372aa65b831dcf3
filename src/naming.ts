/**
 * Names and keys (DESIGN "Destination identity", invariant 23). Operators type and read local
 * names; the store and the wire use keys:
 *
 *  - a local `[destinations.X]` → `dir:<marker id>` of the marker its first push recorded
 *    (no key before that: no evidence can exist for it);
 *  - a name that ever named an enrolled peer (live or revoked) → that peer's node id;
 *  - `PEER/NAME` → the marker PEER asserts under its label NAME (a directory only PEER reaches);
 *  - anything else resolves to nothing and is refused: never "whichever key uses that label".
 *
 * Two nodes that call the same peer by different names therefore still agree on its evidence.
 */
import type { Config, VolumeConfig } from './config/types.js'
import { UnknownNodeError, UnknownTargetNameError, UnknownVolumeError } from './errors.js'
import { isNodeId, type NodeId } from './identity/node-id.js'
import { isDirectoryKey, type DestinationRow } from './store/destinations.js'
import type { NodeRow } from './store/nodes.js'
import type { Store } from './store/store.js'
import type { VolumeRow } from './store/volumes.js'

export type ResolvedTarget =
  | { kind: 'directory', name: string, key: string | undefined }
  | { kind: 'peer', name: string, node: NodeRow, key: string }
  | { kind: 'relayed', name: string, via: NodeRow, label: string, rows: DestinationRow[] }
  | { kind: 'unknown', name: string }

/** The enrolled peer a name names: the live one, else the last revoked one (names never move). */
export function peerNamed (store: Store, name: string): NodeRow | undefined {
  const peers = store.nodes.listPeers().filter(p => p.name === name)
  return peers.find(p => p.revokedAtNs === null) ?? peers[peers.length - 1]
}

/** Resolves a target name once; a name that is none of the known kinds is `unknown`. */
export function resolveTarget (store: Store, config: Config, name: string): ResolvedTarget {
  if (config.destinations.has(name)) return { kind: 'directory', name, key: store.destinations.local(name)?.key }
  const peer = peerNamed(store, name)
  if (peer !== undefined) return { kind: 'peer', name, node: peer, key: peer.nodeId }
  const slash = name.indexOf('/')
  if (slash > 0) {
    const via = peerNamed(store, name.slice(0, slash))
    const label = name.slice(slash + 1)
    if (via !== undefined) return { kind: 'relayed', name, via, label, rows: store.destinations.ownedAs(via.id, label) }
  }
  return { kind: 'unknown', name }
}

/**
 * Which of the markers a peer labels NAME a `PEER/NAME` requirement means: the one the peer
 * carries live evidence for (`live`). None live: the newest (no evidence under it yet). Two
 * live at once (it re-created the directory and still asserts the old one): ambiguous.
 */
export function relayedMarker (rows: readonly DestinationRow[], live: (key: string) => boolean): { key: string | undefined, ambiguous: boolean } {
  const held = rows.filter(r => live(r.key))
  if (held.length > 1) return { key: undefined, ambiguous: true }
  return { key: (held[0] ?? rows.at(-1))?.key, ambiguous: false }
}

/**
 * The store/wire key a target name resolves to now, or undefined when nothing (yet) can hold
 * evidence under it. A relayed name resolves to the marker its peer carries live evidence for.
 */
export function targetKey (store: Store, config: Config, name: string): string | undefined {
  const t = resolveTarget(store, config, name)
  if (t.kind === 'directory' || t.kind === 'peer') return t.key
  if (t.kind === 'relayed') {
    const via = t.via.id
    return relayedMarker(t.rows, key => store.vector.listAll().some(c => c.destination === key && c.sourceNodeId === via)).key
  }
  return undefined
}

/** The display label of a key: `usb`, `nas`, `offsite (nas's)`. */
export function targetLabel (store: Store, key: string): string {
  if (isDirectoryKey(key)) {
    const row = store.destinations.byKey(key)
    if (row === undefined) return key
    const owner = store.nodes.byRowId(row.ownerRowId)
    if (owner?.isSelf === true) return row.forgottenAtNs === null ? (row.localName ?? row.label) : `${row.label} (reset)`
    return `${row.label} (${nodeLabel(owner, owner?.nodeId ?? '?')}'s)`
  }
  if (!isNodeId(key)) return key
  return nodeLabel(store.nodes.byNodeId(key), key)
}

/** A key with its owner and label, for `--json`. */
export function targetIdentity (store: Store, key: string): { key: string, owner_node_id: string | null, label: string } {
  if (isDirectoryKey(key)) {
    const row = store.destinations.byKey(key)
    const owner = row === undefined ? undefined : store.nodes.byRowId(row.ownerRowId)
    return { key, owner_node_id: owner?.nodeId ?? null, label: row?.label ?? key }
  }
  return { key, owner_node_id: isNodeId(key) ? key : null, label: targetLabel(store, key) }
}

export function nodeLabel (node: NodeRow | undefined, fallback: string): string {
  if (node === undefined || node.name === null) return fallback
  return node.name
}

/** Levenshtein distance (for "did you mean"). */
export function editDistance (a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const here = row[j] as number
      row[j] = Math.min(here + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = here
    }
  }
  return row[b.length] as number
}

/** The known target name closest to `name`, when one is close enough to be a typo. */
export function closestTargetName (store: Store, config: Config, name: string): string | null {
  const known = new Set<string>(config.destinations.keys())
  for (const p of store.nodes.listPeers()) {
    if (p.name === null) continue
    known.add(p.name)
    for (const label of store.destinations.labelsOwnedBy(p.id)) known.add(`${p.name}/${label}`)
  }
  // a bare label that one peer's directory carries: that directory, named as PEER/NAME
  const relayed = [...known].filter(k => k.endsWith(`/${name}`))
  if (relayed.length === 1) return relayed[0] as string
  let best: string | null = null
  let bestD = Infinity
  for (const k of known) {
    const d = editDistance(name, k)
    if (d < bestD) { best = k; bestD = d }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null
}

/**
 * Refuses a config whose volumes name a target that resolves to nothing, or a name that is
 * both a directory destination and a peer (invariant 23). Run by the commands that act on
 * volumes; enrollment commands work on any config.
 */
export function checkTargetNames (store: Store, config: Config): void {
  for (const d of config.destinations.keys()) {
    const peer = peerNamed(store, d)
    if (peer !== undefined) throw new UnknownTargetNameError(config.file, `destinations.${d}`, d, null, `the name ${d} is both a directory destination and the peer ${peer.nodeId}; rename the destination`)
  }
  for (const v of config.volumes.values()) {
    for (const [list, names] of [['push_to', v.pushTo], ['offload_requires', v.offloadRequires]] as const) {
      for (const n of names) {
        if (resolveTarget(store, config, n).kind === 'unknown') throw new UnknownTargetNameError(config.file, `volumes.${v.name}.${list}`, n, closestTargetName(store, config, n))
      }
    }
  }
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

