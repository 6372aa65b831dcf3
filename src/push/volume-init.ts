/**
 * `cairn volume init NAME [--reset]`: the operator's explicit act that gives a volume root its
 * identity marker over the tree as it is (docs/volumes.md). Unlike an index, it marks an empty
 * root too: the operator says this directory is the volume, not a bare mount point.
 *
 * `--reset` is the one way to replace a recorded marker (a volume moved to a new or reformatted
 * disk): an audited `reset` run forgets the recorded id and records the one now at the root —
 * this node's own marker for the volume if one is there, else a new one. A marker that names
 * another node or another volume is never written over.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { VolumeConfig } from '../config/types.js'
import { crashPoint } from '../crash-point.js'
import { VolumeMarkerError } from '../errors.js'
import type { Store } from '../store/store.js'
import type { DirectoryFs } from './directory-fs.js'
import { assessVolumeIdentity, createVolumeMarkerExclusive, ensureVolumeIdentity, formatVolumeMarker, readVolumeMarker, rootHoldsSomething, VOLUME_MARKER_FILE } from './volume-marker.js'

export interface VolumeInitResult {
  volume: string
  path: string
  markerId: string
  /** A marker file was written now (false: the marker there was recorded, or taken back). */
  written: boolean
  /** The marker was recorded before this command (nothing changed). */
  alreadyRecorded: boolean
  /** The root held nothing but cairn's own names when it was marked. */
  emptyRoot: boolean
  /** Files recorded as present there (an empty root with some: the next index marks them missing). */
  filesRecorded: number
  /** Set by --reset when it replaced a recorded marker. */
  reset: { runId: number, previousMarkerId: string } | null
}

export async function initVolume (store: Store, fs: DirectoryFs, volume: VolumeConfig, options: { reset?: boolean } = {}): Promise<VolumeInitResult> {
  const row = store.volumes.ensure(volume.name, volume.path)
  const assessed = await assessVolumeIdentity(store, fs, volume.name, volume.path)
  // a root that is missing or not a directory is refused before anything else is looked at
  if (assessed.kind === 'refused' && assessed.error.name === 'VolumeRootMissingError') throw assessed.error
  const emptyRoot = !await rootHoldsSomething(volume.path)
  const filesRecorded = store.volumes.countPresentFiles(row.id)
  const base = { volume: volume.name, path: volume.path, emptyRoot, filesRecorded }
  const recorded = row.markerId
  if (options.reset !== true || recorded === null || assessed.kind === 'recorded') {
    const r = await ensureVolumeIdentity(store, fs, volume.name, volume.path, { allowEmpty: true })
    if (r.markerId === null) throw new Error('volume init left the root unmarked')
    return { ...base, markerId: r.markerId, written: r.written, alreadyRecorded: assessed.kind === 'recorded', reset: null }
  }

  // --reset over a recorded marker that is missing or changed
  const self = store.nodes.self().nodeId
  const found = await readVolumeMarker(fs, volume.path)
  let markerId: string
  let written = false
  if (found.kind === 'v2' && found.ownerNodeId === self && found.volume === volume.name) {
    markerId = found.markerId
  } else if (found.kind === 'none') {
    markerId = randomBytes(16).toString('hex')
    if (!await createVolumeMarkerExclusive(fs, volume.path, formatVolumeMarker(markerId, self, volume.name))) {
      throw new VolumeMarkerError(volume.name, volume.path, null, 'changing while it is read')
    }
    written = true
  } else if (found.kind === 'v1' && found.ownerNodeId === self && found.volume === volume.name) {
    markerId = randomBytes(16).toString('hex')
    crashPoint('volume-marker:upgrade-v1')
    await fs.writeTextAtomic(join(volume.path, VOLUME_MARKER_FILE), formatVolumeMarker(markerId, self, volume.name))
    written = true
  } else {
    // another node's or another volume's marker, or an unreadable one: never written over
    const d = found.kind === 'unreadable' ? { id: 'unreadable', owner: null, vol: null } : found.kind === 'v2' ? { id: found.markerId, owner: found.ownerNodeId, vol: found.volume } : found.kind === 'v1' ? { id: 'an old marker with no id', owner: found.ownerNodeId, vol: found.volume } : { id: null, owner: null, vol: null }
    throw new VolumeMarkerError(volume.name, volume.path, null, d.id, d.owner, d.vol, d.owner === null ? null : store.nodes.byNodeId(d.owner)?.name ?? null)
  }
  crashPoint('volume-reset:record')
  const runId = store.db.transaction((): number => {
    const run = store.runs.begin({ kind: 'reset', volumeId: row.id, detail: { action: 'volume-reset', volume: volume.name, previous_marker_id: recorded } })
    store.volumes.forgetMarker(row.id)
    store.volumes.recordMarker(row.id, markerId)
    store.runs.finish(run.id, 'success', { detail: { marker_id: markerId, marker_written: written, empty_root: emptyRoot, files_recorded: filesRecorded } })
    return run.id
  }).immediate()
  crashPoint('volume-reset:recorded')
  return { ...base, markerId, written, alreadyRecorded: false, reset: { runId, previousMarkerId: recorded } }
}
