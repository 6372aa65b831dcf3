/**
 * A receiving node's volume root carries `.cairn-volume` (its node id and volume name), so no
 * other node's directory push can write into it as if it were a destination tree (DESIGN
 * invariant 24: one physical copy counts once). Written on the first receive; a receive into a
 * volume that lies inside a destination's tree (a `.cairn-destination` above it) is refused.
 *
 * This is the first half of the volume identity of issue 14 (which also refuses a receive when
 * the marker goes missing: an unmounted disk).
 */
import { dirname, join } from 'node:path'
import type { DirectoryFs } from './directory-fs.js'

export const VOLUME_MARKER_FILE = '.cairn-volume'
const DESTINATION_MARKER_FILE = '.cairn-destination'

/** The destination root above `dir`, if `dir` lies inside a destination's tree. */
export async function destinationAbove (fs: DirectoryFs, dir: string): Promise<string | undefined> {
  for (let d = dir; ; d = dirname(d)) {
    if (await fs.lstat(join(d, DESTINATION_MARKER_FILE)) !== undefined) return d
    if (dirname(d) === d) return undefined
  }
}

/** Writes the volume marker when it is absent (idempotent; a concurrent writer writes the same). */
export async function ensureVolumeMarker (fs: DirectoryFs, volumeRoot: string, nodeId: string, volume: string): Promise<void> {
  const path = join(volumeRoot, VOLUME_MARKER_FILE)
  if (await fs.lstat(path) !== undefined) return
  await fs.writeTextAtomic(path, `cairn-volume-v1\n${nodeId}\nvolume ${volume}\n`)
}
