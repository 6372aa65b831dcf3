/**
 * A node's own volume root carries `.cairn-volume` (docs/volumes.md, issue 14): a random
 * 128-bit id, the owning node id and the volume name, the volume's counterpart of the
 * destination marker (DESIGN invariant 14). The store records the id per volume.
 *
 *  - A recorded marker must be the one found: a missing one (an unmounted disk: the bare mount
 *    point) or another one (another disk mounted there) refuses index, receive and offload,
 *    and nothing is written, until the disk is back or `cairn volume init NAME --reset`.
 *  - With no marker recorded, cairn writes one by itself only over a root that holds something
 *    (an index, or the first receive, of a non-empty root); an empty root may be the mount
 *    point of a disk that is not mounted, so only the operator's `cairn volume init` marks it.
 *  - A new marker is created exclusively and fsynced before it is recorded; a marker this node
 *    wrote but did not record (a crash in between, a reset) is this node's own and is taken
 *    back; a marker naming another node or another volume is never written over.
 *  - No other node's directory push may write into a marked volume (DESIGN invariant 24);
 *    a receive into a volume inside a destination's tree is refused (`destinationAbove`).
 */
import { randomBytes } from 'node:crypto'
import { opendir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { crashPoint } from '../crash-point.js'
import { CairnError, VolumeMarkerError, VolumeNotInitializedError, VolumeRootEmptyError, VolumeRootMissingError } from '../errors.js'
import type { Store } from '../store/store.js'
import type { DirectoryFs } from './directory-fs.js'

export const VOLUME_MARKER_FILE = '.cairn-volume'
const DESTINATION_MARKER_FILE = '.cairn-destination'
const HEADER_V1 = 'cairn-volume-v1'
const HEADER_V2 = 'cairn-volume-v2'
const MARKER_ID_RE = /^[0-9a-f]{32}$/

/** The destination root above `dir`, if `dir` lies inside a destination's tree. */
export async function destinationAbove (fs: DirectoryFs, dir: string): Promise<string | undefined> {
  for (let d = dir; ; d = dirname(d)) {
    if (await fs.lstat(join(d, DESTINATION_MARKER_FILE)) !== undefined) return d
    if (dirname(d) === d) return undefined
  }
}

export type VolumeMarker =
  | { kind: 'none' }
  | { kind: 'unreadable' }
  /** Written by the first receive before markers had ids (unreleased 2.0.0 development). */
  | { kind: 'v1', ownerNodeId: string, volume: string }
  | { kind: 'v2', markerId: string, ownerNodeId: string, volume: string }

export function parseVolumeMarker (text: string | undefined): VolumeMarker {
  if (text === undefined) return { kind: 'none' }
  const lines = text.split('\n').map(l => l.trim())
  const field = (name: string): string | undefined => lines.find(l => l.startsWith(`${name} `))?.slice(name.length + 1)
  const volume = field('volume')
  if (volume === undefined || volume.length === 0) return { kind: 'unreadable' }
  if (lines[0] === HEADER_V1) {
    const owner = lines[1] ?? ''
    return owner.length === 0 ? { kind: 'unreadable' } : { kind: 'v1', ownerNodeId: owner, volume }
  }
  if (lines[0] !== HEADER_V2) return { kind: 'unreadable' }
  const id = lines[1] ?? ''
  const owner = field('owner')
  if (!MARKER_ID_RE.test(id) || owner === undefined || owner.length === 0) return { kind: 'unreadable' }
  return { kind: 'v2', markerId: id, ownerNodeId: owner, volume }
}

export function formatVolumeMarker (markerId: string, ownerNodeId: string, volume: string): string {
  return `${HEADER_V2}\n${markerId}\nowner ${ownerNodeId}\nvolume ${volume}\n`
}

export async function readVolumeMarker (fs: DirectoryFs, root: string): Promise<VolumeMarker> {
  return parseVolumeMarker(await fs.readText(join(root, VOLUME_MARKER_FILE)))
}

/**
 * Whether the root holds anything but cairn's own names (`.cairn*`): a mounted disk has its
 * files (or at least its directories); a bare mount point has nothing. Reads one entry at most
 * past cairn's own.
 */
export async function rootHoldsSomething (root: string): Promise<boolean> {
  const dir = await opendir(root)
  try {
    for await (const e of dir) if (!e.name.toLowerCase().startsWith('.cairn')) return true
    return false
  } finally {
    await dir.close().catch(() => {})
  }
}

/** What a volume root's identity allows now (read-only; `assessVolumeIdentity`). */
export type VolumeIdentity =
  /** The recorded marker is there. */
  | { kind: 'recorded', markerId: string }
  /** Nothing recorded; this node's own marker for this volume is there (a crash before it was recorded, a reset): record it. */
  | { kind: 'unrecorded', markerId: string }
  /** Nothing recorded, no marker (or this node's own v1 marker), and the root holds something: a marker may be written. */
  | { kind: 'writable', replacesV1: boolean }
  /** Nothing recorded, no marker, nothing in the root: maybe a bare mount point. */
  | { kind: 'empty', filesRecorded: number }
  /** The marker is missing, another one, or unreadable, or the root is not a directory: refuse. */
  | { kind: 'refused', error: VolumeMarkerError | VolumeRootMissingError }

function describeFound (m: VolumeMarker): { found: string | null, owner: string | null, volume: string | null } {
  switch (m.kind) {
    case 'none': return { found: null, owner: null, volume: null }
    case 'unreadable': return { found: 'unreadable', owner: null, volume: null }
    case 'v1': return { found: 'an old marker with no id', owner: m.ownerNodeId, volume: m.volume }
    case 'v2': return { found: m.markerId, owner: m.ownerNodeId, volume: m.volume }
  }
}

/** Reads the root and compares it with what this node recorded. Writes nothing. */
export async function assessVolumeIdentity (store: Store, fs: DirectoryFs, volume: string, root: string): Promise<VolumeIdentity> {
  const info = await fs.lstat(root)
  if (info === undefined) return { kind: 'refused', error: new VolumeRootMissingError(volume, root, 'does not exist') }
  if (info.kind !== 'dir') return { kind: 'refused', error: new VolumeRootMissingError(volume, root, 'is not a directory') }
  const self = store.nodes.self().nodeId
  const row = store.volumes.get(volume)
  const recorded = row?.markerId ?? null
  const found = await readVolumeMarker(fs, root)
  const refuse = (): VolumeIdentity => {
    const d = describeFound(found)
    const ownerName = d.owner === null ? null : store.nodes.byNodeId(d.owner)?.name ?? null
    return { kind: 'refused', error: new VolumeMarkerError(volume, root, recorded, d.found, d.owner, d.volume, ownerName) }
  }
  const own = (found.kind === 'v1' || found.kind === 'v2') && found.ownerNodeId === self && found.volume === volume
  if (recorded !== null) return found.kind === 'v2' && own && found.markerId === recorded ? { kind: 'recorded', markerId: recorded } : refuse()
  if (found.kind === 'none') {
    if (await rootHoldsSomething(root)) return { kind: 'writable', replacesV1: false }
    return { kind: 'empty', filesRecorded: row === undefined ? 0 : store.volumes.countPresentFiles(row.id) }
  }
  if (!own) return refuse()
  return found.kind === 'v2' ? { kind: 'unrecorded', markerId: found.markerId } : { kind: 'writable', replacesV1: true }
}

/** Writes a new marker only if none is there (false then): durable before it counts. */
export async function createVolumeMarkerExclusive (fs: DirectoryFs, root: string, text: string): Promise<boolean> {
  const tmp = join(root, `${VOLUME_MARKER_FILE}.new-${randomBytes(6).toString('hex')}`)
  crashPoint('volume-marker:write-temp')
  await fs.writeTextAtomic(tmp, text)
  try {
    crashPoint('volume-marker:link')
    await fs.moveNoReplace(tmp, join(root, VOLUME_MARKER_FILE))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    await fs.removeStaging(tmp)
    return false
  }
  crashPoint('volume-marker:sync-dir')
  await fs.syncDir(root)
  return true
}

function record (store: Store, volumeId: number, markerId: string): void {
  crashPoint('volume-marker:record')
  store.db.transaction(() => { store.volumes.recordMarker(volumeId, markerId) }).immediate()
  crashPoint('volume-marker:recorded')
}

export interface VolumeIdentityResult {
  /** null: an empty root with nothing recorded and no marker written (see `assessVolumeIdentity`). */
  markerId: string | null
  /** A new marker file was written now. */
  written: boolean
}

/**
 * Brings a volume's identity to `recorded` where cairn may do so by itself (index, receive):
 * writes a marker over a root that holds something, records this node's own unrecorded marker,
 * and refuses everything else. An empty unmarked root is refused when files were recorded
 * there (or always, with `refuseEmpty`: receive), and otherwise left unmarked (an index of a
 * new, empty volume: markerId null). `allowEmpty` (`cairn volume init`, the operator's
 * deliberate act) marks an empty root too. The volume row must exist.
 */
export async function ensureVolumeIdentity (store: Store, fs: DirectoryFs, volume: string, root: string, options: { allowEmpty?: boolean, refuseEmpty?: boolean } = {}, attempt = 0): Promise<VolumeIdentityResult> {
  const row = store.volumes.get(volume)
  if (row === undefined) throw new Error(`volume ${volume} has no row yet`)
  const id = await assessVolumeIdentity(store, fs, volume, root)
  switch (id.kind) {
    case 'recorded':
      return { markerId: id.markerId, written: false }
    case 'refused':
      throw id.error
    case 'unrecorded':
      record(store, row.id, id.markerId)
      return { markerId: id.markerId, written: false }
    case 'empty':
      if (options.allowEmpty === true) break
      // an empty root where files were recorded looks like an unmounted disk, never "all deleted"
      if (options.refuseEmpty === true || id.filesRecorded > 0) throw new VolumeRootEmptyError(volume, root, id.filesRecorded)
      return { markerId: null, written: false }
    case 'writable':
      break
  }
  const markerId = randomBytes(16).toString('hex')
  const text = formatVolumeMarker(markerId, store.nodes.self().nodeId, volume)
  if (id.kind === 'writable' && id.replacesV1) {
    // this node's own marker from before markers had ids: rewritten in place
    crashPoint('volume-marker:upgrade-v1')
    await fs.writeTextAtomic(join(root, VOLUME_MARKER_FILE), text)
  } else if (!await createVolumeMarkerExclusive(fs, root, text)) {
    // another writer created a marker first: look again (once) at what is there now
    if (attempt > 0) throw new VolumeMarkerError(volume, root, null, 'changing while it is read')
    return await ensureVolumeIdentity(store, fs, volume, root, options, attempt + 1)
  }
  record(store, row.id, markerId)
  return { markerId, written: true }
}

/**
 * The read-only check of receive (at the offer, before anything is written) and offload: the
 * refusal to answer with, or undefined when the volume may go on. Receive goes on over a
 * recorded marker and over what the marker line may write or record; offload (`needRecorded`)
 * only over a recorded marker.
 */
export async function volumeIdentityRefusal (store: Store, fs: DirectoryFs, volume: string, root: string, options: { needRecorded?: boolean } = {}): Promise<CairnError | undefined> {
  const id = await assessVolumeIdentity(store, fs, volume, root)
  switch (id.kind) {
    case 'recorded': return undefined
    case 'refused': return id.error
    case 'empty': return id.filesRecorded > 0 || options.needRecorded !== true ? new VolumeRootEmptyError(volume, root, id.filesRecorded) : new VolumeNotInitializedError(volume, root)
    case 'unrecorded':
    case 'writable':
      return options.needRecorded === true ? new VolumeNotInitializedError(volume, root) : undefined
  }
}
