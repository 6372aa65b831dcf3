/**
 * A directory destination's identity: `<root>/.cairn-destination` holds a random id written on
 * the first push and recorded in the database. A marker that is missing or different from the
 * recorded one refuses the push (DESIGN invariant 14): the disk is not the one the evidence is
 * about. Only `cairn destination reset` forgets the recorded id; the next push then adopts the
 * marker it finds, or writes a new one when there is none.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DestinationMarkerError, DestinationUnavailableError } from '../errors.js'
import type { Store } from '../store/store.js'
import type { DirectoryFs } from './directory-fs.js'

export const MARKER_FILE = '.cairn-destination'
const HEADER = 'cairn-destination-v1'

function parse (text: string | undefined): string | null {
  if (text === undefined) return null
  const lines = text.split('\n').map(l => l.trim())
  return lines[0] === HEADER && /^[0-9a-f]{32}$/.test(lines[1] ?? '') ? (lines[1] as string) : 'unreadable'
}

/** Checks the destination root and its marker; creates and records a marker on first use. */
export async function ensureDestinationIdentity (store: Store, fs: DirectoryFs, destination: string, root: string): Promise<{ markerId: string, created: boolean }> {
  const info = await fs.lstat(root)
  if (info === undefined) throw new DestinationUnavailableError(destination, root, 'does not exist')
  if (info.kind !== 'dir') throw new DestinationUnavailableError(destination, root, 'is not a directory')
  const recorded = store.destinations.get(destination)?.markerId ?? null
  const found = parse(await fs.readText(join(root, MARKER_FILE)))
  if (recorded !== null) {
    if (found !== recorded) throw new DestinationMarkerError(destination, root, recorded, found)
    return { markerId: recorded, created: false }
  }
  const localEvidence = store.vector.listAll().some(c => c.destination === destination && c.sourceNodeId === null)
  if (localEvidence) throw new DestinationMarkerError(destination, root, null, found ?? 'none')
  if (found !== null && found !== 'unreadable') {
    store.destinations.insert(destination, found)
    return { markerId: found, created: false }
  }
  const markerId = randomBytes(16).toString('hex')
  await fs.writeTextAtomic(join(root, MARKER_FILE), `${HEADER}\n${markerId}\n`)
  store.destinations.insert(destination, markerId)
  return { markerId, created: true }
}
