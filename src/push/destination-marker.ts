/**
 * A directory destination's identity (DESIGN "Destination identity", invariants 14 and 24):
 * `<root>/.cairn-destination` holds a random 128-bit id, the owner's node id and its label.
 * The store keys the destination `dir:<marker id>`.
 *
 *  - A marker recorded for this name must be the one found: a missing or different marker
 *    refuses (a swapped, reformatted or unmounted disk) until `cairn destination reset`.
 *  - Only the owner writes to a destination: a marker owned by another node refuses, with
 *    who owns it and what to do; a marker that names no owner (written by cairn before
 *    markers named owners, and not recorded here) refuses too. `cairn destination adopt`
 *    is the explicit, audited way to take a directory over.
 *  - A new marker is created exclusively (two nodes racing for one empty directory: one
 *    wins, the other finds the winner's marker and refuses).
 *  - This node's own v1 marker (recorded here, no owner line) is rewritten as v2 in place.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { DestinationMarkerError, DestinationNestedError, DestinationOwnedError, DestinationUnavailableError } from '../errors.js'
import { directoryKey, isMarkerId } from '../store/destinations.js'
import type { Store } from '../store/store.js'
import type { DirectoryFs } from './directory-fs.js'
import { VOLUME_MARKER_FILE } from './volume-marker.js'

export const MARKER_FILE = '.cairn-destination'
const HEADER_V1 = 'cairn-destination-v1'
const HEADER_V2 = 'cairn-destination-v2'

export type Marker =
  | { kind: 'none' }
  | { kind: 'unreadable' }
  | { kind: 'v1', markerId: string }
  | { kind: 'v2', markerId: string, ownerNodeId: string, label: string }

export function parseMarker (text: string | undefined): Marker {
  if (text === undefined) return { kind: 'none' }
  const lines = text.split('\n').map(l => l.trim())
  const id = lines[1] ?? ''
  if (!isMarkerId(id)) return { kind: 'unreadable' }
  if (lines[0] === HEADER_V1) return { kind: 'v1', markerId: id }
  if (lines[0] !== HEADER_V2) return { kind: 'unreadable' }
  const field = (name: string): string | undefined => lines.find(l => l.startsWith(`${name} `))?.slice(name.length + 1)
  const owner = field('owner')
  const label = field('label')
  if (owner === undefined || owner.length === 0 || label === undefined || label.length === 0) return { kind: 'unreadable' }
  return { kind: 'v2', markerId: id, ownerNodeId: owner, label }
}

export function formatMarker (markerId: string, ownerNodeId: string, label: string): string {
  return `${HEADER_V2}\n${markerId}\nowner ${ownerNodeId}\nlabel ${label}\n`
}

function describe (m: Marker): string | null {
  return m.kind === 'none' ? null : m.kind === 'unreadable' ? 'unreadable' : m.markerId
}

export async function readMarker (fs: DirectoryFs, root: string): Promise<Marker> {
  return parseMarker(await fs.readText(join(root, MARKER_FILE)))
}

async function checkRoot (fs: DirectoryFs, destination: string, root: string): Promise<void> {
  const info = await fs.lstat(root)
  if (info === undefined) throw new DestinationUnavailableError(destination, root, 'does not exist')
  if (info.kind !== 'dir') throw new DestinationUnavailableError(destination, root, 'is not a directory')
  // a root inside another destination's tree would write where that destination's owner keeps
  // its files (invariant 24): refused whoever owns the outer marker
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    const outer = await fs.lstat(join(dir, MARKER_FILE))
    if (outer !== undefined) throw new DestinationNestedError(destination, root, dir)
    if (dirname(dir) === dir) break
  }
  // and a root at or inside a node's volume would write over that node's own copy
  for (let dir = root; ; dir = dirname(dir)) {
    if (await fs.lstat(join(dir, VOLUME_MARKER_FILE)) !== undefined) throw new DestinationNestedError(destination, root, dir, 'volume')
    if (dirname(dir) === dir) break
  }
}

function refuseOwned (store: Store, destination: string, root: string, m: Marker & { kind: 'v2' }): never {
  const owner = store.nodes.byNodeId(m.ownerNodeId)
  throw new DestinationOwnedError(destination, root, m.markerId, m.ownerNodeId, owner?.name ?? m.label)
}

/** Writes a new marker only if none is there (false then): durable before it counts. */
async function createExclusive (fs: DirectoryFs, root: string, text: string): Promise<boolean> {
  const tmp = join(root, `${MARKER_FILE}.new-${randomBytes(6).toString('hex')}`)
  await fs.writeTextAtomic(tmp, text)
  try {
    await fs.moveNoReplace(tmp, join(root, MARKER_FILE))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    await fs.removeStaging(tmp)
    return false
  }
  await fs.syncDir(root)
  return true
}

export interface DestinationIdentity {
  key: string
  markerId: string
  created: boolean
}

/**
 * Checks a destination root and its marker before anything writes there; creates, records
 * or upgrades this node's marker as needed. Returns the destination's store key.
 */
export async function ensureDestinationIdentity (store: Store, fs: DirectoryFs, destination: string, root: string, configured: (name: string) => boolean = () => true, attempt = 0): Promise<DestinationIdentity> {
  await checkRoot(fs, destination, root)
  const self = store.nodes.self()
  const recorded = store.destinations.local(destination)
  const found = await readMarker(fs, root)
  if (recorded !== undefined) {
    if (found.kind === 'v2' && found.markerId === recorded.markerId && found.ownerNodeId !== self.nodeId) refuseOwned(store, destination, root, found)
    if ((found.kind !== 'v1' && found.kind !== 'v2') || found.markerId !== recorded.markerId) {
      throw new DestinationMarkerError(destination, root, recorded.markerId, describe(found))
    }
    if (found.kind === 'v1') await fs.writeTextAtomic(join(root, MARKER_FILE), formatMarker(recorded.markerId, self.nodeId, destination))
    return { key: recorded.key, markerId: recorded.markerId, created: false }
  }
  if (found.kind === 'v2') {
    if (found.ownerNodeId !== self.nodeId) refuseOwned(store, destination, root, found)
    // this node's own marker, forgotten by a reset: take it back (refused if another name has it)
    // …or the marker of a destination the operator renamed (its old name is configured no more)
    const row = store.db.transaction(() => store.destinations.recordLocal(self.id, destination, found.markerId, old => !configured(old))).immediate()
    return { key: row.key, markerId: found.markerId, created: false }
  }
  if (found.kind === 'v1') throw new DestinationOwnedError(destination, root, found.markerId, null, '?')
  if (found.kind === 'unreadable') throw new DestinationMarkerError(destination, root, null, 'unreadable')
  const markerId = randomBytes(16).toString('hex')
  const won = await createExclusive(fs, root, formatMarker(markerId, self.nodeId, destination))
  if (!won) {
    // another writer created a marker first: look again (once) at what is there now
    if (attempt > 0) throw new DestinationMarkerError(destination, root, null, 'changing while it is read')
    return await ensureDestinationIdentity(store, fs, destination, root, configured, attempt + 1)
  }
  const row = store.db.transaction(() => store.destinations.recordLocal(self.id, destination, markerId)).immediate()
  return { key: row.key, markerId, created: true }
}

/** Read-only check (restore, verify without writes): the recorded marker must be the one found. */
export async function checkDestinationIdentity (store: Store, fs: DirectoryFs, destination: string, root: string): Promise<DestinationIdentity> {
  await checkRoot(fs, destination, root)
  const recorded = store.destinations.local(destination)
  const found = await readMarker(fs, root)
  if (recorded === undefined || (found.kind !== 'v1' && found.kind !== 'v2') || found.markerId !== recorded.markerId) {
    throw new DestinationMarkerError(destination, root, recorded?.markerId ?? null, describe(found))
  }
  if (found.kind === 'v2' && found.ownerNodeId !== store.nodes.self().nodeId) refuseOwned(store, destination, root, found)
  return { key: directoryKey(recorded.markerId), markerId: recorded.markerId, created: false }
}

/** The key a config name resolves to now (undefined before its first push). */
export function localDestinationKey (store: Store, name: string): string | undefined {
  return store.destinations.local(name)?.key
}
